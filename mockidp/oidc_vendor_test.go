package mockidp

import (
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// discoveryDoc fetches a discovery document as a map.
func discoveryDoc(t *testing.T, srv *Server, u string) map[string]any {
	t.Helper()
	resp, err := srv.Client().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// jwtClaims decodes a compact JWS's payload without verifying it.
func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// postClient sends an authenticated form to an Okta token-side endpoint
// as r's client (HTTP Basic, as registered).
func postClient(t *testing.T, r *rp, endpoint string, form url.Values, secret string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(r.oauth.ClientID), url.QueryEscape(secret))
	}
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func TestOktaCustomServerJWTAccessToken(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "okta", "openid", "profile", "email")
	tok, _, err := r.login("alice@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	// Signed by a published key, with the custom server's issuer.
	if _, err := r.provider.Verifier(&oidc.Config{SkipClientIDCheck: true}).Verify(r.ctx, tok.AccessToken); err != nil {
		t.Fatalf("access token does not verify: %v", err)
	}
	c := jwtClaims(t, tok.AccessToken)
	uid, _ := r.p.UserID("alice@acme.test")
	wantClaim(t, c, "ver", float64(1))
	wantMatch(t, c, "jti", `^AT\.`)
	wantClaim(t, c, "iss", srv.URL+"/okta/oauth2/default")
	wantClaim(t, c, "aud", "api://default")
	wantClaim(t, c, "cid", r.oauth.ClientID)
	wantClaim(t, c, "uid", uid)
	wantClaim(t, c, "sub", "alice@acme.test")
	wantClaim(t, c, "scp", []any{"openid", "profile", "email"})
	for _, k := range []string{"iat", "exp"} {
		if _, ok := c[k].(float64); !ok {
			t.Errorf("claim %s = %#v, want a number", k, c[k])
		}
	}

	// The org authorization server's access tokens are opaque.
	p := srv.Persona("okta")
	ctx := oidc.ClientContext(context.Background(), srv.Client())
	prov, err := oidc.NewProvider(ctx, p.OtherIssuers()[0])
	if err != nil {
		t.Fatal(err)
	}
	org := *r
	ep := prov.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	org.provider, org.oauth.Endpoint = prov, ep
	org.verifier = prov.Verifier(&oidc.Config{ClientID: r.oauth.ClientID})
	otok, _, err := org.login("alice@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(otok.AccessToken, ".") == 2 {
		t.Fatalf("org server access token is a JWT: %s", otok.AccessToken)
	}
}

func TestOktaIntrospectAndRevoke(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "okta")
	var doc struct {
		Introspect string   `json:"introspection_endpoint"`
		Revoke     string   `json:"revocation_endpoint"`
		IntroAuth  []string `json:"introspection_endpoint_auth_methods_supported"`
	}
	if err := r.provider.Claims(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Introspect != srv.URL+"/okta/oauth2/default/v1/introspect" || doc.Revoke != srv.URL+"/okta/oauth2/default/v1/revoke" {
		t.Fatalf("discovery: introspection %q revocation %q", doc.Introspect, doc.Revoke)
	}
	if !slices.Contains(doc.IntroAuth, "client_secret_basic") {
		t.Fatalf("introspection auth methods %v", doc.IntroAuth)
	}
	tok, _, err := r.login("alice@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	secret := r.oauth.ClientSecret
	introspect := func(token string) map[string]any {
		t.Helper()
		status, body := postClient(t, r, doc.Introspect, url.Values{"token": {token}, "token_type_hint": {"access_token"}}, secret)
		if status != 200 {
			t.Fatalf("introspect: %d %s", status, body)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}

	if status, _ := postClient(t, r, doc.Introspect, url.Values{"token": {tok.AccessToken}}, ""); status != 401 {
		t.Fatalf("introspection without client authentication: %d", status)
	}
	if status, _ := postClient(t, r, doc.Introspect, url.Values{"token": {tok.AccessToken}}, "wrong"); status != 401 {
		t.Fatalf("introspection with a wrong secret: %d", status)
	}
	m := introspect(tok.AccessToken)
	uid, _ := r.p.UserID("alice@acme.test")
	wantClaim(t, m, "active", true)
	wantClaim(t, m, "scope", "openid profile email")
	wantClaim(t, m, "client_id", r.oauth.ClientID)
	wantClaim(t, m, "username", "alice@acme.test")
	wantClaim(t, m, "sub", "alice@acme.test")
	wantClaim(t, m, "aud", "api://default")
	wantClaim(t, m, "iss", srv.URL+"/okta/oauth2/default")
	wantClaim(t, m, "token_type", "Bearer")
	wantClaim(t, m, "uid", uid)
	wantMatch(t, m, "jti", `^AT\.`)
	for _, k := range []string{"exp", "iat"} {
		if _, ok := m[k].(float64); !ok {
			t.Errorf("%s = %#v", k, m[k])
		}
	}
	if m := introspect("not-a-token"); !reflect.DeepEqual(m, map[string]any{"active": false}) {
		t.Fatalf("unknown token: %v", m)
	}

	// Revocation: 401 without the client, 200 for any token otherwise.
	if status, _ := postClient(t, r, doc.Revoke, url.Values{"token": {tok.AccessToken}}, "wrong"); status != 401 {
		t.Fatalf("revocation with a wrong secret: %d", status)
	}
	if status, body := postClient(t, r, doc.Revoke, url.Values{"token": {"not-a-token"}}, secret); status != 200 || len(body) != 0 {
		t.Fatalf("revoking an unknown token: %d %q", status, body)
	}
	if status, _ := postClient(t, r, doc.Revoke, url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}, secret); status != 200 {
		t.Fatalf("revocation: %d", status)
	}
	if m := introspect(tok.AccessToken); m["active"] != false {
		t.Fatalf("revoked token still active: %v", m)
	}
	if _, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("userinfo accepted a revoked access token")
	}
}

// userinfoClaims signs email in at persona with the openid, profile and
// email scopes and returns what its userinfo endpoint answers.
func userinfoClaims(t *testing.T, persona, email string) map[string]any {
	t.Helper()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, persona, "openid", "profile", "email")
	tok, _, err := r.login(email)
	if err != nil {
		t.Fatal(err)
	}
	ui, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := ui.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOktaUserinfoProfile(t *testing.T) {
	t.Parallel()
	c := userinfoClaims(t, "okta", "alice@acme.test")
	for _, k := range []string{"sub", "name", "preferred_username", "given_name", "family_name", "locale", "zoneinfo", "updated_at", "email", "email_verified"} {
		if _, ok := c[k]; !ok {
			t.Errorf("userinfo lacks %s: %v", k, c)
		}
	}
	if _, ok := c["updated_at"].(float64); !ok {
		t.Errorf("updated_at = %#v, want seconds", c["updated_at"])
	}
}

// TestOneLoginUpdatedAtMilliseconds: OneLogin's userinfo sends updated_at
// as a JSON number of milliseconds since the epoch, as its v2 API
// documents, not OIDC's seconds.
func TestOneLoginUpdatedAtMilliseconds(t *testing.T) {
	t.Parallel()
	c := userinfoClaims(t, "onelogin", "alice@initech.test")
	ms, ok := c["updated_at"].(float64)
	if !ok {
		t.Fatalf("updated_at = %#v, want a number", c["updated_at"])
	}
	if at := time.UnixMilli(int64(ms)); at.After(time.Now()) || time.Since(at) > 2*time.Hour {
		t.Fatalf("updated_at %v read as milliseconds is %v", ms, at)
	}
}

func TestAzureUserinfoClaims(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "azure")
	tok, idt, err := r.login("alice@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	ui, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := ui.Claims(&c); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"email", "family_name", "given_name", "name", "picture", "sub"}; !slices.Equal(keys, want) {
		t.Fatalf("userinfo claims %v, want %v", keys, want)
	}
	if c["sub"] != idt.Subject {
		t.Fatalf("userinfo sub %v, ID token %s", c["sub"], idt.Subject)
	}
	if u, err := url.Parse(c["picture"].(string)); err != nil || u.Scheme != "https" {
		t.Fatalf("picture %v", c["picture"])
	}
}

