package controlplane_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/client"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/store"
	svix "github.com/svix/svix-webhooks/go"
	"golang.org/x/crypto/bcrypt"
)

const adminKey = "bootstrap-admin-key-for-tests"

// plane is the control plane on the memory store, wired to a mock
// identity platform (personas + mock Clerk) as ssokit demo wires it.
type plane struct {
	mock  *mockidp.Server
	clerk *mockidp.Clerk
	app   *httptest.Server
	st    *store.Memory
	admin *client.Client
	api   *controlplane.API
}

func newPlane(t *testing.T) *plane { t.Helper(); return newPlaneWith(t, nil, nil) }

func newPlaneWith(t *testing.T, modMock func(*mockidp.Config), modAPI func(*controlplane.Config)) *plane {
	t.Helper()
	mcfg := mockidp.DefaultConfig()
	if modMock != nil {
		modMock(&mcfg)
	}
	mock := mockidp.Start(t, mcfg)
	c := mock.Clerk("clerk")
	c.SetWebhookRetryBase(10 * time.Millisecond)
	st, _ := store.NewMemory(store.MemoryConfig{})
	p := &plane{mock: mock, clerk: c, st: st}
	var h http.Handler = http.NotFoundHandler()
	p.app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(p.app.Close)
	stateKey := make([]byte, 32)
	rand.Read(stateKey)
	acfg := controlplane.Config{AppURL: p.app.URL, StateKey: stateKey, Store: p.st, EphemeralSessionKey: true, InsecureCookie: true,
		Clerk:          clerkauth.Config{PublishableKey: c.PublishableKey(), SecretKey: c.SecretKey(), APIURL: c.BackendAPIURL(), InsecureHTTPLoopback: true},
		ClerkSignInURL: c.SignInURL(), HTTPClient: mock.Client(), WebhookSecret: c.WebhookSigningSecret(), BootstrapAdminKey: adminKey,
		InsecureAllowLoopbackIdP: true} // direct connections reach the mock on 127.0.0.1
	if modAPI != nil {
		modAPI(&acfg)
	}
	plane, err := controlplane.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	h, p.api = plane, plane
	c.SetWebhooks(p.app.URL + "/webhooks/clerk")
	p.admin = newClient(t, p.app.URL, adminKey, nil)
	ctx := context.Background()
	// Acme signs in through Okta (SAML), Contoso through Azure AD (OIDC).
	for _, o := range []struct{ id, clerkOrg, domain, plan string }{{"acme", "org_acme", "acme.test", "enterprise"}, {"contoso", "org_contoso", "contoso.test", "growth"}} {
		if _, err := p.admin.Organizations.Create(ctx, o.id, o.id, o.plan); err != nil {
			t.Fatal(err)
		}
		groupRoles := []api.GroupRule{{Group: "admins", Role: "admin"}, {Group: "engineering", Role: "editor"}}
		if o.id == "contoso" { // Azure sends group object IDs
			az := mock.Persona("azure")
			groupRoles = []api.GroupRule{{Group: az.GroupIDs("admins")[0], Role: "admin"}, {Group: az.GroupIDs("engineering")[0], Role: "editor"}}
		}
		if _, err := p.admin.Organizations.ConfigureSSO(ctx, o.id, api.SSOSettings{ClerkOrgID: o.clerkOrg, AllowedDomains: []string{o.domain},
			DefaultRole: "viewer", AutoCreateUsers: true, GroupRoles: groupRoles}); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// browser signs a person in as a browser would (without JavaScript:
// following redirects and posting the SAML auto-submit form) and returns a
// client holding the app's cookie.
func (p *plane) browser(t *testing.T, email string) (*client.Client, *http.Client, int) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := p.mock.Client()
	hc.Jar = jar
	resp, err := mockidp.Browse(hc, p.app.URL+"/auth/sso/start?"+url.Values{"email": {email}, "return_to": {"/v1/auth/whoami"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return newClient(t, p.app.URL, "", hc), hc, resp.StatusCode
}

// newClient is a client of the plane's API with bearer (may be empty) and
// hc (nil: the default client).
func newClient(t testing.TB, baseURL, bearer string, hc *http.Client) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{BaseURL: baseURL, Token: bearer, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSSOThroughClerkEndToEnd(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	ctx := context.Background()
	// Before anyone signs in, the status names the provider of the Clerk
	// organization's enterprise connection.
	if st, err := p.admin.Organizations.SSOStatus(ctx, "acme"); err != nil || st.Provider != "okta" || st.LastLogin != nil {
		t.Fatalf("status before any sign-in %+v %v", st, err)
	}
	for _, tc := range []struct{ email, org, role, idp string }{
		{"alice@acme.test", "acme", "admin", "okta"},          // Okta SAML, admins
		{"bob@acme.test", "acme", "editor", "okta"},           // engineering
		{"carol@acme.test", "acme", "viewer", "okta"},         // no rule: default
		{"bob@contoso.test", "contoso", "editor", "azure_ad"}, // Azure OIDC, group object IDs
	} {
		t.Run(tc.email, func(t *testing.T) {
			c, _, status := p.browser(t, tc.email)
			if status != 200 {
				t.Fatalf("sign-in ended with %d", status)
			}
			me, err := c.Auth.WhoAmI(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if me.Email != tc.email || me.OrgID != tc.org || me.Role != tc.role || me.AuthMethod != "sso" || me.IdPName != tc.idp || me.UserID == "" {
				t.Fatalf("whoami %+v", me)
			}
			// user_id is the app's ID of the person, the one the users API
			// takes; the Clerk user has its own field.
			if !strings.HasPrefix(me.ClerkUserID, "user_") || me.UserID == me.ClerkUserID || me.APIKeyID != "" {
				t.Fatalf("whoami IDs %+v", me)
			}
			users, err := p.admin.Organizations.Users(ctx, tc.org)
			if err != nil || !slices.ContainsFunc(users, func(u api.User) bool { return u.ID == me.UserID && u.ClerkUserID == me.ClerkUserID }) {
				t.Fatalf("whoami user_id %q is not a user of %s: %+v %v", me.UserID, tc.org, users, err)
			}
		})
	}
	st, err := p.admin.Organizations.SSOStatus(ctx, "acme")
	if err != nil || !st.SSOEnabled || st.Provider != "okta" || st.ConnectionState != "active" || st.LastLogin == nil || st.TotalSSOUsers != 3 {
		t.Fatalf("status %+v %v", st, err)
	}
}

func TestRequireSSOPasswordAndAPIKeys(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	ctx := context.Background()
	hash, _ := bcrypt.GenerateFromPassword([]byte("hunter2hunter2"), bcrypt.MinCost)
	p.st.CreateUserIfAbsent(ctx, store.User{ID: "usr_pw", OrgID: "acme", Email: "ops@acme.test", Role: "admin", PasswordHash: string(hash), Source: "password"})
	jar, _ := cookiejar.New(nil)
	pw := newClient(t, p.app.URL, "", &http.Client{Jar: jar})
	if me, err := pw.Auth.Login(ctx, "acme", "ops@acme.test", "hunter2hunter2"); err != nil || me.AuthMethod != "password" || me.UserID != "usr_pw" {
		t.Fatalf("password login: %v", err)
	}
	key, err := pw.APIKeys.Create(ctx, "acme", "deploy-bot", "editor", time.Time{})
	if err != nil || !strings.HasPrefix(key.Key, "ssk_live_") {
		t.Fatalf("key: %v", err)
	}
	// A key reads back exactly as it was returned at creation.
	if keys, err := pw.APIKeys.List(ctx, "acme"); err != nil || len(keys) != 1 || keys[0] != key.APIKey || key.CreatedAt.IsZero() {
		t.Fatalf("listed keys %+v, created %+v: %v", keys, key.APIKey, err)
	}
	bot := newClient(t, p.app.URL, key.Key, nil)
	if me, err := bot.Auth.WhoAmI(ctx); err != nil || me.AuthMethod != "api_key" || me.Role != "editor" || me.APIKeyID != key.ID || me.UserID != "" {
		t.Fatalf("bot: %v %+v", err, me)
	}
	// require_sso: the password session stops, password login is refused,
	// the API key goes on.
	yes := true
	if _, err := p.admin.Organizations.Update(ctx, "acme", api.UpdateOrgRequest{RequireSSO: &yes}); err != nil {
		t.Fatal(err)
	}
	var e *client.Error
	if _, err := pw.Auth.WhoAmI(ctx); !errors.As(err, &e) || e.Code != "sso_required" || e.Status != 401 {
		t.Fatalf("password session under require_sso: %v", err)
	}
	if _, err := pw.Auth.Login(ctx, "acme", "ops@acme.test", "hunter2hunter2"); !errors.As(err, &e) || e.Code != "sso_required" {
		t.Fatalf("password login under require_sso: %v", err)
	}
	if _, err := bot.Auth.WhoAmI(ctx); err != nil {
		t.Fatalf("API key under require_sso: %v", err)
	}
	if c, _, _ := p.browser(t, "alice@acme.test"); true {
		if _, err := c.Auth.WhoAmI(ctx); err != nil {
			t.Fatalf("SSO under require_sso: %v", err)
		}
	}
	off := true
	p.admin.Organizations.Update(ctx, "acme", api.UpdateOrgRequest{DisableAPIKeyAuth: &off})
	if _, err := bot.Auth.WhoAmI(ctx); !errors.As(err, &e) || e.Code != "api_key_auth_disabled" {
		t.Fatalf("disabled API keys: %v", err)
	}
	// Plans: SSO on a free plan is refused; a viewer cannot configure SSO.
	p.admin.Organizations.Create(ctx, "freebie", "Freebie", "free")
	if _, err := p.admin.Organizations.ConfigureSSO(ctx, "freebie", api.SSOSettings{ClerkOrgID: "org_x", AllowedDomains: []string{"x.test"}}); !errors.As(err, &e) || e.Code != "plan_not_entitled" {
		t.Fatalf("free plan: %v", err)
	}
	carol, _, _ := p.browser(t, "carol@acme.test")
	if _, err := carol.Organizations.SSOStatus(ctx, "acme"); !errors.As(err, &e) || e.Status != 403 {
		t.Fatalf("a viewer read admin settings: %v", err)
	}
}

func TestMembershipDeletedByWebhook(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	ctx := context.Background()
	bob, _, _ := p.browser(t, "bob@acme.test")
	if _, err := bob.Auth.WhoAmI(ctx); err != nil {
		t.Fatal(err)
	}
	// An administrator removes bob from the Clerk organization: Clerk's
	// webhook reaches the app and bob's next request is refused.
	users, _ := p.st.ListUsers(ctx, "acme")
	var clerkID string
	for _, u := range users {
		if u.Email == "bob@acme.test" {
			clerkID = u.ClerkUserID
		}
	}
	req, _ := http.NewRequest("DELETE", p.clerk.BackendAPIURL()+"/organizations/org_acme/memberships/"+clerkID, nil)
	req.Header.Set("Authorization", "Bearer "+p.clerk.SecretKey())
	resp, err := p.mock.Client().Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("delete membership: %v %v", err, resp.StatusCode)
	}
	resp.Body.Close()
	p.clerk.Wait()
	var e *client.Error
	if _, err := bob.Auth.WhoAmI(ctx); !errors.As(err, &e) || e.Code != "session_revoked" {
		t.Fatalf("after the membership was deleted: %v", err)
	}
	for _, d := range p.clerk.Deliveries() {
		if !d.Delivered {
			t.Errorf("delivery not accepted by the app: %+v", d)
		}
	}
}

// TestWebhookRefusals: a webhook is applied only with a valid svix
// signature over its id, timestamp and body, a timestamp within five
// minutes (each case below is correctly signed but for the one thing it
// names), and once per svix-id.
func TestWebhookRefusals(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	wh, err := svix.NewWebhook(p.clerk.WebhookSigningSecret())
	if err != nil {
		t.Fatal(err)
	}
	other, _ := svix.NewWebhook("whsec_" + base64.StdEncoding.EncodeToString([]byte("another-secret-another-secret!!")))
	body := `{"type":"user.deleted","data":{"id":"user_nobody"}}`
	signed := func(w *svix.Webhook, id string, at time.Time, payload string) map[string]string {
		sig, err := w.Sign(id, at, []byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		return map[string]string{"svix-id": id, "svix-timestamp": fmt.Sprint(at.Unix()), "svix-signature": sig}
	}
	post := func(h map[string]string, payload string) (int, string) {
		req, _ := http.NewRequest("POST", p.app.URL+"/webhooks/clerk", strings.NewReader(payload))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e api.Error
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		return resp.StatusCode, e.Code
	}
	now := time.Now()
	for name, tc := range map[string]struct {
		h       map[string]string
		payload string
	}{
		"unsigned":           {map[string]string{}, body},
		"garbage signature":  {map[string]string{"svix-id": "msg_1", "svix-timestamp": fmt.Sprint(now.Unix()), "svix-signature": "v1,AAAA"}, body},
		"another secret":     {signed(other, "msg_2", now, body), body},
		"stale, well signed": {signed(wh, "msg_3", now.Add(-6*time.Minute), body), body},
		"from the future":    {signed(wh, "msg_4", now.Add(6*time.Minute), body), body},
		"body changed":       {signed(wh, "msg_5", now, body), strings.Replace(body, "nobody", "alice", 1)},
		"id changed":         {func() map[string]string { h := signed(wh, "msg_6", now, body); h["svix-id"] = "msg_7"; return h }(), body},
		"timestamp changed": {func() map[string]string {
			h := signed(wh, "msg_8", now, body)
			h["svix-timestamp"] = fmt.Sprint(now.Unix() - 1)
			return h
		}(), body},
		"v1a scheme only": {func() map[string]string {
			h := signed(wh, "msg_9", now, body)
			h["svix-signature"] = "v1a," + h["svix-signature"][3:]
			return h
		}(), body},
	} {
		want := "invalid_signature"
		if strings.HasPrefix(name, "stale") || name == "from the future" {
			want = "stale_webhook"
		}
		if status, code := post(tc.h, tc.payload); status != 401 || code != want {
			t.Errorf("%s: %d %s", name, status, code)
		}
	}
	// A well-signed event is applied once; its redelivery is acknowledged
	// and not applied again.
	good := signed(wh, "msg_ok", now, body)
	if status, _ := post(good, body); status != 204 {
		t.Fatalf("a good webhook: %d", status)
	}
	if status, _ := post(good, body); status != 200 {
		t.Fatalf("its redelivery: %d", status)
	}
}
