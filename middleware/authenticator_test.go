package middleware

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/ssoerr"
)

func TestAuthenticatorHandler(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testKid, nil)
	clk, keys, srv, v := f.clk, f.keys, f.srv, f.v
	a, err := NewAuthenticator(AuthenticatorConfig{Clerk: v})
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	alice := mint(t, keys[0], hdr(testKid), with(v1Claims(now), "sub", "user_alice"))
	bob := mint(t, keys[0], hdr(testKid), with(v1Claims(now), "sub", "user_bob"))
	expired := mint(t, keys[0], hdr(testKid), with(v1Claims(now), "exp", now.Unix()-60))
	pending := mint(t, keys[0], hdr(testKid), with(v2Claims(now), "sts", "pending"))
	srv.Down.Store(true) // only already-known keys work from here on
	if _, err := v.Verify(t.Context(), alice); err == nil {
		t.Fatal("key set should not be known yet")
	}
	srv.Down.Store(false)
	clk.Advance(clerkauth.DefaultRefreshInterval)
	forged := mint(t, keys[1], hdr("ins_unknown"), v1Claims(clk.Now()))

	var seen *Principal
	var sdkSub string
	h := a.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = PrincipalFrom(r.Context())
		if c, ok := clerk.SessionClaimsFromContext(r.Context()); ok {
			sdkSub = c.Subject
		}
		w.WriteHeader(http.StatusNoContent)
	}))

	type req struct {
		auth    []string
		cookies []string
	}
	tests := []struct {
		name       string
		req        req
		status     int
		code       string
		challenge  string
		user       string
		jwksOutage bool
	}{
		{name: "bearer header", req: req{auth: []string{"Bearer " + alice}}, status: 204, user: "user_alice"},
		{name: "lower-case scheme", req: req{auth: []string{"bearer " + alice}}, status: 204, user: "user_alice"},
		{name: "session cookie", req: req{cookies: []string{alice}}, status: 204, user: "user_alice"},
		{name: "header wins over cookie", req: req{auth: []string{"Bearer " + alice}, cookies: []string{bob}}, status: 204, user: "user_alice"},
		{name: "valid header, garbage cookie", req: req{auth: []string{"Bearer " + alice}, cookies: []string{"garbage"}}, status: 204, user: "user_alice"},
		{name: "other scheme falls to cookie", req: req{auth: []string{"Basic dXNlcjpwYXNz"}, cookies: []string{bob}}, status: 204, user: "user_bob"},
		{name: "nothing", req: req{}, status: 401, code: CodeNoCredentials, challenge: `Bearer realm="ssokit"`},
		{name: "other scheme only", req: req{auth: []string{"Basic dXNlcjpwYXNz"}}, status: 401, code: CodeNoCredentials, challenge: `Bearer realm="ssokit"`},
		{name: "empty bearer", req: req{auth: []string{"Bearer "}}, status: 401, code: CodeInvalidToken, challenge: `Bearer realm="ssokit", error="invalid_token"`},
		{name: "bare scheme", req: req{auth: []string{"Bearer"}}, status: 401, code: CodeInvalidToken},
		{name: "garbage in the cookie", req: req{cookies: []string{"garbage"}}, status: 401, code: CodeInvalidToken, challenge: `Bearer realm="ssokit", error="invalid_token"`},
		{name: "empty cookie", req: req{cookies: []string{""}}, status: 401, code: CodeInvalidToken},
		{name: "session cookie sent twice", req: req{cookies: []string{alice, bob}}, status: 401, code: CodeInvalidToken},
		{name: "garbage header does not fall back to cookie", req: req{auth: []string{"Bearer garbage"}, cookies: []string{alice}}, status: 401, code: CodeInvalidToken},
		{name: "two authorization headers", req: req{auth: []string{"Bearer " + alice, "Bearer " + bob}}, status: 401, code: CodeInvalidToken},
		{name: "expired", req: req{auth: []string{"Bearer " + expired}}, status: 401, code: CodeTokenExpired, challenge: `Bearer realm="ssokit", error="invalid_token", error_description="the token expired"`},
		{name: "pending session", req: req{auth: []string{"Bearer " + pending}}, status: 401, code: CodeSessionPending},
		{name: "unknown kid", req: req{auth: []string{"Bearer " + forged}}, status: 401, code: CodeInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen, sdkSub = nil, ""
			r := httptest.NewRequest("GET", "/api/things", nil)
			for _, v := range tc.req.auth {
				r.Header.Add("Authorization", v)
			}
			for _, c := range tc.req.cookies {
				r.AddCookie(&http.Cookie{Name: "__session", Value: c})
			}
			if len(tc.req.cookies) > 0 { // clerk-js keeps both
				r.AddCookie(&http.Cookie{Name: "__client_uat", Value: strconv.FormatInt(clk.Now().Add(-time.Minute).Unix(), 10)})
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tc.status, w.Body)
			}
			if tc.status == 204 {
				if seen == nil || seen.ClerkUserID != tc.user || seen.UserID != "" || sdkSub != tc.user {
					t.Fatalf("principal %+v, sdk sub %q; want %s", seen, sdkSub, tc.user)
				}
				return
			}
			if seen != nil {
				t.Fatal("next ran for a refused request")
			}
			var body struct{ Error, Message string }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error != tc.code {
				t.Fatalf("body %s (%v), want error %q", w.Body, err, tc.code)
			}
			if tc.challenge != "" && w.Header().Get("WWW-Authenticate") != tc.challenge {
				t.Fatalf("WWW-Authenticate %q, want %q", w.Header().Get("WWW-Authenticate"), tc.challenge)
			}
			if w.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without a WWW-Authenticate challenge")
			}
			for _, leak := range []string{"kid", "ins_", "user_", "verify", "iss", "azp", "not-a", "garbage"} {
				if strings.Contains(w.Body.String(), leak) {
					t.Fatalf("body %s leaks detail %q", w.Body, leak)
				}
			}
		})
	}
}