func TestAzureJWKSAndAccessToken(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	p := srv.Persona("azure")
	doc := discoveryDoc(t, srv, p.DiscoveryURL())
	set := discoveryDoc(t, srv, doc["jwks_uri"].(string))
	keys, _ := set["keys"].([]any)
	if len(keys) == 0 {
		t.Fatal("no keys")
	}
	for _, k := range keys {
		jwk := k.(map[string]any)
		var names []string
		for n := range jwk {
			names = append(names, n)
		}
		slices.Sort(names)
		if want := []string{"e", "issuer", "kid", "kty", "n", "use", "x5c", "x5t"}; !slices.Equal(names, want) {
			t.Fatalf("key members %v, want %v", names, want)
		}
		if jwk["issuer"] != srv.URL+"/azure/{tenantid}/v2.0" {
			t.Errorf("issuer %v", jwk["issuer"])
		}
		der, err := base64.StdEncoding.DecodeString(jwk["x5c"].([]any)[0].(string))
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		thumb := sha1.Sum(der)
		if jwk["x5t"] != base64.RawURLEncoding.EncodeToString(thumb[:]) {
			t.Error("x5t is not the certificate's SHA-1 thumbprint")
		}
		if jwk["kid"] != jwk["x5t"] {
			t.Errorf("kid %v is not x5t %v, as in Microsoft's published keys", jwk["kid"], jwk["x5t"])
		}
		nb, _ := base64.RawURLEncoding.DecodeString(jwk["n"].(string))
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok || pub.N.Cmp(new(big.Int).SetBytes(nb)) != 0 {
			t.Error("the certificate's key is not the JWK's")
		}
	}

	// Access tokens are JWTs (a v1.0 token for Microsoft Graph).
	r := newRP(t, srv, "azure")
	tok, _, err := r.login("alice@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	c := jwtClaims(t, tok.AccessToken)
	wantClaim(t, c, "aud", "00000003-0000-0000-c000-000000000000")
	wantClaim(t, c, "tid", p.Tenant())
	wantClaim(t, c, "appid", r.oauth.ClientID)
	wantClaim(t, c, "ver", "1.0")
}

func TestAzureDiscoveryAsPublished(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	doc := discoveryDoc(t, srv, srv.Persona("azure").DiscoveryURL())
	for _, k := range []string{"code_challenge_methods_supported", "grant_types_supported"} {
		if _, ok := doc[k]; ok {
			t.Errorf("discovery has %s, which Microsoft's does not", k)
		}
	}
	for _, k := range []string{"msgraph_host", "cloud_graph_host_name", "request_uri_parameter_supported", "http_logout_supported", "frontchannel_logout_supported"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("discovery lacks %s", k)
		}
	}
	if m := doc["token_endpoint_auth_methods_supported"]; slices.Contains(toStrings(m), "none") {
		t.Errorf("token_endpoint_auth_methods_supported %v", m)
	}
	for _, c := range []string{"oid", "groups", "roles"} {
		if slices.Contains(toStrings(doc["claims_supported"]), c) {
			t.Errorf("claims_supported names %s, Microsoft's does not", c)
		}
	}
}

