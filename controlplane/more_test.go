package controlplane_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/client"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
)

// TestDirectSSOAndConnectionTest: an organization with its own IdP
// connection (no Clerk): SSO start goes straight to the persona, the ACS
// admits the person, and the test-connection endpoint reports the steps.
func TestDirectSSOAndConnectionTest(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	ctx := context.Background()
	// The control plane reaches the mock with its own client.
	okta, conn := initechSAML(t, p, "")
	entity, acs := conn.SAML.EntityID, conn.SAML.ACSURL
	okta.QueueUser("alice@initech.test")
	jar, _ := cookiejar.New(nil)
	hc := p.mock.Client()
	hc.Jar = jar
	resp, err := mockidp.Browse(hc, p.app.URL+"/auth/sso/start?org=initech&return_to=/v1/auth/whoami")
	if err != nil {
		t.Fatal(err)
	}
	var me api.Whoami
	json.Unmarshal([]byte(readAll(resp)), &me)
	if me.Email != "alice@initech.test" || me.OrgID != "initech" || me.AuthMethod != "sso" || me.IdPName != "onelogin" {
		t.Fatalf("direct SSO whoami %+v", me)
	}
	st, err := p.admin.Organizations.SSOStatus(ctx, "initech")
	if err != nil || st.Provider != "onelogin" || st.ConnectionState != "active" || !st.SSOEnabled {
		t.Fatalf("status %+v %v", st, err)
	}
	rep, err := p.admin.Organizations.TestSSO(ctx, "initech")
	if err != nil || !rep.OK || len(rep.Steps) < 2 || rep.Identity != nil {
		t.Fatalf("test connection %+v", rep)
	}
	// A connection that does not validate is refused before it is saved.
	bad := *conn
	bad.SAML = &idp.SAMLSettings{IDPMetadataURL: p.mock.URL + "/nope", EntityID: entity, ACSURL: acs}
	var e *client.Error
	if _, err := p.admin.Organizations.ConfigureSSO(ctx, "initech", api.SSOSettings{Connection: rawJSON(t, &bad), AllowedDomains: []string{"initech.test"}}); !errors.As(err, &e) || e.Code != "invalid_connection" {
		t.Fatalf("bad connection: %v", err)
	}
}

// rawJSON is v as JSON.
func rawJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

func TestLogoutRevokesClerkSession(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	ctx := context.Background()
	c, _, _ := p.browser(t, "alice@acme.test")
	if err := c.Auth.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	var e *client.Error
	if _, err := c.Auth.WhoAmI(ctx); !errors.As(err, &e) || e.Status != 401 {
		t.Fatalf("after logout: %v", err)
	}
	revoked := false
	for _, d := range p.clerk.Deliveries() {
		if d.Type == "session.revoked" {
			revoked = true
		}
	}
	p.clerk.Wait()
	if !revoked {
		t.Fatal("the Clerk session was not revoked through the Backend API")
	}
}

func TestWebhookRoleUpdateAndProvisioning(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	ctx := context.Background()
	// contoso without group rules: roles come from clerk_role_map.
	p.admin.Organizations.ConfigureSSO(ctx, "contoso", api.SSOSettings{ClerkOrgID: "org_contoso", AllowedDomains: []string{"contoso.test"},
		DefaultRole: "viewer", AutoCreateUsers: true, ClerkRoleMap: map[string]string{"org:admin": "admin", "org:member": "viewer"}})
	bob, _, _ := p.browser(t, "bob@contoso.test")
	me, err := bob.Auth.WhoAmI(ctx)
	if err != nil || me.Role != "viewer" {
		t.Fatalf("before: %v %+v", err, me)
	}
	users, _ := p.st.ListUsers(ctx, "contoso")
	req, _ := http.NewRequest("PATCH", p.clerk.BackendAPIURL()+"/organizations/org_contoso/memberships/"+users[0].ClerkUserID, strings.NewReader(`{"role":"org:admin"}`))
	req.Header.Set("Authorization", "Bearer "+p.clerk.SecretKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.mock.Client().Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("membership update: %v", err)
	}
	resp.Body.Close()
	p.clerk.Wait()
	if u, _ := p.st.GetUser(ctx, users[0].ID); u.Role != "admin" {
		t.Fatalf("role after the webhook: %s", u.Role)
	}
	var e *client.Error
	if _, err := bob.Auth.WhoAmI(ctx); !errors.As(err, &e) || e.Code != "session_revoked" {
		t.Fatalf("the session carrying the old role went on: %v", err)
	}
}

