package mockidp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// tokenRequest posts a raw form to a persona's token endpoint.
func tokenRequest(t *testing.T, srv *Server, tokenURL string, form url.Values, basicID, basicSecret string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body, resp.Header
}

func TestTokenEndpointRefusals(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	p := srv.Persona("okta")
	// A client whose credentials need form-encoding inside Basic.
	odd := ClientConfig{ClientID: "odd:client/+", ClientSecret: "s3cr:t/+= %", RedirectURIs: []string{"http://127.0.0.1/callback"}}
	if err := p.PutClient(odd); err != nil {
		t.Fatal(err)
	}
	r := newRP(t, srv, "okta")
	tokenURL := r.oauth.Endpoint.TokenURL
	cl := r.oauth

	// code returns a fresh authorization code for the default client with
	// the given PKCE verifier.
	code := func(clientID, verifier string) string {
		t.Helper()
		c := cl
		c.ClientID = clientID
		rr := *r
		rr.oauth = c
		q := rr.authorize("s", "n", verifier, oauth2.SetAuthURLParam("login_hint", "alice@acme.test"))
		if q.Get("code") == "" {
			t.Fatalf("no code: %v", q)
		}
		return q.Get("code")
	}
	form := func(code, verifier string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}}
	}

	v := oauth2.GenerateVerifier()
	c := code(cl.ClientID, v)
	tests := []struct {
		name       string
		form       url.Values
		id, secret string
		status     int
		code       string
	}{
		{"unknown client", form(c, v), "nobody", "x", 401, "invalid_client"},
		{"wrong secret", form(c, v), cl.ClientID, "wrong", 401, "invalid_client"},
		{"secret in the body for a basic client", with(form(c, v), "client_id", cl.ClientID, "client_secret", cl.ClientSecret), "", "", 401, "invalid_client"},
		{"two auth methods", with(form(c, v), "client_secret", cl.ClientSecret), cl.ClientID, cl.ClientSecret, 400, "invalid_request"},
		{"no grant type", url.Values{"code": {c}}, cl.ClientID, cl.ClientSecret, 400, "invalid_request"},
		{"password grant", url.Values{"grant_type": {"password"}}, cl.ClientID, cl.ClientSecret, 400, "unsupported_grant_type"},
		{"unknown code", form("nope", v), cl.ClientID, cl.ClientSecret, 400, "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body, hdr := tokenRequest(t, srv, tokenURL, tc.form, tc.id, tc.secret)
			if status != tc.status || body["error"] != tc.code {
				t.Fatalf("got %d %v, want %d %s", status, body, tc.status, tc.code)
			}
			if status == 401 && tc.id != "" && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic") {
				t.Fatalf("401 for Basic without a Basic challenge")
			}
		})
	}
	// None of those consumed the code: client authentication comes first.
	status, body, _ := tokenRequest(t, srv, tokenURL, form(c, v), cl.ClientID, cl.ClientSecret)
	if status != 200 || body["id_token"] == nil {
		t.Fatalf("the code did not survive failed client authentication: %d %v", status, body)
	}
	// Reused code.
	if status, body, _ := tokenRequest(t, srv, tokenURL, form(c, v), cl.ClientID, cl.ClientSecret); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("reused code: %d %v", status, body)
	}
	// Wrong PKCE verifier, then the code is gone even for the right one.
	c2 := code(cl.ClientID, v)
	if status, body, _ := tokenRequest(t, srv, tokenURL, form(c2, oauth2.GenerateVerifier()), cl.ClientID, cl.ClientSecret); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("wrong verifier: %d %v", status, body)
	}
	if status, _, _ := tokenRequest(t, srv, tokenURL, form(c2, v), cl.ClientID, cl.ClientSecret); status != 400 {
		t.Fatalf("code reusable after a wrong verifier: %d", status)
	}
	// Missing verifier.
	c3 := code(cl.ClientID, v)
	if status, body, _ := tokenRequest(t, srv, tokenURL, with(form(c3, v), "code_verifier", nil), cl.ClientID, cl.ClientSecret); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("missing verifier: %d %v", status, body)
	}
	// Mismatched redirect_uri at the token endpoint.
	c4 := code(cl.ClientID, v)
	if status, body, _ := tokenRequest(t, srv, tokenURL, with(form(c4, v), "redirect_uri", "http://127.0.0.1:18081/callback"), cl.ClientID, cl.ClientSecret); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("redirect mismatch: %d %v", status, body)
	}
	// A code issued to another client.
	if err := p.PutClient(ClientConfig{ClientID: "second", ClientSecret: "two", RedirectURIs: []string{"http://127.0.0.1/callback"}}); err != nil {
		t.Fatal(err)
	}
	c5 := code("second", v)
	if status, body, _ := tokenRequest(t, srv, tokenURL, form(c5, v), cl.ClientID, cl.ClientSecret); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("code of another client: %d %v", status, body)
	}
	// Expired code.
	c6 := code(cl.ClientID, v)
	p.SetClockOffset(2 * codeTTL)
	if status, body, _ := tokenRequest(t, srv, tokenURL, form(c6, v), cl.ClientID, cl.ClientSecret); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("expired code: %d %v", status, body)
	}
	p.SetClockOffset(0)
	// Basic credentials are form-decoded (RFC 6749 2.3.1).
	c7 := code(odd.ClientID, v)
	if status, body, _ := tokenRequest(t, srv, tokenURL, form(c7, v), odd.ClientID, odd.ClientSecret); status != 200 {
		t.Fatalf("form-encoded Basic credentials: %d %v", status, body)
	}
	// Malformed and oversized bodies.
	for name, body := range map[string]string{"malformed": "%zz=1", "oversized": "a=" + strings.Repeat("x", maxBody+10)} {
		req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e map[string]any
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode/100 != 4 || e["error"] != "invalid_request" {
			t.Fatalf("%s body: %d %v", name, resp.StatusCode, e)
		}
	}
}