func toStrings(v any) []string {
	var out []string
	s, _ := v.([]any)
	for _, x := range s {
		if str, ok := x.(string); ok {
			out = append(out, str)
		}
	}
	return out
}

func TestGoogleDiscoveryHasNoEndSession(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	doc := discoveryDoc(t, srv, srv.Persona("google").DiscoveryURL())
	if v, ok := doc["end_session_endpoint"]; ok {
		t.Fatalf("end_session_endpoint %v", v)
	}
}

func TestJumpCloudHydraShapes(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "jumpcloud")
	tok, idt, err := r.login("alice@globex.test")
	if err != nil {
		t.Fatal(err)
	}
	if tt, _ := tok.Extra("token_type").(string); tt != "bearer" {
		t.Errorf("token_type %q, want Hydra's lower-case bearer", tt)
	}
	raw, _ := tok.Extra("id_token").(string)
	if aud, ok := jwtClaims(t, raw)["aud"].([]any); !ok || len(aud) != 1 || aud[0] != r.oauth.ClientID {
		t.Errorf("ID token aud %#v, want [client id]", jwtClaims(t, raw)["aud"])
	}
	if len(idt.Audience) != 1 {
		t.Errorf("go-oidc audience %v", idt.Audience)
	}
}

var (
	formPostAction = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	formPostInput  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"/>`)
)