func TestAPIHygiene(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	post := func(path, body string, hdr map[string]string) (int, string) {
		req, _ := http.NewRequest("PUT", p.app.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminKey)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Error string }
		json.Unmarshal([]byte(readAll(resp)), &e)
		return resp.StatusCode, e.Error
	}
	if s, code := post("/v1/organizations/acme/sso", `{"clerk_org_id":"org_acme","allowed_domains":["acme.test"],"colour":"red"}`, nil); s != 400 || code != "invalid_json" {
		t.Errorf("unknown field: %d %s", s, code)
	}
	if s, code := post("/v1/organizations/acme/sso", `{"clerk_org_id":"`+strings.Repeat("x", 300<<10)+`"}`, nil); s != 413 || code != "too_large" {
		t.Errorf("large body: %d %s", s, code)
	}
	if s, code := post("/v1/organizations/acme/sso", `{"clerk_org_id":"org_acme","allowed_domains":["acme.test"],"default_role":"god"}`, nil); s != 422 || code != "invalid_settings" {
		t.Errorf("undefined role: %d %s", s, code)
	}
	if s, code := post("/v1/organizations/contoso/sso", `{"clerk_org_id":"org_acme","allowed_domains":["contoso.test"]}`, nil); s != 409 || code != "clerk_org_taken" {
		t.Errorf("a Clerk org mapped twice: %d %s", s, code)
	}
	// A cross-site state-changing request is refused before it is handled.
	if s, _ := post("/v1/organizations/acme", `{}`, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}); s != 403 {
		t.Errorf("cross-site write: %d", s)
	}
	// An unknown token and no token.
	req, _ := http.NewRequest("GET", p.app.URL+"/v1/auth/whoami", nil)
	resp, _ := http.DefaultClient.Do(req)
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no credentials: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

// A Clerk session token without an email claim: the email comes from the
// Backend API (GET /v1/users/{id}).
func TestEmailFromBackendAPI(t *testing.T) {
	t.Parallel()
	p := newPlaneWith(t, func(c *mockidp.Config) {
		c.Clerk[0].Claims = map[string]string{"groups": "{{user.public_metadata.groups}}", "idp": "{{session.idp}}"}
	}, nil)
	c, _, _ := p.browser(t, "alice@acme.test")
	me, err := c.Auth.WhoAmI(context.Background())
	if err != nil || me.Email != "alice@acme.test" || me.Role != "admin" {
		t.Fatalf("whoami %+v %v", me, err)
	}
}

// organization.created provisions the mapped app organization when
// auto-provisioning is on.
func TestOrganizationProvisioning(t *testing.T) {
	t.Parallel()
	p := newPlaneWith(t, nil, func(c *controlplane.Config) { c.AutoProvisionOrgs = true })
	req, _ := http.NewRequest("POST", p.clerk.BackendAPIURL()+"/organizations", strings.NewReader(`{"name":"Globex","slug":"globex"}`))
	req.Header.Set("Authorization", "Bearer "+p.clerk.SecretKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.mock.Client().Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("create: %v", err)
	}
	var o struct{ ID string }
	json.Unmarshal([]byte(readAll(resp)), &o)
	p.clerk.Wait()
	org, err := p.st.GetOrg(context.Background(), "globex")
	if err != nil || org.ClerkOrgID != o.ID || org.Plan != "growth" {
		t.Fatalf("provisioned org %+v %v", org, err)
	}
}