func TestAuthenticatorUpstreamAndCustomDeny(t *testing.T) {
	t.Parallel()
	clk := newClock()
	keys := testKeys()
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{testKid: &keys[0].PublicKey})
	srv.Down.Store(true)
	v := newTestVerifier(t, clk, srv, nil)
	tok := mint(t, keys[0], hdr(testKid), v1Claims(clk.Now()))

	t.Run("default 503", func(t *testing.T) {
		a, _ := NewAuthenticator(AuthenticatorConfig{Clerk: v})
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		a.Handler(http.NotFoundHandler()).ServeHTTP(w, r)
		if w.Code != 503 || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), CodeUpstream) {
			t.Fatalf("got %d %v %s", w.Code, w.Header(), w.Body)
		}
	})
	t.Run("custom deny handler receives the error", func(t *testing.T) {
		var got error
		a, _ := NewAuthenticator(AuthenticatorConfig{Clerk: v, ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			w.WriteHeader(http.StatusTeapot)
		}})
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: "__session", Value: tok})
		w := httptest.NewRecorder()
		a.Handler(http.NotFoundHandler()).ServeHTTP(w, r)
		if w.Code != http.StatusTeapot || !errors.Is(got, ssoerr.ErrUpstream) || ssoerr.ReasonOf(got) != ssoerr.ReasonKeysUnavailable {
			t.Fatalf("status %d err %v", w.Code, got)
		}
	})
	t.Run("custom cookie name", func(t *testing.T) {
		a, _ := NewAuthenticator(AuthenticatorConfig{Clerk: v, SessionCookie: "__session_app"})
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: "__session", Value: tok})
		_, err := a.Authenticate(r)
		if !errors.Is(err, ssoerr.ErrNoCredentials) {
			t.Fatalf("err %v, want ssoerr.ErrNoCredentials", err)
		}
	})
	if _, err := NewAuthenticator(AuthenticatorConfig{}); err == nil {
		t.Fatal("an authenticator without a verifier was built")
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{ssoerr.ErrNoCredentials, 401, CodeNoCredentials},
		{ssoerr.New(ssoerr.ErrInvalidToken, ssoerr.ReasonSignature, "x"), 401, CodeInvalidToken},
		{ssoerr.New(ssoerr.ErrInvalidToken, ssoerr.ReasonUnknownAPIKey, "x"), 401, CodeInvalidToken},
		{ssoerr.New(ssoerr.ErrExpired, ssoerr.ReasonExpired, ""), 401, CodeTokenExpired},
		{ssoerr.New(ssoerr.ErrInvalidToken, ssoerr.ReasonSessionPending, "x"), 401, CodeSessionPending},
		{ssoerr.New(ssoerr.ErrInvalidToken, ssoerr.ReasonSessionRevoked, "x"), 401, "session_revoked"},
		{ssoerr.New(ssoerr.ErrInvalidCredentials, ssoerr.ReasonInvalidCredentials, "x"), 401, CodeInvalidCredentials},
		{ssoerr.New(ssoerr.ErrForbidden, ssoerr.ReasonDomainNotAllowed, "x"), 403, "domain_not_allowed"},
		{ssoerr.New(ssoerr.ErrForbidden, ssoerr.ReasonRole, "x"), 403, CodeForbidden},
		{ssoerr.New(ssoerr.ErrRateLimited, ssoerr.ReasonRateLimited, "x"), 429, CodeRateLimited},
		{ssoerr.ErrForbidden, 403, CodeForbidden},
		{ssoerr.Upstream(ssoerr.ReasonKeysUnavailable, errors.New("down")), 503, CodeUpstream},
		{ssoerr.Upstream(ssoerr.ReasonSessionRevoked, errors.New("down")), 503, CodeUpstream}, // an outage never reads as a verdict
		{errors.New("bug"), 500, CodeInternal},
	}
	for _, tc := range tests {
		if got := Classify(tc.err); got.Status != tc.status || got.Code != tc.code {
			t.Errorf("Classify(%v) = %+v, want %d %s", tc.err, got, tc.status, tc.code)
		}
	}
	if !errors.Is(ssoerr.ErrExpired, ssoerr.ErrInvalidToken) {
		t.Error("ssoerr.ErrExpired must match ssoerr.ErrInvalidToken")
	}
	if Classify(ssoerr.ErrForbidden).Challenge != `Bearer realm="ssokit", error="insufficient_scope"` {
		t.Errorf("403 challenge %q", Classify(ssoerr.ErrForbidden).Challenge)
	}
}