func with(v url.Values, kv ...any) url.Values {
	out := cloneValues(v)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			out.Del(kv[i].(string))
		} else {
			out.Set(kv[i].(string), kv[i+1].(string))
		}
	}
	return out
}

func TestAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	okta := newRP(t, srv, "okta")
	jc := newRP(t, srv, "jumpcloud")
	client := noRedirect(srv)
	get := func(u string) (int, url.Values, string) {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc == nil {
			return resp.StatusCode, nil, string(body)
		}
		return resp.StatusCode, loc.Query(), string(body)
	}
	authURL := func(r *rp, opts ...oauth2.AuthCodeOption) string {
		return r.oauth.AuthCodeURL("st", append([]oauth2.AuthCodeOption{oauth2.SetAuthURLParam("login_hint", "alice@acme.test")}, opts...)...)
	}
	s256 := oauth2.S256ChallengeOption(oauth2.GenerateVerifier())
	tests := []struct {
		name   string
		url    string
		status int
		err    string // redirect error, or page error code
	}{
		{"unknown client", strings.Replace(authURL(okta, s256), "client_id=", "client_id=x", 1), 400, "unauthorized_client"},
		{"unregistered redirect", authURL(okta, s256, oauth2.SetAuthURLParam("redirect_uri", "https://evil.example/cb")), 400, "invalid_request"},
		{"other loopback path", authURL(okta, s256, oauth2.SetAuthURLParam("redirect_uri", "http://127.0.0.1:1/other")), 400, "invalid_request"},
		{"implicit flow", authURL(okta, s256, oauth2.SetAuthURLParam("response_type", "token")), 302, "unsupported_response_type"},
		{"no openid scope", authURL(okta, s256, oauth2.SetAuthURLParam("scope", "email")), 302, "invalid_scope"},
		{"plain PKCE at Okta", authURL(okta, oauth2.SetAuthURLParam("code_challenge", oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("code_challenge_method", "plain")), 302, "invalid_request"},
		{"short challenge", authURL(okta, oauth2.SetAuthURLParam("code_challenge", "abc"), oauth2.SetAuthURLParam("code_challenge_method", "S256")), 302, "invalid_request"},
		{"JumpCloud confidential client without PKCE", authURL(jc), 302, "access_denied"}, // past the PKCE check (Hydra's default: optional); alice is no JumpCloud user here
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, q, body := get(tc.url)
			if status != tc.status {
				t.Fatalf("status %d, want %d", status, tc.status)
			}
			if status == 302 {
				if q.Get("error") != tc.err || q.Get("state") != "st" {
					t.Fatalf("redirect %v, want error %s", q, tc.err)
				}
			} else if !strings.Contains(body, tc.err) {
				t.Fatalf("page does not name %s", tc.err)
			}
		})
	}
	// Azure accepts plain PKCE, as Azure does.
	az := newRP(t, srv, "azure")
	ver := oauth2.GenerateVerifier()
	status, q, _ := get(az.oauth.AuthCodeURL("st", oauth2.SetAuthURLParam("login_hint", "bob@contoso.test"),
		oauth2.SetAuthURLParam("code_challenge", ver), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
	if status != 302 || q.Get("code") == "" {
		t.Fatalf("plain PKCE at Azure: %d %v", status, q)
	}
	tok, err := az.oauth.Exchange(az.ctx, q.Get("code"), oauth2.SetAuthURLParam("code_verifier", ver))
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("plain PKCE exchange: %v", err)
	}
}

func TestUserinfoAndEndSession(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "onelogin")
	for name, hdr := range map[string]string{"none": "", "unknown token": "Bearer nope", "basic": "Basic eDp5"} {
		req, _ := http.NewRequest("GET", srv.URL+"/onelogin/oidc/2/me", nil)
		if hdr != "" {
			req.Header.Set("Authorization", hdr)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	var endSession struct {
		URL string `json:"end_session_endpoint"`
	}
	if err := r.provider.Claims(&endSession); err != nil || endSession.URL == "" {
		t.Fatal(err)
	}
	client := noRedirect(srv)
	// OneLogin redirects after logout only with the client's ID token as
	// id_token_hint.
	tok, _, err := r.login("alice@initech.test")
	if err != nil {
		t.Fatal(err)
	}
	hint, _ := tok.Extra("id_token").(string)
	resp, err := client.Get(endSession.URL + "?post_logout_redirect_uri=" + url.QueryEscape("http://127.0.0.1:18080/callback") + "&state=x&id_token_hint=" + hint)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "http://127.0.0.1:18080/callback?state=x" {
		t.Fatalf("end session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = client.Get(endSession.URL + "?post_logout_redirect_uri=" + url.QueryEscape("https://evil.example/"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("open redirect at end session: %d", resp.StatusCode)
	}
}