// The SSO callback refuses a forged, tampered, stale, reused or
// foreign state and a bad session token, as JSON for programs and as an
// HTML page for browsers. The state is bound to the browser that started
// the sign-in (a nonce cookie): a state handed to another browser (login
// CSRF: an attacker's sign-in completed in the victim's browser) is
// refused.
func TestSSOCallbackRefusals(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64
	p := newPlaneWith(t, nil, func(c *controlplane.Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	})
	// start begins a sign-in in a new browser and returns it and its state.
	start := func() (*http.Client, string) {
		jar, _ := cookiejar.New(nil)
		b := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := b.Get(p.app.URL + "/auth/sso/start?email=alice%40acme.test&return_to=/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		signIn, _ := url.Parse(resp.Header.Get("Location"))
		callback, _ := url.Parse(signIn.Query().Get("redirect_url"))
		state := callback.Query().Get("state")
		if resp.StatusCode != http.StatusFound || state == "" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("start: %d %s %v", resp.StatusCode, resp.Header.Get("Location"), resp.Header)
		}
		return b, state
	}
	// get calls the callback with the state and, when token is not empty,
	// Clerk's cookies on the app's host as Clerk's handshake leaves them:
	// the session token, the client's last sign-in time and (a development
	// instance) the dev browser.
	get := func(b *http.Client, state, token, accept string) (int, string, string) {
		req, _ := http.NewRequest("GET", p.app.URL+"/auth/sso/callback?"+url.Values{"state": {state}}.Encode(), nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		if token != "" {
			req.AddCookie(&http.Cookie{Name: "__session", Value: token})
			req.AddCookie(&http.Cookie{Name: "__client_uat", Value: strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10)})
			req.AddCookie(&http.Cookie{Name: "__clerk_db_jwt", Value: "dvb_test"})
		}
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), readAll(resp)
	}
	good, err := p.clerk.MintSessionToken("alice@acme.test", "org_acme", "admin", p.app.URL)
	if err != nil {
		t.Fatal(err)
	}
	tamper := func(s string) string {
		b := []byte(s)
		i := len(b) / 2
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	stranger := &http.Client{}
	for _, tc := range []struct {
		name   string
		call   func() (int, string, string)
		html   bool
		status int
		code   string
	}{
		{"no state", func() (int, string, string) { b, _ := start(); return get(b, "", "x", "") }, false, 400, "invalid_state"},
		{"forged state", func() (int, string, string) { b, _ := start(); return get(b, "Lw.AAAAAAAAAAAAAAAAAAAAAA", "x", "") }, false, 400, "invalid_state"},
		{"tampered state", func() (int, string, string) { b, st := start(); return get(b, tamper(st), "x", "") }, false, 400, "invalid_state"},
		{"another browser's state", func() (int, string, string) { _, st := start(); return get(stranger, st, "x", "") }, false, 400, "invalid_state"},
		{"state of one browser, nonce of another", func() (int, string, string) {
			b, _ := start()
			_, st := start()
			return get(b, st, "x", "")
		}, false, 400, "invalid_state"},
		{"state used twice", func() (int, string, string) {
			b, st := start()
			if status, _, body := get(b, st, good, ""); status != http.StatusFound {
				t.Fatalf("first use: %d %s", status, body)
			}
			return get(b, st, good, "")
		}, false, 400, "invalid_state"},
		{"state and its cookie replayed", func() (int, string, string) {
			b, st := start()
			u, _ := url.Parse(p.app.URL + "/auth/sso/")
			cookies := b.Jar.Cookies(u)
			if status, _, body := get(b, st, good, ""); status != http.StatusFound {
				t.Fatalf("first use: %d %s", status, body)
			}
			jar, _ := cookiejar.New(nil)
			jar.SetCookies(u, cookies) // the attacker kept a copy of the cookie
			return get(&http.Client{Jar: jar, CheckRedirect: b.CheckRedirect}, st, good, "")
		}, false, 400, "invalid_state"},
		{"good state, bad token", func() (int, string, string) { b, st := start(); return get(b, st, "not-a-token", "") }, false, 401, "invalid_token"},
		{"good state, no Clerk session", func() (int, string, string) { b, st := start(); return get(b, st, "", "") }, false, 401, "clerk_signed_out"},
		{"browser gets a page", func() (int, string, string) {
			b, st := start()
			return get(b, tamper(st), "x", "text/html,application/xhtml+xml")
		}, true, 400, "invalid_state"},
	} {
		status, ctype, body := tc.call()
		if status != tc.status || !strings.Contains(body, tc.code) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
		if html := strings.HasPrefix(ctype, "text/html"); html != tc.html {
			t.Errorf("%s: Content-Type %q", tc.name, ctype)
		}
	}
	// The state lives ten minutes.
	b, st := start()
	offset.Store(int64(11 * time.Minute))
	if status, _, body := get(b, st, good, ""); status != 400 || !strings.Contains(body, "invalid_state") {
		t.Errorf("stale state: %d %s", status, body)
	}
}

