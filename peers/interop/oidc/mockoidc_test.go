package oidc_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/sso"
)

// What mockoidc (oauth2-proxy/mockoidc) does, from its source: discovery
// at {issuer}/.well-known/openid-configuration with the issuer
// http://127.0.0.1:PORT/oidc; an authorization endpoint that signs the
// next queued user in at once and redirects back with a code; PKCE with
// S256 (and plain) checked at the token endpoint; the nonce echoed in the
// ID token (RS256, with a kid); the client credentials read from the form
// only; a code redeemed once; claims scoped by the scopes asked (groups
// only with the groups scope, email and email_verified with email, and
// email_verified left out when false); userinfo with the access token.
// It never sends given_name or family_name, so ssokit asks userinfo.

// stateKey signs ssokit's state cookies in these tests.
var stateKey = []byte("mockoidc-interop-state-key-32-bytes")

// callbackURL is the connection's redirect URL. Nothing listens there:
// the tests hand the redirect to the connection's Finish.
const callbackURL = "https://app.test/oidc/callback"

// op is mockoidc on loopback, with the requests it answered.
type op struct {
	*mockoidc.MockOIDC

	mu  sync.Mutex
	log []opRequest
}

// opRequest is one request mockoidc answered: its path, its parameters
// (query and form), and whether it carried HTTP Basic credentials.
type opRequest struct {
	path  string
	form  url.Values
	basic bool
}

// startOP starts mockoidc on 127.0.0.1 with the middleware mw inside the
// one that records requests. It serves plain http, as mockoidc.Run does
// (ssokit fetches from a loopback host over http only with
// Options.InsecureAllowLoopback). mockoidc.RunTLS is no way to https:
// its issuer says https, but Start serves the listener with
// http.Server.Serve, so every https client meets a plain HTTP answer.
func startOP(t testing.TB, mw ...func(http.Handler) http.Handler) *op {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	o := &op{MockOIDC: m}
	for _, f := range append([]func(http.Handler) http.Handler{o.record}, mw...) {
		if err := m.AddMiddleware(f); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return o
}

func (o *op) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _, basic := r.BasicAuth()
		o.mu.Lock()
		o.log = append(o.log, opRequest{path: r.URL.Path, form: r.Form, basic: basic})
		o.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// requests returns the requests mockoidc answered at path.
func (o *op) requests(path string) []opRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []opRequest
	for _, r := range o.log {
		if r.path == path {
			out = append(out, r)
		}
	}
	return out
}

// trailingSlashIssuer makes mockoidc's discovery document name its issuer
// with a trailing slash (as JumpCloud writes its issuer), while its ID
// tokens keep the issuer without one.
func trailingSlashIssuer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != mockoidc.DiscoveryEndpoint {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		issuer, _ := doc["issuer"].(string)
		if issuer == "" {
			http.Error(w, "no issuer", http.StatusInternalServerError)
			return
		}
		doc["issuer"] = issuer + "/"
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})
}

// newConnection is ssokit's generic OIDC connection to o, with the
// groups scope and client_secret_post, changed by mod when not nil.
func newConnection(t testing.TB, o *op, mod func(*idp.OIDCSettings)) (idp.Connector, error) {
	s := &idp.OIDCSettings{Issuer: o.Issuer(), ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: callbackURL,
		Scopes: []string{"openid", "profile", "email", "groups"}, TokenEndpointAuthMethod: "client_secret_post"}
	if mod != nil {
		mod(s)
	}
	return idp.New(t.Context(), idp.Connection{ID: "mockoidc", Protocol: sso.OIDC, Vendor: sso.Generic,
		Attributes: map[string]string{"email": "email"}, OIDC: s},
		idp.Options{HTTPClient: &http.Client{Timeout: 5 * time.Second}, InsecureAllowLoopback: true, StateKey: stateKey})
}

