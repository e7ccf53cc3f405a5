package mockidp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/mockidp/internal/redirect"
	"github.com/ssokit/ssokit/mockidp/mockclerk"
)

func adminCall(t *testing.T, srv *Server, method, path, body, token string) (int, map[string]any) {
	t.Helper()
	status, b := adminRaw(t, srv, method, path, body, token)
	var m map[string]any
	json.Unmarshal([]byte(b), &m)
	return status, m
}

// adminRaw is adminCall answering the body as it came.
func adminRaw(t *testing.T, srv *Server, method, path, body, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "okta", "openid", "email", "groups")

	// A user added at run time can sign in at once, with their groups.
	status, _ := adminCall(t, srv, "PUT", "/admin/v1/personas/okta/users/dave@acme.test",
		`{"given_name":"Dave","groups":["admins"],"claims":{"department":"ops"}}`, "")
	if status != 200 {
		t.Fatalf("put user: %d", status)
	}
	_, idt, err := r.login("dave@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	c := claimsOf(t, idt)
	wantClaim(t, c, "groups", []any{"admins"})
	wantClaim(t, c, "department", "ops")

	// Removed: refused with the vendor's error.
	if status, _ := adminCall(t, srv, "DELETE", "/admin/v1/personas/okta/users/dave@acme.test", "", ""); status != 204 {
		t.Fatalf("delete user: %d", status)
	}
	if _, _, err := r.login("dave@acme.test"); err == nil {
		t.Fatal("a deleted user signed in")
	}

	// Rotation publishes a second key; the relying party follows.
	status, m := adminCall(t, srv, "POST", "/admin/v1/personas/okta/keys/rotate", "", "")
	if status != 200 || m["kid"] == "" {
		t.Fatalf("rotate: %d %v", status, m)
	}
	tok, _, err := r.login("alice@acme.test")
	if err != nil || headerKid(t, tok.Extra("id_token").(string)) != m["kid"] {
		t.Fatalf("after rotation: %v", err)
	}

	// Clock offset shifts token times.
	if status, _ := adminCall(t, srv, "PUT", "/admin/v1/personas/okta/clock", `{"offset_seconds":-7200}`, ""); status != 200 {
		t.Fatalf("clock: %d", status)
	}
	if _, _, err := r.login("alice@acme.test"); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("token from two hours ago accepted: %v", err)
	}
	adminCall(t, srv, "PUT", "/admin/v1/personas/okta/clock", `{"offset_seconds":0}`, "")

	// Faults until cleared, then cleared.
	if status, _ := adminCall(t, srv, "POST", "/admin/v1/personas/okta/faults", `{"fault":"wrong_aud","times":0}`, ""); status != 200 {
		t.Fatalf("fault: %d", status)
	}
	for range 2 {
		if _, _, err := r.login("alice@acme.test"); err == nil {
			t.Fatal("fault until cleared was used up")
		}
	}
	if status, _ := adminCall(t, srv, "DELETE", "/admin/v1/personas/okta/faults", "", ""); status != 204 {
		t.Fatalf("clear faults: %d", status)
	}
	if _, _, err := r.login("alice@acme.test"); err != nil {
		t.Fatal(err)
	}

	// Queue through the API.
	if status, _ := adminCall(t, srv, "POST", "/admin/v1/personas/okta/queue", `{"email":"bob@acme.test"}`, ""); status != 200 {
		t.Fatal(status)
	}
	if _, idt, _ := r.login("alice@acme.test"); claimsOf(t, idt)["email"] != "bob@acme.test" {
		t.Fatal("queued user not used")
	}

	// Clients: a removed client is refused.
	if status, _ := adminCall(t, srv, "PUT", "/admin/v1/personas/okta/clients/extra",
		`{"client_secret":"x","redirect_uris":["http://127.0.0.1/cb"]}`, ""); status != 200 {
		t.Fatal(status)
	}
	if status, _ := adminCall(t, srv, "DELETE", "/admin/v1/personas/okta/clients/extra", "", ""); status != 204 {
		t.Fatal(status)
	}
	if status, _ := adminCall(t, srv, "DELETE", "/admin/v1/personas/okta/clients/extra", "", ""); status != 404 {
		t.Fatal(status)
	}

	// Refusals with stable codes.
	for _, tc := range []struct{ method, path, body, code string }{
		{"PUT", "/admin/v1/personas/nope/users/a@b.test", `{}`, "no_such_persona"},
		{"PUT", "/admin/v1/personas/okta/users/a@b.test", `{"email":"c@d.test"}`, "email_mismatch"},
		{"PUT", "/admin/v1/personas/okta/users/not-an-email", `{}`, "invalid_user"},
		{"PUT", "/admin/v1/personas/okta/users/a@b.test", `{"grups":[]}`, "invalid_json"},
		{"PUT", "/admin/v1/personas/okta/clients/x", `{"redirect_uris":[]}`, "invalid_client"},
		{"POST", "/admin/v1/personas/okta/faults", `{"fault":"nonsense"}`, "invalid_fault"},
		{"POST", "/admin/v1/personas/okta/faults", `{"fault":"wrong_aud","times":-1}`, "invalid_fault"},
		{"PUT", "/admin/v1/personas/okta/clock", `{"offset_seconds":999999999999}`, "invalid_offset"},
		{"POST", "/admin/v1/personas/okta/queue", `{"email":"ghost@acme.test"}`, "invalid_user"},
		{"DELETE", "/admin/v1/personas/okta/users/ghost@acme.test", ``, "no_such_user"},
	} {
		status, m := adminCall(t, srv, tc.method, tc.path, tc.body, "")
		if status/100 != 4 || m["error"] != tc.code {
			t.Errorf("%s %s %s: %d %v, want %s", tc.method, tc.path, tc.body, status, m, tc.code)
		}
	}

	// Reset: back to the configuration.
	srv.Persona("okta").PutUser(UserConfig{Email: "temp@acme.test"})
	if status, _ := adminCall(t, srv, "POST", "/admin/v1/reset", "", ""); status != 200 {
		t.Fatal(status)
	}
	if _, ok := srv.Persona("okta").User("temp@acme.test"); ok {
		t.Fatal("reset kept a run-time user")
	}
	if set, _ := srv.Persona("okta").keys.JWKS(); len(set["keys"].([]any)) != 1 {
		t.Fatal("reset kept rotated keys")
	}

	var faults []FaultInfo
	resp, _ := srv.Client().Get(srv.URL + "/admin/v1/faults")
	json.NewDecoder(resp.Body).Decode(&faults)
	resp.Body.Close()
	if len(faults) != len(faultCatalog)+len(mockclerk.Faults()) || faults[0].ID == "" || faults[0].Description == "" {
		t.Fatalf("fault list %v", faults)
	}
}