// TestWhoamiWithClerkToken: with a Clerk session token as the Bearer
// credential, whoami's user_id is still the app's ID of the person (the
// one the users API takes), and the Clerk user is clerk_user_id.
func TestWhoamiWithClerkToken(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	ctx := context.Background()
	cookie, _, _ := p.browser(t, "alice@acme.test")
	viaCookie, err := cookie.Auth.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := p.clerk.MintSessionToken("alice@acme.test", "org_acme", "admin", p.app.URL)
	if err != nil {
		t.Fatal(err)
	}
	viaToken, err := newClient(t, p.app.URL, tok, nil).Auth.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if viaToken.UserID != viaCookie.UserID || viaToken.ClerkUserID == "" || viaToken.ClerkUserID != viaCookie.ClerkUserID || viaToken.UserID == viaToken.ClerkUserID {
		t.Fatalf("whoami by Clerk token %+v, by cookie %+v", viaToken, viaCookie)
	}
	if _, err := p.admin.Organizations.SetRole(ctx, "acme", viaToken.UserID, "editor"); err != nil {
		t.Fatalf("the users API refuses whoami's user_id: %v", err)
	}
}

// bearerTransport adds a Bearer credential to requests for one host.
type bearerTransport struct {
	host, token string
	next        http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == b.host {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.next.RoundTrip(r)
}

// TestTestSignIn: an admin's browser runs a real sign-in through the direct
// connection and gets the normalized identity back; nobody is admitted and
// no session starts. The public start cannot begin a test sign-in.
func TestTestSignIn(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	ctx := context.Background()
	persona := p.mock.Persona("onelogin")
	entity, acs := p.app.URL+"/saml/initech", p.app.URL+"/auth/sso/acs/initech"
	persona.RegisterServiceProvider(mockidp.ServiceProviderConfig{EntityID: entity, ACSURL: acs})
	p.admin.Organizations.Create(ctx, "initech", "Initech", "enterprise")
	conn := &idp.Connection{ID: "initech", Protocol: sso.SAML, Vendor: sso.OneLogin,
		SAML: &idp.SAMLSettings{IDPMetadataURL: persona.SAMLMetadataURL(), EntityID: entity, ACSURL: acs,
			// A new OneLogin app signs with SHA-1, which the administrator allows here.
			AllowSHA1: true}}
	if _, err := p.admin.Organizations.ConfigureSSO(ctx, "initech", api.SSOSettings{Connection: rawJSON(t, conn), AllowedDomains: []string{"initech.test"},
		DefaultRole: "viewer", AutoCreateUsers: true}); err != nil {
		t.Fatal(err)
	}
	app, _ := url.Parse(p.app.URL)
	browser := func(bearer string) *http.Client {
		jar, _ := cookiejar.New(nil)
		hc := p.mock.Client()
		hc.Jar = jar
		if bearer != "" {
			next := hc.Transport
			if next == nil {
				next = http.DefaultTransport
			}
			hc.Transport = bearerTransport{host: app.Host, token: bearer, next: next}
		}
		return hc
	}

	persona.QueueUser("bob@initech.test")
	hc := browser(adminKey)
	resp, err := mockidp.Browse(hc, p.app.URL+"/v1/organizations/initech/sso/test/start")
	if err != nil {
		t.Fatal(err)
	}
	var rep api.SSOTestReport
	if body := readAll(resp); json.Unmarshal([]byte(body), &rep) != nil || resp.StatusCode != 200 {
		t.Fatalf("test sign-in answered %d at %s: %.300s", resp.StatusCode, resp.Request.URL, body)
	}
	if !rep.OK || rep.Identity == nil || rep.Identity.Email != "bob@initech.test" || rep.Identity.IdP != "onelogin" || rep.Identity.Protocol != "saml" {
		t.Fatalf("test sign-in report %+v", rep)
	}
	for _, c := range hc.Jar.Cookies(app) {
		if strings.Contains(c.Name, "session") {
			t.Fatalf("a test sign-in set the session cookie %s", c.Name)
		}
	}
	if users, err := p.admin.Organizations.Users(ctx, "initech"); err != nil || len(users) != 0 {
		t.Fatalf("a test sign-in admitted someone: %+v %v", users, err)
	}

	// Only org admins start one.
	resp, err = browser("").Get(p.app.URL + "/v1/organizations/initech/sso/test/start")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous test start: %d", resp.StatusCode)
	}
	// The public start with the test path as return_to signs in for real.
	persona.QueueUser("alice@initech.test")
	resp, err = mockidp.Browse(browser(""), p.app.URL+"/auth/sso/start?org=initech&return_to=/.ssokit/sso-test")
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(resp); strings.Contains(body, `"identity"`) {
		t.Fatalf("the public start ran a test sign-in: %s", body)
	}
	if users, _ := p.admin.Organizations.Users(ctx, "initech"); len(users) != 1 || users[0].Email != "alice@initech.test" {
		t.Fatalf("public sign-in: %+v", users)
	}
}