func TestResponseModes(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	modes := map[string][]string{
		"okta": {"query", "fragment", "form_post"}, "azure": {"query", "fragment", "form_post"},
		"google": {"query", "fragment", "form_post"}, "onelogin": {"query", "fragment", "form_post"},
		"jumpcloud": {"query", "fragment"},
	}
	users := map[string]string{"okta": "alice@acme.test", "azure": "alice@contoso.test",
		"google": "alice@example-workspace.test", "onelogin": "alice@initech.test", "jumpcloud": "alice@globex.test"}
	for persona, want := range modes {
		t.Run(persona, func(t *testing.T) {
			t.Parallel()
			r := newRP(t, srv, persona)
			doc := discoveryDoc(t, srv, r.p.DiscoveryURL())
			if got := toStrings(doc["response_modes_supported"]); !slices.Equal(got, want) {
				t.Fatalf("response_modes_supported %v, want %v", got, want)
			}
			client := noRedirect(srv)
			start := func(mode string) (*http.Response, []byte, string) {
				t.Helper()
				verifier := oauth2.GenerateVerifier()
				resp, err := client.Get(r.oauth.AuthCodeURL("st-"+mode, oauth2.S256ChallengeOption(verifier),
					oauth2.SetAuthURLParam("login_hint", users[persona]), oauth2.SetAuthURLParam("response_mode", mode)))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				return resp, body, verifier
			}
			exchange := func(code, verifier string) {
				t.Helper()
				if _, err := r.oauth.Exchange(r.ctx, code, oauth2.VerifierOption(verifier)); err != nil {
					t.Fatalf("exchange: %v", err)
				}
			}
			for _, mode := range []string{"query", "fragment", "form_post"} {
				resp, body, verifier := start(mode)
				if !slices.Contains(want, mode) {
					// Refused: an OAuth error redirect, in the query.
					loc, _ := url.Parse(resp.Header.Get("Location"))
					if resp.StatusCode != 302 || loc == nil || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "st-"+mode {
						t.Fatalf("%s: %d %s", mode, resp.StatusCode, resp.Header.Get("Location"))
					}
					continue
				}
				var got url.Values
				switch mode {
				case "query":
					loc, _ := url.Parse(resp.Header.Get("Location"))
					if resp.StatusCode != 302 || loc == nil {
						t.Fatalf("query: %d", resp.StatusCode)
					}
					got = loc.Query()
				case "fragment":
					loc, _ := url.Parse(resp.Header.Get("Location"))
					if resp.StatusCode != 302 || loc == nil || loc.RawQuery != "" {
						t.Fatalf("fragment: %d %s", resp.StatusCode, resp.Header.Get("Location"))
					}
					got, _ = url.ParseQuery(loc.Fragment)
				case "form_post":
					if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
						t.Fatalf("form_post: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
					}
					if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'sha256-") {
						t.Fatalf("form_post CSP %q", resp.Header.Get("Content-Security-Policy"))
					}
					m := formPostAction.FindSubmatch(body)
					if m == nil || html.UnescapeString(string(m[1])) != testRedirect || !strings.Contains(string(body), "document.forms[0].submit()") {
						t.Fatalf("form_post page:\n%s", body)
					}
					got = url.Values{}
					for _, in := range formPostInput.FindAllSubmatch(body, -1) {
						got.Add(html.UnescapeString(string(in[1])), html.UnescapeString(string(in[2])))
					}
				}
				if got.Get("state") != "st-"+mode || got.Get("code") == "" {
					t.Fatalf("%s: response %v", mode, got)
				}
				exchange(got.Get("code"), verifier)
			}
			// An unknown mode is refused in the query.
			resp, _, _ := start("bogus")
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != 302 || loc == nil || loc.Query().Get("error") != "invalid_request" {
				t.Fatalf("bogus mode: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			// Errors travel in the requested mode.
			if slices.Contains(want, "fragment") {
				resp, err := client.Get(r.oauth.AuthCodeURL("st", oauth2.SetAuthURLParam("scope", "email"),
					oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("response_mode", "fragment")))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				loc, _ := url.Parse(resp.Header.Get("Location"))
				frag, _ := url.ParseQuery(loc.Fragment)
				if frag.Get("error") != "invalid_scope" || frag.Get("state") != "st" {
					t.Fatalf("error in fragment mode: %s", resp.Header.Get("Location"))
				}
			}
		})
	}
}

// TestIssOnRedirects: Google's authorization responses carry iss (RFC
// 9207), success and error, without its discovery document saying so; the
// other vendors send none unless the persona sets iss_parameter, which
// advertises it too.
func TestIssOnRedirects(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	for i := range cfg.Personas {
		if cfg.Personas[i].Name == "jumpcloud" {
			cfg.Personas[i].IssParameter = true
		}
	}
	srv := Start(t, cfg)
	for _, c := range []struct {
		name             string
		sent, advertised bool
	}{{"google", true, false}, {"okta", false, false}, {"azure", false, false}, {"onelogin", false, false}, {"jumpcloud", true, true}} {
		r := newRP(t, srv, c.name)
		var disc map[string]any
		if err := r.provider.Claims(&disc); err != nil {
			t.Fatal(err)
		}
		if got := disc["authorization_response_iss_parameter_supported"] == true; got != c.advertised {
			t.Errorf("%s: discovery advertises iss %v, want %v", c.name, got, c.advertised)
		}
		p := srv.Persona(c.name)
		if err := p.QueueUser(p.Users()[0].Email); err != nil {
			t.Fatal(err)
		}
		ok := r.authorize("st", "n", oauth2.GenerateVerifier())
		refused := r.authorize("st", "n", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "none"))
		for what, q := range map[string]url.Values{"code": ok, "error": refused} {
			if q.Get(what) == "" {
				t.Fatalf("%s: no %s in %v", c.name, what, q)
			}
			if got := q.Get("iss"); (got != "") != c.sent || (c.sent && got != p.Issuer()) {
				t.Errorf("%s, %s redirect: iss %q, want sent %v (%s)", c.name, what, got, c.sent, p.Issuer())
			}
		}
	}
}

// Entra puts oid, preferred_username and name in a v2.0 ID token only for
// the profile scope (Microsoft's ID token claims reference): an app that
// asks for openid and email gets the pairwise sub and tid, and must not
// find oid here that Entra would not send.
func TestAzureIDTokenProfileClaimsNeedProfileScope(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	for _, tc := range []struct {
		scopes []string
		want   bool
	}{{[]string{"openid", "email"}, false}, {[]string{"openid", "profile", "email"}, true}} {
		r := newRP(t, srv, "azure", tc.scopes...)
		_, idt, err := r.login("alice@contoso.test")
		if err != nil {
			t.Fatal(err)
		}
		c := claimsOf(t, idt)
		for _, k := range []string{"oid", "preferred_username", "name"} {
			if _, ok := c[k]; ok != tc.want {
				t.Errorf("scopes %v: %s present %v, want %v", tc.scopes, k, ok, tc.want)
			}
		}
		if c["tid"] == nil || c["sub"] == nil {
			t.Errorf("scopes %v: no sub or tid: %v", tc.scopes, c)
		}
	}
}