func TestAdminToken(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.AdminToken = "let-me-in"
	srv := Start(t, cfg)
	if status, m := adminCall(t, srv, "POST", "/admin/v1/reset", "", ""); status != 401 || m["error"] != "unauthorized" {
		t.Fatalf("without token: %d %v", status, m)
	}
	if status, _ := adminCall(t, srv, "POST", "/admin/v1/reset", "", "wrong"); status != 401 {
		t.Fatalf("wrong token: %d", status)
	}
	if status, _ := adminCall(t, srv, "POST", "/admin/v1/reset", "", "let-me-in"); status != 200 {
		t.Fatalf("right token: %d", status)
	}
}

func TestListing(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	resp, err := srv.Client().Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	var l Listing
	json.NewDecoder(resp.Body).Decode(&l)
	resp.Body.Close()
	if len(l.Personas) != 5 || l.Clerk == nil {
		t.Fatalf("listing %+v", l)
	}
	names := []string{}
	for _, p := range l.Personas {
		names = append(names, p.Name+"="+string(p.Vendor))
		if p.OIDC.Issuer == "" || p.OIDC.DiscoveryURL == "" || len(p.Clients) == 0 || len(p.Users) == 0 || p.Clients[0].ClientSecret == "" {
			t.Errorf("persona %s listing incomplete: %+v", p.Name, p)
		}
	}
	if got := strings.Join(names, ","); got != "okta=okta,azure=azure_ad,google=google_workspace,onelogin=onelogin,jumpcloud=jumpcloud" {
		t.Fatalf("personas %s", got)
	}
	az := l.Personas[1]
	if len(az.OIDC.OtherIssuers) != 2 || !strings.HasSuffix(az.OIDC.OtherIssuers[0], "/azure/{tenantid}/v2.0") || len(az.Users[0].GroupIDs) != 2 {
		t.Fatalf("azure listing %+v", az)
	}
	if l.Personas[0].OIDC.OtherIssuers[0] != srv.URL+"/okta" {
		t.Fatalf("okta other issuers %v", l.Personas[0].OIDC.OtherIssuers)
	}

	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "/okta/oauth2/default") {
		t.Fatalf("HTML listing: %s", resp.Header.Get("Content-Type"))
	}
}