// Without a store, ClerkRoles turns the Clerk organization role into the
// app role RequireRole checks; unlisted roles and tokens without an
// organization get no role and are refused.
func TestClerkRolesWithoutStore(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testKid, nil)
	a, err := NewAuthenticator(AuthenticatorConfig{Clerk: f.v, ClerkRoles: map[string]rbac.Role{"org:admin": rbac.Admin, "member": rbac.Viewer}})
	if err != nil {
		t.Fatal(err)
	}
	now := f.clk.Now()
	h := a.Handler(a.RequireRole(rbac.Editor)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := PrincipalFrom(r.Context())
		w.Header().Set("X-Role", p.Role)
	})))
	for _, tc := range []struct {
		name, role string
		claims     map[string]any
		status     int
	}{
		{"v1 org:admin", "admin", v1Claims(now), 200},
		{"v2 admin matches org:admin", "admin", v2Claims(now), 200},
		{"member is a viewer", "", with(v1Claims(now), "org_role", "org:member"), 403},
		{"unlisted role", "", with(v1Claims(now), "org_role", "org:billing"), 403},
		{"no organization", "", with(v1Claims(now), "org_id", nil, "org_role", nil, "org_slug", nil, "org_permissions", nil), 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer "+mint(t, f.keys[0], hdr(testKid), tc.claims))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status || w.Header().Get("X-Role") != tc.role {
				t.Fatalf("status %d role %q, want %d %q: %s", w.Code, w.Header().Get("X-Role"), tc.status, tc.role, w.Body)
			}
			if tc.status == 403 && !strings.Contains(w.Body.String(), "insufficient_scope") {
				t.Fatalf("body %s", w.Body)
			}
		})
	}
}