// Every refusal is JSON with a stable code: a cross-origin browser
// request, a route that takes other methods (405 with Allow) and a route
// that does not exist.
func TestJSONRefusalsOutsideHandlers(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	do := func(method, path string, h map[string]string) (*http.Response, api.Error) {
		req, _ := http.NewRequest(method, p.app.URL+path, strings.NewReader(`{}`))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e api.Error
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			t.Fatalf("%s %s: %d, body not JSON: %v", method, path, resp.StatusCode, err)
		}
		return resp, e
	}
	for _, tc := range []struct {
		name, method, path string
		h                  map[string]string
		status             int
		code, allow        string
	}{
		{"cross-origin write", "POST", "/v1/auth/logout", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.test"}, 403, "cross_origin", ""},
		{"cross-origin by Origin", "POST", "/v1/auth/login", map[string]string{"Origin": "https://evil.test"}, 403, "cross_origin", ""},
		{"method", "DELETE", "/v1/auth/whoami", nil, 405, "method_not_allowed", "GET"},
		{"method on a pattern", "GET", "/v1/organizations/acme/sso", nil, 405, "method_not_allowed", "PUT"},
		{"no route", "GET", "/v1/nothing-here", nil, 404, "not_found", ""},
	} {
		resp, e := do(tc.method, tc.path, tc.h)
		if resp.StatusCode != tc.status || e.Code != tc.code || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %+v %s", tc.name, resp.StatusCode, e, resp.Header.Get("Content-Type"))
		}
		if tc.allow != "" && !strings.Contains(resp.Header.Get("Allow"), tc.allow) {
			t.Errorf("%s: Allow %q", tc.name, resp.Header.Get("Allow"))
		}
	}
}