func TestPrefersHTML(t *testing.T) {
	t.Parallel()
	for accept, want := range map[string]bool{
		"":                                  false,
		"*/*":                               false,
		"application/json":                  false,
		"text/html":                         true,
		"text/html;q=0.5, application/json": false,
		"application/json;q=0.1, text/html": true,
		"text/html, application/json":       false,
		"garbage;;;":                        false,
	} {
		if got := prefersHTML(accept); got != want {
			t.Errorf("prefersHTML(%q) = %v", accept, got)
		}
	}
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	if _, err := ParseConfig(DefaultConfigYAML()); err != nil {
		t.Fatalf("embedded default: %v", err)
	}
	js, _ := json.Marshal(DefaultConfig())
	if cfg, err := ParseConfig(js); err != nil || len(cfg.Personas) != 5 {
		t.Fatalf("JSON round trip: %v", err)
	}
	bad := map[string]string{
		"unknown field":     "personas: [{name: a, vendor: okta, colour: red}]",
		"unknown vendor":    "personas: [{name: a, vendor: auth0}]",
		"reserved name":     "personas: [{name: admin, vendor: okta}]",
		"name with slash":   "personas: [{name: a/b, vendor: okta}]",
		"duplicate":         "personas: [{name: a, vendor: okta}, {name: a, vendor: okta}]",
		"bad tenant":        "personas: [{name: a, vendor: azure_ad, tenant: contoso}]",
		"bad email":         "personas: [{name: a, vendor: okta, users: [{email: 'Alice <a@b.test>'}]}]",
		"secretless":        "personas: [{name: a, vendor: okta, clients: [{client_id: c, redirect_uris: [http://x/cb]}]}]",
		"no redirect":       "personas: [{name: a, vendor: okta, clients: [{client_id: c, client_secret: s}]}]",
		"relative redirect": "personas: [{name: a, vendor: okta, clients: [{client_id: c, client_secret: s, redirect_uris: [/cb]}]}]",
		"bad auth method":   "personas: [{name: a, vendor: okta, clients: [{client_id: c, client_secret: s, redirect_uris: [http://x/cb], token_endpoint_auth_method: private_key_jwt}]}]",
		"groups format":     "personas: [{name: a, vendor: onelogin, groups_format: csv}]",
		"not yaml":          "personas: [",
	}
	for name, src := range bad {
		if _, err := ParseConfig([]byte(src)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRedirectAllowed(t *testing.T) {
	t.Parallel()
	reg := []string{"http://127.0.0.1/callback", "https://app.example.com/cb", "http://localhost/callback"}
	for got, want := range map[string]bool{
		"http://127.0.0.1/callback":        true,
		"http://127.0.0.1:5555/callback":   true,
		"http://127.0.0.1:5555/callback?x": false,
		"http://127.0.0.1:5555/other":      false,
		"https://app.example.com/cb":       true,
		"https://app.example.com/cb/":      false,
		"https://app.example.com:444/cb":   false,
		"http://localhost:5555/callback":   false, // RFC 8252 loopback rule is for IP literals
		"http://127.0.0.2:5555/callback":   false,
		"":                                 false,
	} {
		if got2 := redirect.Allowed(reg, got); got2 != want {
			t.Errorf("redirect.Allowed(%q) = %v", got, got2)
		}
	}
}

// The README lists every fault a user can arm.
func TestREADMEListsEveryFault(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Faults() {
		if !strings.Contains(string(readme), "| `"+string(f.ID)+"` |") {
			t.Errorf("README does not list fault %s", f.ID)
		}
	}
}

// TestAdminAPIRefusesOtherSites: the developer's browser is a loopback
// caller, so any page it visits could drive the admin API (a cross-site
// POST) or, with its name re-pointed at 127.0.0.1 (DNS rebinding), act as
// same-origin and read GET /'s secrets. A request naming another Host, or
// sent from another origin or site, is refused and changes nothing; the
// server's own names and origin are served.
func TestAdminAPIRefusesOtherSites(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	u, _ := url.Parse(srv.URL)
	send := func(method, path, body string, h map[string]string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		for k, v := range h {
			if k == "Host" {
				req.Host = v
				continue
			}
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	hostile := map[string]map[string]string{
		"cross-site POST":           {"Origin": "https://evil.example", "Content-Type": "text/plain"},
		"null origin":               {"Origin": "null"},
		"another port of loopback":  {"Origin": "http://127.0.0.1:1"},
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site"},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site": "same-site"},
		"rebound name":              {"Host": "rebind.evil.example:" + u.Port(), "Origin": "http://rebind.evil.example:" + u.Port()},
		"rebound name, no Origin":   {"Host": "rebind.evil.example:" + u.Port()},
	}
	for name, h := range hostile {
		if status, body := send("PUT", "/admin/v1/personas/okta/users/mallory@acme.test", `{"email":"mallory@acme.test","groups":["admins"]}`, h); status != http.StatusForbidden {
			t.Errorf("%s: PUT user %d %s", name, status, body)
		}
		if status, _ := send("POST", "/admin/v1/personas/okta/faults", `{"fault":"access_denied","times":1}`, h); status != http.StatusForbidden {
			t.Errorf("%s: POST fault %d", name, status)
		}
		if _, rebound := h["Host"]; rebound {
			if status, body := send("GET", "/", "", h); status != http.StatusForbidden || strings.Contains(body, "sk_test_") {
				t.Errorf("%s: GET / %d", name, status)
			}
		}
	}
	for _, uc := range srv.Persona("okta").Users() {
		if uc.Email == "mallory@acme.test" {
			t.Fatal("a refused request created a user")
		}
	}
	// Reading the listing from a link on another site (the demo's app
	// links to it) works: that page cannot read the answer.
	if status, _ := send("GET", "/", "", map[string]string{"Sec-Fetch-Site": "same-site", "Accept": "text/html"}); status != http.StatusOK {
		t.Errorf("GET / from a link on another site: %d", status)
	}
	// The server's own origin and names are served.
	for name, h := range map[string]map[string]string{
		"no browser headers": nil,
		"same origin":        {"Origin": srv.URL, "Sec-Fetch-Site": "same-origin"},
		"localhost":          {"Host": "localhost:" + u.Port(), "Origin": "http://localhost:" + u.Port()},
		"typed in the bar":   {"Sec-Fetch-Site": "none"},
	} {
		if status, body := send("POST", "/admin/v1/reset", "", h); status != http.StatusOK {
			t.Errorf("%s: %d %s", name, status, body)
		}
	}
}

// TestListingHidesSecretsWithoutTheAdminToken: with an admin token, GET /
// lists the platform without its secrets unless the token comes with it.
func TestListingHidesSecretsWithoutTheAdminToken(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.AdminToken = "admin-token-0123456789"
	srv := Start(t, cfg)
	get := func(token string) string {
		_, body := adminRaw(t, srv, "GET", "/", "", token)
		return body
	}
	clerk := srv.Clerk("clerk")
	secrets := []string{clerk.SecretKey(), clerk.WebhookSigningSecret(), srv.Persona("okta").Clients()[0].ClientSecret}
	anon, admin := get(""), get(cfg.AdminToken)
	for _, s := range secrets {
		if s == "" || strings.Contains(anon, s) || !strings.Contains(admin, s) {
			t.Errorf("secret %q: in the anonymous listing %v, in the admin's %v", s, strings.Contains(anon, s), strings.Contains(admin, s))
		}
	}
	if !strings.Contains(anon, clerk.PublishableKey()) {
		t.Error("the anonymous listing lost what is not secret")
	}
	// Without a token, a caller from another machine gets no secrets
	// either (the admin API refuses it).
	open, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for peer, want := range map[string]bool{"192.0.2.7:5555": false, "127.0.0.1:5555": true} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host, r.RemoteAddr = "127.0.0.1:4451", peer
		w := httptest.NewRecorder()
		open.Handler().ServeHTTP(w, r)
		if got := strings.Contains(w.Body.String(), open.Clerk("clerk").SecretKey()); got != want {
			t.Errorf("GET / from %s: secret key listed %v, want %v", peer, got, want)
		}
	}
}

// TestAdminAPIOwnNames: the mock answers to its own address and name as
// its base URL gives them (a LAN address, a default port spelled out, a
// trailing dot), and a request with the admin token is the admin's
// whatever it names.
func TestAdminAPIOwnNames(t *testing.T) {
	t.Parallel()
	call := func(base, host string, h map[string]string) int {
		cfg := DefaultConfig()
		cfg.BaseURL, cfg.AdminToken = base, "admin-token-0123456789"
		srv, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("POST", "/admin/v1/reset", nil)
		r.Host, r.RemoteAddr = host, "10.9.8.7:1234"
		for k, v := range h {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, r)
		return w.Code
	}
	tok := map[string]string{"Authorization": "Bearer admin-token-0123456789"}
	for name, c := range map[string]struct {
		base, host string
		h          map[string]string
		want       int
	}{
		"a LAN address":                   {"http://10.1.2.3:4451", "10.1.2.3:4451", tok, http.StatusOK},
		"a trailing dot":                  {"http://idp.test.:8080", "idp.test.:8080", tok, http.StatusOK},
		"another name, with the token":    {"http://10.1.2.3:4451", "rebind.evil.example:4451", tok, http.StatusOK},
		"another name, without the token": {"http://10.1.2.3:4451", "rebind.evil.example:4451", nil, http.StatusForbidden},
		"the own address, no token":       {"http://10.1.2.3:4451", "10.1.2.3:4451", nil, http.StatusUnauthorized},
	} {
		if got := call(c.base, c.host, c.h); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
	// Without a token: a browser on the mock's own origin, its base URL
	// spelling out the default port the Origin header leaves out.
	cfg := DefaultConfig()
	cfg.BaseURL = "https://idp.example.test:443"
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/admin/v1/reset", nil)
	r.Host, r.RemoteAddr = "idp.example.test", "127.0.0.1:1234"
	r.Header.Set("Origin", "https://idp.example.test")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("same origin, default port: %d %s", w.Code, w.Body)
	}
}