func connect(t testing.TB, o *op, mod func(*idp.OIDCSettings)) idp.Connector {
	t.Helper()
	conn, err := newConnection(t, o, mod)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// appURL is where the browser keeps the app's cookies.
var appURL = &url.URL{Scheme: "https", Host: "app.test", Path: "/"}

// browser is a person's browser: the app's cookies, and a client for the
// OP that follows no redirects.
type browser struct {
	t   testing.TB
	op  *http.Client
	jar *cookiejar.Jar
}

func newBrowser(t testing.TB) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, jar: jar, op: &http.Client{Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// start runs conn.Start (back to /dashboard) and returns the
// authorization request it redirects the browser to.
func (b *browser) start(conn idp.Connector) *url.URL {
	b.t.Helper()
	rec := httptest.NewRecorder()
	if err := conn.Start(rec, httptest.NewRequest(http.MethodGet, "https://app.test/login", nil), "/dashboard", ""); err != nil {
		b.t.Fatal(err)
	}
	res := rec.Result()
	b.jar.SetCookies(appURL, res.Cookies())
	u, err := res.Location()
	if err != nil || res.StatusCode != http.StatusFound {
		b.t.Fatalf("Start answered %d (%v), want a redirect", res.StatusCode, err)
	}
	return u
}

// authorize visits the authorization endpoint, where mockoidc signs the
// queued user in at once, and returns the callback it redirects to.
func (b *browser) authorize(u *url.URL) *url.URL {
	b.t.Helper()
	resp, err := b.op.Get(u.String())
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	cb, err := resp.Location()
	if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(cb.String(), callbackURL+"?") {
		b.t.Fatalf("the authorization endpoint answered %d %s", resp.StatusCode, body)
	}
	return cb
}

// callback runs conn.Finish on the redirect back, with cookies (the
// browser's own when nil), and keeps the cookies Finish set.
func (b *browser) callback(conn idp.Connector, cb *url.URL, cookies []*http.Cookie) (*idp.Identity, string, error) {
	b.t.Helper()
	req := httptest.NewRequest(http.MethodGet, cb.String(), nil)
	if cookies == nil {
		cookies = b.jar.Cookies(cb)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	id, returnTo, err := conn.Finish(rec, req)
	b.jar.SetCookies(appURL, rec.Result().Cookies())
	return id, returnTo, err
}

// signIn runs a whole login and returns the callback and what Finish
// answered.
func (b *browser) signIn(conn idp.Connector) (*url.URL, *idp.Identity, string, error) {
	b.t.Helper()
	cb := b.authorize(b.start(conn))
	id, returnTo, err := b.callback(conn, cb, nil)
	return cb, id, returnTo, err
}

// TestMockOIDCSignsIn: a login through mockoidc reaches the exact
// Identity, and what ssokit sent on the way is what OIDC Core and RFC
// 7636 ask: a nonce, the PKCE S256 challenge of the verifier it redeemed
// the code with, the state of the callback, the client in the form.
func TestMockOIDCSignsIn(t *testing.T) {
	t.Parallel()
	o := startOP(t)
	o.QueueUser(&mockoidc.MockUser{Subject: "u-7f3a9c", Email: "grace@mockoidc.test", EmailVerified: true, PreferredUsername: "grace",
		Phone: "+1 555 0100", Address: "1 Loopback Way", Groups: []string{"admins", "Book club; admins"}})
	o.QueueCode("code-grace-1")
	conn := connect(t, o, nil)
	before := time.Now().Unix()
	cb, id, returnTo, err := newBrowser(t).signIn(conn)
	after := time.Now().Unix()
	if err != nil {
		t.Fatalf("ssokit refused mockoidc's login: %v", err)
	}
	if returnTo != "/dashboard" {
		t.Errorf("return to %q, want /dashboard", returnTo)
	}

	authz, token := o.requests(mockoidc.AuthorizationEndpoint), o.requests(mockoidc.TokenEndpoint)
	if len(authz) != 1 || len(token) != 1 {
		t.Fatalf("%d authorization and %d token requests, want one each", len(authz), len(token))
	}
	a, tk := authz[0].form, token[0].form
	for param, want := range map[string]string{"response_type": "code", "client_id": o.ClientID, "redirect_uri": callbackURL,
		"scope": "openid profile email groups", "code_challenge_method": "S256", "state": cb.Query().Get("state")} {
		if got := a.Get(param); got != want {
			t.Errorf("authorization request %s=%q, want %q", param, got, want)
		}
	}
	if a.Get("nonce") == "" || a.Get("state") == "" {
		t.Errorf("authorization request without a nonce or state: %v", a)
	}
	sum := sha256.Sum256([]byte(tk.Get("code_verifier")))
	if tk.Get("code_verifier") == "" || a.Get("code_challenge") != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Errorf("code_challenge %q is not the S256 of the code_verifier %q", a.Get("code_challenge"), tk.Get("code_verifier"))
	}
	if tk.Get("grant_type") != "authorization_code" || tk.Get("code") != "code-grace-1" || tk.Get("redirect_uri") != callbackURL ||
		tk.Get("client_id") != o.ClientID || tk.Get("client_secret") != o.ClientSecret || token[0].basic {
		t.Errorf("token request %v (basic auth %v)", tk, token[0].basic)
	}
	// The ID token names neither given_name nor family_name: ssokit asks
	// userinfo once, which names the same sub.
	if n := len(o.requests(mockoidc.UserinfoEndpoint)); n != 1 {
		t.Errorf("%d userinfo requests, want 1", n)
	}

	// The times mockoidc stamped: now, valid for its AccessTTL.
	iat, _ := id.Raw["iat"].(float64)
	if int64(iat) < before || int64(iat) > after || id.Raw["nbf"] != iat || id.Raw["exp"] != iat+o.AccessTTL.Seconds() {
		t.Errorf("iat %v nbf %v exp %v, want iat in [%d, %d], nbf = iat, exp = iat + %v", id.Raw["iat"], id.Raw["nbf"], id.Raw["exp"], before, after, o.AccessTTL)
	}
	for _, c := range []string{"iat", "nbf", "exp"} {
		delete(id.Raw, c)
	}
	want := idp.Identity{
		Subject: "u-7f3a9c", Email: "grace@mockoidc.test", EmailVerified: true, Groups: []string{"admins", "Book club; admins"},
		IdP: sso.Generic, ConnectionID: "mockoidc", Protocol: sso.OIDC,
		Raw: map[string]any{
			"iss": o.Issuer(), "aud": []any{o.ClientID}, "sub": "u-7f3a9c", "jti": "code-grace-1", "nonce": a.Get("nonce"),
			"email": "grace@mockoidc.test", "email_verified": true, "preferred_username": "grace",
			"phone_number": "+1 555 0100", "address": "1 Loopback Way", "groups": []any{"admins", "Book club; admins"},
		},
	}
	if !reflect.DeepEqual(*id, want) {
		t.Errorf("identity\n got %#v\nwant %#v", *id, want)
	}
}

// TestMockOIDCRefused: logins through mockoidc that must not sign anyone
// in, each refused for its own reason (the LoginError's sentinel, Reason
// and Vouched, and what its Detail names).
func TestMockOIDCRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		run      func(t *testing.T) error
		sentinel error
		reason   string
		detail   string
		vouched  bool
	}{
		{"client_secret_basic, which mockoidc lists but does not take", func(t *testing.T) error {
			// ssokit sends the credentials as RFC 6749 section 2.3.1 says,
			// in the Authorization header; mockoidc looks for them in the
			// form only and answers that client_id is missing.
			o := startOP(t)
			_, _, _, err := newBrowser(t).signIn(connect(t, o, func(s *idp.OIDCSettings) { s.TokenEndpointAuthMethod = "" }))
			if tok := o.requests(mockoidc.TokenEndpoint); len(tok) != 1 || !tok[0].basic || tok[0].form.Has("client_secret") {
				t.Errorf("token requests %+v, want one with Basic credentials only", tok)
			}
			return err
		}, idp.ErrInvalidResponse, idp.ReasonCode, "invalid_request The request is missing the required parameter: client_id", false},

		{"wrong client secret", func(t *testing.T) error {
			// mockoidc echoes the secret it was sent ("Invalid client
			// secret: ..."): the refusal names it [client secret].
			o := startOP(t)
			var secret string
			_, _, _, err := newBrowser(t).signIn(connect(t, o, func(s *idp.OIDCSettings) { s.ClientSecret = "not-" + s.ClientSecret; secret = s.ClientSecret }))
			if err == nil || secret == "" || strings.Contains(err.Error(), secret) {
				t.Errorf("the refusal %v carries the client secret", err)
			}
			return err
		}, idp.ErrInvalidResponse, idp.ReasonCode, "token endpoint: invalid_client Invalid client secret: [client secret]", false},

		{"code replayed with the state cookie it came with", func(t *testing.T) error {
			conn := connect(t, startOP(t), nil)
			b := newBrowser(t)
			cb := b.authorize(b.start(conn))
			cookies := b.jar.Cookies(appURL)
			if _, _, err := b.callback(conn, cb, nil); err != nil {
				t.Fatalf("first use refused: %v", err)
			}
			_, _, err := b.callback(conn, cb, cookies)
			return err
		}, idp.ErrInvalidResponse, idp.ReasonCode, "token endpoint: invalid_grant", false},

		{"code replayed by the browser", func(t *testing.T) error {
			// The first Finish cleared the state cookie.
			conn := connect(t, startOP(t), nil)
			b := newBrowser(t)
			cb, _, _, err := b.signIn(conn)
			if err != nil {
				t.Fatalf("first use refused: %v", err)
			}
			_, _, err = b.callback(conn, cb, nil)
			return err
		}, idp.ErrNoLogin, idp.ReasonState, "", false},

		{"callback in another browser", func(t *testing.T) error {
			conn := connect(t, startOP(t), nil)
			b := newBrowser(t)
			cb := b.authorize(b.start(conn))
			_, _, err := newBrowser(t).callback(conn, cb, nil)
			return err
		}, idp.ErrNoLogin, idp.ReasonState, "", false},

		{"one login's code finishing another login of the browser", func(t *testing.T) error {
			// The code is redeemed with the other login's PKCE verifier,
			// and mockoidc refuses it. (Were PKCE not checked, the ID
			// token's nonce, the first login's, would be refused.)
			conn := connect(t, startOP(t), nil)
			b := newBrowser(t)
			first := b.authorize(b.start(conn))
			second := b.authorize(b.start(conn))
			q := second.Query()
			q.Set("code", first.Query().Get("code"))
			swapped := *second
			swapped.RawQuery = q.Encode()
			_, _, err := b.callback(conn, &swapped, nil)
			return err
		}, idp.ErrInvalidResponse, idp.ReasonCode, "Code challenge did not match", false},

		{"email not verified", func(t *testing.T) error {
			// mockoidc leaves email_verified out when it is false
			// (omitempty), so the generic profile, which needs the claim,
			// refuses it as missing rather than false.
			o := startOP(t)
			o.QueueUser(&mockoidc.MockUser{Subject: "u-unverified", Email: "eve@mockoidc.test"})
			_, _, _, err := newBrowser(t).signIn(connect(t, o, nil))
			return err
		}, idp.ErrNotAllowed, idp.ReasonEmailVerifiedNone, "no email_verified claim", true},

		{"ID tokens naming another issuer than discovery", func(t *testing.T) error {
			o := startOP(t, trailingSlashIssuer)
			_, _, _, err := newBrowser(t).signIn(connect(t, o, func(s *idp.OIDCSettings) { s.Issuer += "/" }))
			return err
		}, idp.ErrInvalidResponse, idp.ReasonIssuer, "issued by a different provider", true},

		{"the OP's clock two hours behind", func(t *testing.T) error {
			o := startOP(t)
			o.FastForward(-2 * time.Hour)
			_, _, _, err := newBrowser(t).signIn(connect(t, o, nil))
			return err
		}, idp.ErrInvalidResponse, idp.ReasonExpired, "token is expired", true},

		{"the OP's clock an hour ahead", func(t *testing.T) error {
			o := startOP(t)
			o.FastForward(time.Hour)
			_, _, _, err := newBrowser(t).signIn(connect(t, o, nil))
			return err
		}, idp.ErrInvalidResponse, idp.ReasonNotYetValid, "before the nbf", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.run(t)
			var le *idp.LoginError
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want a *idp.LoginError (%s)", err, tc.reason)
			}
			if !errors.Is(err, tc.sentinel) || le.Reason != tc.reason || le.Vouched != tc.vouched || !strings.Contains(le.Detail, tc.detail) {
				t.Fatalf("got %v (reason %s, vouched %v), want %v (reason %s, vouched %v, detail naming %q)",
					err, le.Reason, le.Vouched, tc.sentinel, tc.reason, tc.vouched, tc.detail)
			}
		})
	}
}

// TestMockOIDCIssuerMismatchAtSetup: a connection whose issuer is not the
// one mockoidc's discovery document names is refused when it is built,
// before anyone signs in.
func TestMockOIDCIssuerMismatchAtSetup(t *testing.T) {
	t.Parallel()
	o := startOP(t)
	_, err := newConnection(t, o, func(s *idp.OIDCSettings) { s.Issuer += "/" })
	if !errors.Is(err, idp.ErrConfig) || !strings.Contains(err.Error(), "the discovery document names another issuer") {
		t.Fatalf("got %v, want ErrConfig naming the discovery document's other issuer", err)
	}
	if n := len(o.requests(mockoidc.DiscoveryEndpoint)); n != 1 {
		t.Errorf("%d discovery requests, want 1", n)
	}
}
