package mockidp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func TestEveryPersonaWithGoOIDC(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	tests := []struct {
		persona, email string
		scopes         []string
		check          func(t *testing.T, p *Persona, c map[string]any, tok *oauth2.Token)
	}{
		{"okta", "alice@acme.test", []string{"openid", "profile", "email", "groups"}, func(t *testing.T, p *Persona, c map[string]any, tok *oauth2.Token) {
			wantClaim(t, c, "ver", float64(1))
			wantMatch(t, c, "sub", `^00u[0-9A-Za-z]{17}$`)
			wantMatch(t, c, "jti", `^ID\.`)
			wantClaim(t, c, "groups", []any{"admins", "engineering"})
			wantClaim(t, c, "iss", srv.URL+"/okta/oauth2/default")
			wantMatch(t, c, "at_hash", `.`)
		}},
		{"okta", "bob@acme.test", nil, func(t *testing.T, p *Persona, c map[string]any, tok *oauth2.Token) {
			if _, ok := c["groups"]; ok {
				t.Error("groups sent without the groups scope")
			}
		}},
		{"azure", "alice@contoso.test", nil, func(t *testing.T, p *Persona, c map[string]any, tok *oauth2.Token) {
			wantClaim(t, c, "ver", "2.0")
			wantClaim(t, c, "tid", p.Tenant())
			wantClaim(t, c, "iss", srv.URL+"/azure/"+p.Tenant()+"/v2.0")
			wantMatch(t, c, "oid", `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
			wantClaim(t, c, "preferred_username", "alice@contoso.test")
			wantClaim(t, c, "groups", toAny(p.GroupIDs("admins", "engineering")))
			wantClaim(t, c, "roles", []any{"Admin"})
			if _, ok := c["at_hash"]; ok {
				t.Error("Azure sends no at_hash on ID tokens from the token endpoint")
			}
		}},
		{"google", "alice@example-workspace.test", nil, func(t *testing.T, p *Persona, c map[string]any, tok *oauth2.Token) {
			wantClaim(t, c, "hd", "example-workspace.test")
			wantClaim(t, c, "email_verified", true)
			wantMatch(t, c, "sub", `^[0-9]{21}$`)
			wantClaim(t, c, "azp", p.Clients()[0].ClientID)
			if _, ok := c["groups"]; ok {
				t.Error("Google sends no groups")
			}
		}},
		{"google", "dana@gmail.com", nil, func(t *testing.T, p *Persona, c map[string]any, tok *oauth2.Token) {
			if _, ok := c["hd"]; ok {
				t.Error("hd sent for a consumer account")
			}
		}},
		{"onelogin", "alice@initech.test", []string{"openid", "profile", "email", "groups", "params"}, func(t *testing.T, p *Persona, c map[string]any, tok *oauth2.Token) {
			wantClaim(t, c, "iss", srv.URL+"/onelogin/oidc/2")
			wantClaim(t, c, "groups", "admins;engineering")
			wantClaim(t, c, "params", map[string]any{})
		}},
		{"jumpcloud", "alice@globex.test", nil, func(t *testing.T, p *Persona, c map[string]any, tok *oauth2.Token) {
			wantClaim(t, c, "iss", srv.URL+"/jumpcloud/")
			wantClaim(t, c, "memberOf", []any{"admins", "engineering"})
			wantMatch(t, c, "sub", `^[0-9a-f]{24}$`)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.persona+"/"+tc.email, func(t *testing.T) {
			t.Parallel()
			r := newRP(t, srv, tc.persona, tc.scopes...)
			tok, idt, err := r.login(tc.email)
			if err != nil {
				t.Fatal(err)
			}
			c := claimsOf(t, idt)
			if tc.persona == "jumpcloud" {
				wantClaim(t, c, "aud", []any{r.oauth.ClientID}) // Ory Hydra: an array
			} else {
				wantClaim(t, c, "aud", r.oauth.ClientID)
			}
			tc.check(t, r.p, c, tok)
			ui, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			if ui.Subject != idt.Subject {
				t.Fatalf("userinfo sub %q, ID token sub %q", ui.Subject, idt.Subject)
			}
		})
	}
}

func wantClaim(t *testing.T, c map[string]any, name string, want any) {
	t.Helper()
	if got := c[name]; !reflect.DeepEqual(got, want) {
		t.Errorf("claim %s = %#v, want %#v", name, got, want)
	}
}

func wantMatch(t *testing.T, c map[string]any, name, re string) {
	t.Helper()
	s, _ := c[name].(string)
	if !regexp.MustCompile(re).MatchString(s) {
		t.Errorf("claim %s = %#v, want match %s", name, c[name], re)
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func TestOtherIssuers(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	t.Run("okta org server", func(t *testing.T) {
		p := srv.Persona("okta")
		ctx := oidc.ClientContext(context.Background(), srv.Client())
		prov, err := oidc.NewProvider(ctx, p.OtherIssuers()[0])
		if err != nil {
			t.Fatal(err)
		}
		if prov.Endpoint().TokenURL != srv.URL+"/okta/oauth2/v1/token" {
			t.Fatalf("org token endpoint %s", prov.Endpoint().TokenURL)
		}
	})
	t.Run("azure common says {tenantid}; tokens carry the tenant", func(t *testing.T) {
		p := srv.Persona("azure")
		resp, err := srv.Client().Get(srv.URL + "/azure/common/v2.0/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if doc["issuer"] != srv.URL+"/azure/{tenantid}/v2.0" {
			t.Fatalf("common issuer %v", doc["issuer"])
		}
		// go-oidc refuses the literal issuer, as with real Azure; the
		// documented workaround validates against the tenant's issuer.
		ctx := oidc.ClientContext(context.Background(), srv.Client())
		if _, err := oidc.NewProvider(ctx, srv.URL+"/azure/common/v2.0"); err == nil {
			t.Fatal("go-oidc accepted the {tenantid} issuer")
		}
		ictx := oidc.InsecureIssuerURLContext(ctx, p.Issuer())
		prov, err := oidc.NewProvider(ictx, srv.URL+"/azure/common/v2.0")
		if err != nil {
			t.Fatal(err)
		}
		cl := p.Clients()[0]
		r := &rp{t: t, srv: srv, p: p, provider: prov, ctx: ctx, verifier: prov.Verifier(&oidc.Config{ClientID: cl.ClientID}),
			oauth: oauth2.Config{ClientID: cl.ClientID, ClientSecret: cl.ClientSecret, Endpoint: prov.Endpoint(), RedirectURL: testRedirect, Scopes: []string{"openid"}}}
		_, idt, err := r.login("bob@contoso.test")
		if err != nil {
			t.Fatal(err)
		}
		if c := claimsOf(t, idt); c["tid"] != p.Tenant() || idt.Issuer != p.Issuer() {
			t.Fatalf("tid %v iss %s", c["tid"], idt.Issuer)
		}
	})
}

func TestAzureGroupOverage(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	p := srv.Persona("azure")
	groups := make([]string, 250)
	for i := range groups {
		groups[i] = fmt.Sprintf("group-%03d", i)
	}
	if err := p.PutUser(UserConfig{Email: "many@contoso.test", Groups: groups}); err != nil {
		t.Fatal(err)
	}
	r := newRP(t, srv, "azure")
	tok, idt, err := r.login("many@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	c := claimsOf(t, idt)
	if _, ok := c["groups"]; ok {
		t.Fatal("groups claim present past the overage limit")
	}
	oid := c["oid"].(string)
	wantClaim(t, c, "_claim_names", map[string]any{"groups": "src1"})
	src := c["_claim_sources"].(map[string]any)["src1"].(map[string]any)["endpoint"].(string)
	if src != srv.URL+"/azure/graph/v1.0/users/"+oid+"/getMemberObjects" {
		t.Fatalf("claim source %s", src)
	}
	req, _ := http.NewRequest("POST", src, strings.NewReader(`{"securityEnabledOnly":false}`))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Value []string }
	json.NewDecoder(resp.Body).Decode(&got)
	if resp.StatusCode != 200 || !reflect.DeepEqual(got.Value, p.GroupIDs(groups...)) {
		t.Fatalf("getMemberObjects %d, %d values", resp.StatusCode, len(got.Value))
	}
}

func TestOneLoginGroupsArray(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	for i := range cfg.Personas {
		if cfg.Personas[i].Name == "onelogin" {
			cfg.Personas[i].GroupsFormat = "array"
		}
	}
	srv := Start(t, cfg)
	_, idt, err := newRP(t, srv, "onelogin", "openid", "groups").login("bob@initech.test")
	if err != nil {
		t.Fatal(err)
	}
	wantClaim(t, claimsOf(t, idt), "groups", []any{"engineering"})
}

func TestFaultsRefusedByGoOIDC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault Fault
		check func(t *testing.T, err error, r *rp)
	}{
		{FaultIDTokenExpired, wantErrType[*oidc.TokenExpiredError]},
		{FaultIDTokenNotYet, wantErrContains("before the nbf")},
		{FaultWrongAudience, wantErrContains("expected audience")},
		{FaultWrongIssuer, wantErrContains("id token issued by a different provider")},
		{FaultBadSignature, wantErrContains("failed to verify signature")},
		{FaultUnpublishedKey, wantErrContains("failed to verify signature")},
		{FaultAlgNone, wantErrContains("malformed jwt")},
		{FaultMissingNonce, wantErrIs(errNonce)},
		{FaultWrongNonce, wantErrIs(errNonce)},
		{FaultTokenError500, wantErrContains("500")},
		{FaultTokenInvalidJSON, wantErrContains("oauth2: cannot parse json")},
		{FaultTokenSlow, wantErrIs(context.DeadlineExceeded)},
		{FaultAccessDenied, func(t *testing.T, err error, r *rp) {
			var ae *authError
			if !errors.As(err, &ae) || ae.code != "access_denied" {
				t.Fatalf("err %v, want access_denied", err)
			}
		}},
		{FaultJWKSUnavailable, wantErrContains("503")},
		{FaultJWKSSlow, wantErrContains("context deadline exceeded")},
	}
	for _, tc := range tests {
		t.Run(string(tc.fault), func(t *testing.T) {
			t.Parallel()
			srv := Start(t, DefaultConfig())
			p := srv.Persona("okta")
			r := newRP(t, srv, "okta") // discovery done; keys not fetched yet
			if err := p.InjectFault(tc.fault, 1); err != nil {
				t.Fatal(err)
			}
			ctx := r.ctx
			if tc.fault == FaultTokenSlow || tc.fault == FaultJWKSSlow {
				// The relying party's own deadline is what this case tests:
				// it must expire while the endpoint holds its answer (3 s).
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(r.ctx, 500*time.Millisecond)
				defer cancel()
			}
			_, _, err := r.loginCtx(ctx, "alice@acme.test")
			if err == nil {
				t.Fatalf("%s: the relying party accepted the login", tc.fault)
			}
			tc.check(t, err, r)
			// Armed for one use: the next login goes through.
			if _, _, err := r.login("alice@acme.test"); err != nil {
				t.Fatalf("after the fault was used up: %v", err)
			}
		})
	}
}

func TestKeyRotationAcceptedAfterRefetch(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	p := srv.Persona("azure")
	r := newRP(t, srv, "azure")
	first, _, err := r.login("alice@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.InjectFault(FaultKeyRotated, 1); err != nil {
		t.Fatal(err)
	}
	second, _, err := r.login("alice@contoso.test")
	if err != nil {
		t.Fatalf("rotated key not accepted after the JWKS refetch: %v", err)
	}
	if headerKid(t, first.Extra("id_token").(string)) == headerKid(t, second.Extra("id_token").(string)) {
		t.Fatal("the key did not rotate")
	}
}

func wantErrType[E error](t *testing.T, err error, _ *rp) {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("err %v (%T), want %T", err, err, e)
	}
}

func wantErrContains(s string) func(*testing.T, error, *rp) {
	return func(t *testing.T, err error, _ *rp) {
		t.Helper()
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("err %v, want one containing %q", err, s)
		}
	}
}

func wantErrIs(target error) func(*testing.T, error, *rp) {
	return func(t *testing.T, err error, _ *rp) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Fatalf("err %v, want %v", err, target)
		}
	}
}

func TestConcurrentLogins(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	rps := map[string]*rp{}
	for _, name := range []string{"okta", "azure", "google", "onelogin", "jumpcloud"} {
		rps[name] = newRP(t, srv, name)
	}
	users := map[string]string{"okta": "bob@acme.test", "azure": "bob@contoso.test", "google": "bob@example-workspace.test",
		"onelogin": "bob@initech.test", "jumpcloud": "bob@globex.test"}
	var wg sync.WaitGroup
	errs := make(chan error, 250)
	for i := range 250 {
		name := []string{"okta", "azure", "google", "onelogin", "jumpcloud"}[i%5]
		wg.Go(func() {
			if _, _, err := rps[name].login(users[name]); err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	// Failures are reported here, on the test's goroutine.
	for err := range errs {
		t.Error(err)
	}
}

func TestLoginPageAndQueue(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "okta")
	client := noRedirect(srv)
	authURL := r.oauth.AuthCodeURL("st", oidc.Nonce("n"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))

	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "alice@acme.test") || !strings.Contains(string(body), `name="mockidp_login"`) {
		t.Fatalf("login page: %d %s", resp.StatusCode, body)
	}
	// A person picks bob on the page: the form posts the request back.
	u, _ := url.Parse(authURL)
	form := u.Query()
	form.Set("mockidp_login", "1")
	form.Set("email", "BOB@acme.test")
	resp, err = client.PostForm(srv.URL+u.Path, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st" {
		t.Fatalf("page login: %d %s", resp.StatusCode, loc)
	}
	// An unknown email on the page is shown the vendor's error.
	form.Set("email", "mallory@evil.test")
	resp, err = client.PostForm(srv.URL+u.Path, form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 422 || !strings.Contains(string(body), "not assigned") {
		t.Fatalf("unknown user on the page: %d", resp.StatusCode)
	}
	// A queued user wins over the login_hint.
	if err := srv.Persona("okta").QueueUser("carol@acme.test"); err != nil {
		t.Fatal(err)
	}
	_, idt, err := r.login("alice@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	if c := claimsOf(t, idt); c["email"] != "carol@acme.test" {
		t.Fatalf("queued user not used: %v", c["email"])
	}
	// An unknown login_hint gets the vendor's error back at the client.
	_, _, err = r.login("mallory@evil.test")
	var ae *authError
	if !errors.As(err, &ae) || ae.code != "access_denied" || !strings.Contains(ae.desc, "not assigned") {
		t.Fatalf("unknown hint: %v", err)
	}
}

func TestRefreshToken(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "okta", "openid", "email", "offline_access")
	tok, _, err := r.login("alice@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}
	old := tok.RefreshToken
	tok.Expiry = tok.Expiry.Add(-24 * 3600e9)
	fresh, err := r.oauth.TokenSource(r.ctx, tok).Token()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := fresh.Extra("id_token").(string)
	if _, err := r.verifier.Verify(r.ctx, raw); err != nil || fresh.RefreshToken == old {
		t.Fatalf("refresh: %v, rotated %v", err, fresh.RefreshToken != old)
	}
	// The used refresh token is spent.
	_, err = r.oauth.TokenSource(r.ctx, &oauth2.Token{RefreshToken: old}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("reused refresh token: %v", err)
	}
}

func TestOverTLS(t *testing.T) {
	t.Parallel()
	srv := StartTLS(t, DefaultConfig())
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") || len(srv.CACertPEM()) == 0 {
		t.Fatalf("URL %s", srv.URL)
	}
	if _, _, err := newRP(t, srv, "jumpcloud").login("bob@globex.test"); err != nil {
		t.Fatal(err)
	}
}

// TestPromptNone: with prompt=none the mock shows no page (OIDC Core
// 3.1.2.1): with nobody to sign in it answers login_required at the
// redirect URI, state echoed; a queued user (an IdP session) still gets a
// code.
func TestPromptNone(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	for _, name := range []string{"okta", "azure", "google", "onelogin", "jumpcloud"} {
		r := newRP(t, srv, name)
		q := r.authorize("st-"+name, "n", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "none"))
		if q.Get("error") != "login_required" || q.Get("state") != "st-"+name || q.Get("code") != "" {
			t.Errorf("%s: %v, want error=login_required with the state", name, q)
		}
		if err := srv.Persona(name).QueueUser(srv.Persona(name).Users()[0].Email); err != nil {
			t.Fatal(err)
		}
		if q := r.authorize("st", "n", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "none")); q.Get("code") == "" {
			t.Errorf("%s with a signed-in user: %v, want a code", name, q)
		}
		// none with any other value is an error (3.1.2.1), even for a
		// signed-in user.
		for _, prompt := range []string{"none login", "consent none"} {
			if err := srv.Persona(name).QueueUser(srv.Persona(name).Users()[0].Email); err != nil {
				t.Fatal(err)
			}
			q := r.authorize("st-mix", "n", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", prompt))
			if q.Get("error") != "invalid_request" || q.Get("state") != "st-mix" || q.Get("code") != "" {
				t.Errorf("%s, prompt=%s: %v, want error=invalid_request with the state", name, prompt, q)
			}
		}
	}
}
