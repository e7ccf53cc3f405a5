package mockclerk_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/organization"
	"github.com/clerk/clerk-sdk-go/v2/organizationmembership"
	"github.com/clerk/clerk-sdk-go/v2/samlconnection"
	"github.com/clerk/clerk-sdk-go/v2/session"
	"github.com/clerk/clerk-sdk-go/v2/user"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/mockidp/mockclerk"
	"github.com/ssokit/ssokit/ssoerr"
	svix "github.com/svix/svix-webhooks/go"
)

func jarClient(srv *mockidp.Server) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := srv.Client()
	c.Jar = jar
	return c
}

// clerkVerifier is ssokit's own verifier configured as an app would be:
// the mock's publishable key (issuer derived from it) and secret key.
func clerkVerifier(t testing.TB, srv *mockidp.Server, c *mockclerk.Clerk, azp string) *clerkauth.Verifier {
	t.Helper()
	v, err := clerkauth.New(clerkauth.Config{PublishableKey: c.PublishableKey(), SecretKey: c.SecretKey(),
		APIURL: c.BackendAPIURL(), InsecureHTTPLoopback: true, HTTPClient: srv.Client(), AuthorizedParties: []string{azp},
		DisableTokenCache: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestClerkSignInBrokersToIdPs(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	c := srv.Clerk("clerk")
	app := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(app.Close)
	callback := app.URL + "/auth/sso/callback"
	v := clerkVerifier(t, srv, c, app.URL)
	if v.Issuer() != c.FrontendAPIURL() {
		t.Fatalf("issuer from the publishable key %q, frontend API %q", v.Issuer(), c.FrontendAPIURL())
	}
	for _, tc := range []struct {
		email, org, idp string
		groups          []string
	}{
		{"alice@acme.test", "org_acme", "okta", []string{"admins", "engineering"}},                    // Okta SAML
		{"bob@contoso.test", "org_contoso", "azure_ad", srv.Persona("azure").GroupIDs("engineering")}, // Azure OIDC
	} {
		t.Run(tc.idp, func(t *testing.T) {
			tok, err := c.SignIn(jarClient(srv), tc.email, callback)
			if err != nil {
				t.Fatal(err)
			}
			p, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			var groups []string
			var idpName string
			p.Claim("groups", &groups)
			p.Claim("idp", &idpName)
			if p.Email != tc.email || p.Org.ID != tc.org || p.Org.Role != "org:member" || idpName != tc.idp ||
				!slices.Equal(groups, tc.groups) || p.Claims.Version != 2 || p.ExpiresAt.Sub(p.IssuedAt) != time.Minute {
				t.Fatalf("principal %+v groups %v idp %q", p, groups, idpName)
			}
		})
	}
	t.Run("refusals", func(t *testing.T) {
		for name, tc := range map[string]struct {
			redirect, email string
			status          int
		}{
			"redirect not allowed": {"https://evil.example/cb", "alice@acme.test", 400},
			"other path":           {app.URL + "/elsewhere", "alice@acme.test", 400},
			"no connection":        {callback, "someone@unknown.test", 422},
			"unknown user at IdP":  {callback, "nobody@acme.test", 401},
		} {
			// Browse posts the persona's SAML answer (an error status for an
			// unknown user) to the mock Clerk's ACS as a browser would.
			resp, err := mockidp.Browse(jarClient(srv), c.SignInURL()+"?"+url.Values{"redirect_url": {tc.redirect}, "email": {tc.email}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("%s: status %d, want %d", name, resp.StatusCode, tc.status)
			}
			// A foreign redirect_url or an unknown domain is refused by the
			// sign-in page itself, before any identity provider is involved.
			if refusedAtStart := tc.status != 401; refusedAtStart && resp.Request.URL.Path != "/clerk/sign-in" {
				t.Errorf("%s: refused at %s, after brokering", name, resp.Request.URL.Path)
			}
		}
	})
}

func TestClerkBackendAPIWithTheSDK(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	c := srv.Clerk("clerk")
	ctx := context.Background()
	bapi, sk := c.BackendAPIURL(), c.SecretKey()
	cfg := &clerk.ClientConfig{BackendConfig: clerk.BackendConfig{URL: &bapi, Key: &sk, HTTPClient: srv.Client()}}
	orgs, users, members, sessions, conns := organization.NewClient(cfg), user.NewClient(cfg),
		organizationmembership.NewClient(cfg), session.NewClient(cfg), samlconnection.NewClient(cfg)

	// A user signs in (created just in time), then the SDK reads them.
	app := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(app.Close)
	if _, err := c.SignIn(jarClient(srv), "alice@acme.test", app.URL+"/callback"); err != nil {
		t.Fatal(err)
	}
	ul, err := users.List(ctx, &user.ListParams{EmailAddresses: []string{"alice@acme.test"}})
	if err != nil || ul.TotalCount != 1 || len(ul.Users) != 1 {
		t.Fatalf("users.List: %v %+v", err, ul)
	}
	u := ul.Users[0]
	if u.EmailAddresses[0].EmailAddress != "alice@acme.test" || len(u.SAMLAccounts) != 1 || u.SAMLAccounts[0].Provider != "saml_okta" ||
		!strings.Contains(string(u.PublicMetadata), "engineering") {
		t.Fatalf("user %+v", u)
	}
	if got, err := users.Get(ctx, u.ID); err != nil || got.ID != u.ID {
		t.Fatalf("users.Get: %v", err)
	}
	ms, err := users.ListOrganizationMemberships(ctx, u.ID, &user.ListOrganizationMembershipsParams{})
	if err != nil || ms.TotalCount != 1 || ms.OrganizationMemberships[0].Organization.ID != "org_acme" || ms.OrganizationMemberships[0].Role != "org:member" {
		t.Fatalf("memberships: %v %+v", err, ms)
	}
	if _, err := users.UpdateMetadata(ctx, u.ID, &user.UpdateMetadataParams{PrivateMetadata: clerk.JSONRawMessage([]byte(`{"plan":"pro"}`))}); err != nil {
		t.Fatal(err)
	}

	// Organizations: create, get by slug, update, list with a query, delete.
	slug := "initech"
	o, err := orgs.Create(ctx, &organization.CreateParams{Name: clerk.String("Initech"), Slug: &slug})
	if err != nil || o.Slug != "initech" {
		t.Fatalf("create org: %v %+v", err, o)
	}
	if got, err := orgs.Get(ctx, "initech"); err != nil || got.ID != o.ID {
		t.Fatalf("get by slug: %v", err)
	}
	if got, err := orgs.Update(ctx, o.ID, &organization.UpdateParams{Name: clerk.String("Initech Inc")}); err != nil || got.Name != "Initech Inc" {
		t.Fatalf("update: %v", err)
	}
	if got, err := orgs.UpdateMetadata(ctx, o.ID, &organization.UpdateMetadataParams{PublicMetadata: clerk.JSONRawMessage([]byte(`{"tier":"gold"}`))}); err != nil ||
		!strings.Contains(string(got.PublicMetadata), "gold") {
		t.Fatalf("metadata: %v", err)
	}
	list, err := orgs.List(ctx, &organization.ListParams{Query: clerk.String("initech")})
	if err != nil || list.TotalCount != 1 {
		t.Fatalf("list: %v %+v", err, list)
	}
	// Memberships of the new organization.
	m, err := members.Create(ctx, &organizationmembership.CreateParams{OrganizationID: o.ID, UserID: clerk.String(u.ID), Role: clerk.String("org:admin")})
	if err != nil || m.Role != "org:admin" {
		t.Fatalf("membership create: %v", err)
	}
	if m, err = members.Update(ctx, &organizationmembership.UpdateParams{OrganizationID: o.ID, UserID: u.ID, Role: clerk.String("org:member")}); err != nil || m.Role != "org:member" {
		t.Fatalf("membership update: %v", err)
	}
	ml, err := members.List(ctx, &organizationmembership.ListParams{OrganizationID: o.ID})
	if err != nil || ml.TotalCount != 1 {
		t.Fatalf("membership list: %v", err)
	}
	if _, err := members.Delete(ctx, &organizationmembership.DeleteParams{OrganizationID: o.ID, UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	if del, err := orgs.Delete(ctx, o.ID); err != nil || !del.Deleted {
		t.Fatalf("delete: %v", err)
	}
	// Sessions: list, mint a token, revoke; no token after that.
	sl, err := sessions.List(ctx, &session.ListParams{UserID: clerk.String(u.ID)})
	if err != nil || sl.TotalCount != 1 {
		t.Fatalf("sessions: %v %+v", err, sl)
	}
	sid := sl.Sessions[0].ID
	tok, err := sessions.CreateToken(ctx, &session.CreateTokenParams{ID: sid})
	if err != nil || tok.JWT == "" {
		t.Fatalf("token: %v", err)
	}
	if s, err := sessions.Revoke(ctx, &session.RevokeParams{ID: sid}); err != nil || s.Status != "revoked" {
		t.Fatalf("revoke: %v", err)
	}
	_, err = sessions.CreateToken(ctx, &session.CreateTokenParams{ID: sid})
	var apiErr *clerk.APIErrorResponse
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 404 {
		t.Fatalf("token for a revoked session: %v", err)
	}
	// SAML connections.
	cl, err := conns.List(ctx, &samlconnection.ListParams{})
	if err != nil || cl.TotalCount != 1 { // acme.test over SAML; contoso.test is OIDC
		t.Fatalf("connections: %v", err)
	}
	okta := srv.Persona("okta")
	nc, err := conns.Create(ctx, &samlconnection.CreateParams{Name: clerk.String("Globex"), Domain: clerk.String("globex.test"),
		Provider: clerk.String("saml_custom"), IdpMetadataURL: clerk.String(okta.SAMLMetadataURL())})
	if err != nil || nc.Domain != "globex.test" || nc.IdpEntityID == nil || *nc.IdpEntityID != okta.SAMLEntityID() {
		t.Fatalf("create connection: %v %+v", err, nc)
	}
	if _, err := conns.Delete(ctx, nc.ID); err != nil {
		t.Fatal(err)
	}

	// The wrong secret key gets Clerk's 401 shape.
	wrong := "sk_test_wrong"
	_, err = organization.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{URL: &bapi, Key: &wrong, HTTPClient: srv.Client()}}).Get(ctx, "org_acme")
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 401 || apiErr.Errors[0].Code != "authentication_invalid" {
		t.Fatalf("wrong key: %v", err)
	}
	// Faults: 429 and 500 in Clerk's shape.
	c.InjectFault(mockclerk.BAPI429, 1)
	_, err = orgs.Get(ctx, "org_acme")
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 429 {
		t.Fatalf("429 fault: %v", err)
	}
	c.InjectFault(mockclerk.BAPI500, 1)
	if _, err = orgs.Get(ctx, "org_acme"); !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 500 {
		t.Fatalf("500 fault: %v", err)
	}
	if _, err = orgs.Get(ctx, "org_acme"); err != nil {
		t.Fatalf("after the faults: %v", err)
	}
}

func TestClerkWebhooks(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	c := srv.Clerk("clerk")
	c.SetWebhookRetryBase(10 * time.Millisecond)
	wh, err := svix.NewWebhook(c.WebhookSigningSecret())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var types []string
	var verifyErrs []error // reported on the test goroutine
	failures := 2
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := wh.Verify(body, r.Header); err != nil {
			verifyErrs = append(verifyErrs, err)
			w.WriteHeader(400)
			return
		}
		if failures > 0 { // the endpoint is down for the first two attempts
			failures--
			w.WriteHeader(503)
			return
		}
		var ev struct{ Type, Object string }
		_ = jsonUnmarshal(body, &ev)
		types = append(types, ev.Type)
	}))
	t.Cleanup(hook.Close)
	c.SetWebhooks(hook.URL)
	app := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(app.Close)
	if _, err := c.SignIn(jarClient(srv), "bob@acme.test", app.URL+"/callback"); err != nil {
		t.Fatal(err)
	}
	c.Wait()
	mu.Lock()
	got := slices.Clone(types)
	for _, err := range verifyErrs {
		t.Errorf("delivery does not verify: %v", err)
	}
	mu.Unlock()
	slices.Sort(got)
	if want := []string{"organizationMembership.created", "session.created", "user.created"}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	retried := 0
	for _, d := range c.Deliveries() {
		if !d.Delivered || d.URL != hook.URL {
			t.Errorf("delivery %+v", d)
		}
		if d.Attempts > 1 {
			retried++
			if d.Statuses[0] != 503 || d.Statuses[len(d.Statuses)-1] != 200 {
				t.Errorf("retries %+v", d)
			}
		}
	}
	if retried == 0 {
		t.Fatal("no delivery shows its retries")
	}
	// The admin API shows the same log.
	status, _ := adminCall(t, srv, "GET", "/admin/v1/clerk/clerk/webhook-deliveries", "", "")
	if status != 200 {
		t.Fatalf("deliveries API: %d", status)
	}
}

func TestClerkKeysAndFaults(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	c := srv.Clerk("clerk")
	const azp = "http://127.0.0.1:9"
	tok, err := c.MintSessionToken("carol@acme.test", "acme", "admin", azp)
	if err != nil {
		t.Fatal(err)
	}
	v := clerkVerifier(t, srv, c, azp)
	p, err := v.Verify(context.Background(), tok)
	if err != nil || p.Org.Role != "org:admin" || p.Org.Slug != "acme" || !p.Claims.HasPermission("org:sso:manage") {
		t.Fatalf("minted token: %v %+v", err, p)
	}
	// Rotation: the next token has a new kid; a verifier picks it up once
	// its refresh interval allows another fetch.
	c.InjectFault(mockclerk.KeyRotated, 1)
	tok2, _ := c.MintSessionToken("carol@acme.test", "acme", "", azp)
	if _, err := v.Verify(context.Background(), tok2); ssoerr.ReasonOf(err) != ssoerr.ReasonUnknownKeyID {
		t.Fatalf("within the refresh interval: %v", err)
	}
	quick, err := clerkauth.New(clerkauth.Config{PublishableKey: c.PublishableKey(), InsecureHTTPLoopback: true,
		HTTPClient: srv.Client(), RefreshInterval: 10 * time.Millisecond, DisableTokenCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := quick.Verify(context.Background(), tok); err != nil { // Frontend API JWKS, no secret key
		t.Fatal(err)
	}
	if _, err := quick.Verify(context.Background(), tok2); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	// JWKS down: a fresh verifier cannot get keys.
	c.InjectFault(mockclerk.JWKSUnavailable, 0)
	_, err = clerkVerifier(t, srv, c, azp).Verify(context.Background(), tok)
	if !errors.Is(err, ssoerr.ErrUpstream) {
		t.Fatalf("JWKS down: %v", err)
	}
	c.ClearFaults()
	// v1 tokens on request.
	cfg := mockidp.DefaultConfig()
	cfg.Clerk[0].TokenVersion = 1
	srv1 := mockidp.Start(t, cfg)
	tok1, err := srv1.Clerk("clerk").MintSessionToken("dave@contoso.test", "contoso", "member", azp)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := clerkVerifier(t, srv1, srv1.Clerk("clerk"), azp).Verify(context.Background(), tok1)
	if err != nil || p1.Claims.Version != 1 || p1.Org.ID != "org_contoso" {
		t.Fatalf("v1 token: %v %+v", err, p1)
	}
	// The listing names what an app configures.
	var l mockidp.Listing
	resp, _ := srv.Client().Get(srv.URL + "/")
	jsonDecode(resp, &l)
	if len(l.Clerk) != 1 || l.Clerk[0].PublishableKey != c.PublishableKey() || !strings.HasSuffix(l.Clerk[0].BackendAPIURL, "/clerk/bapi/v1") ||
		!strings.HasPrefix(l.Clerk[0].WebhookSigningSecret, "whsec_") || !strings.HasPrefix(l.Clerk[0].SecretKey, "sk_test_") {
		t.Fatalf("clerk listing %+v", l.Clerk)
	}
}

func TestClerkConnectionsAndClaimsTemplate(t *testing.T) {
	t.Parallel()
	cfg := mockidp.DefaultConfig()
	cfg.Clerk[0].Claims = map[string]string{"mail": "{{user.primary_email_address}}", "team": "{{user.public_metadata.groups}}",
		"org_slug_copy": "{{org.slug}}", "static": "hello", "bogus": "{{user.password}}"}
	srv := mockidp.Start(t, cfg)
	c := srv.Clerk("clerk")
	// A connection added through the admin API: globex.test via JumpCloud OIDC.
	status, m := adminCall(t, srv, "PUT", "/admin/v1/clerk/clerk/connections/oidcc_globex",
		`{"protocol":"oidc","persona":"jumpcloud","organization":"acme","domains":["globex.test"],"default_role":"admin"}`, "")
	if status != 200 {
		t.Fatalf("put connection: %d %v", status, m)
	}
	if status, m := adminCall(t, srv, "PUT", "/admin/v1/clerk/clerk/connections/bad", `{"protocol":"ws-fed","persona":"okta","organization":"acme","domains":["x.test"]}`, ""); status != 400 || m["error"] != "invalid_connection" {
		t.Fatalf("bad connection: %d %v", status, m)
	}
	app := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(app.Close)
	tok, err := c.SignIn(jarClient(srv), "alice@globex.test", app.URL+"/callback")
	if err != nil {
		t.Fatal(err)
	}
	p, err := clerkVerifier(t, srv, c, app.URL).Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	var mail, slugCopy, static string
	var team []string
	p.Claim("mail", &mail)
	p.Claim("team", &team)
	p.Claim("org_slug_copy", &slugCopy)
	p.Claim("static", &static)
	if ok, _ := p.Claim("bogus", new(any)); ok || mail != "alice@globex.test" || !slices.Equal(team, []string{"admins", "engineering"}) ||
		slugCopy != "acme" || static != "hello" || p.Email != "" || p.Org.Role != "org:admin" {
		t.Fatalf("claims %s", p.RawClaims)
	}
}
