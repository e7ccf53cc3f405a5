package idp

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/sso"
)

// TestAuthorizationEndpointIsHTTP: the browser is sent to discovery's
// authorization_endpoint, so it must be an absolute http(s) URL: a
// javascript: or data: one would be this site's redirect (and the link in
// the redirect's body) to script, a relative one a redirect within it.
func TestAuthorizationEndpointIsHTTP(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"javascript:alert(document.domain)//", "data:text/html,<script>alert(1)</script>", "/local/path", "", "https://user:pw@idp.test/auth"} {
		t.Run(bad, func(t *testing.T) {
			t.Parallel()
			op := newFakeOP(t)
			op.disc = map[string]any{"authorization_endpoint": bad}
			if bad == "" {
				op.disc = map[string]any{"authorization_endpoint": nil}
			}
			c, err := New(context.Background(), Connection{ID: "fake", Protocol: sso.OIDC, Vendor: sso.Okta,
				OIDC: &OIDCSettings{Issuer: op.srv.URL, ClientID: "client-1", ClientSecret: "secret-1", RedirectURL: "http://app.test/cb"}},
				Options{InsecureAllowLoopback: true, StateKey: make([]byte, 32)})
			if errors.Is(err, ErrConfig) && strings.Contains(err.Error(), "authorization_endpoint") {
				return
			}
			if err != nil {
				t.Fatalf("%v, want ErrConfig naming authorization_endpoint", err)
			}
			w := httptest.NewRecorder()
			c.Start(w, httptest.NewRequest("GET", "http://app.test/login", nil), "/", "")
			t.Fatalf("accepted; Start redirects to %q", w.Header().Get("Location"))
		})
	}
}

// TestDiscoveredURLsAreBounded: a discovery document (up to the guarded
// client's 2 MB) can name endpoints of any length; each one goes into
// redirects, requests and the operator's log at every use, so one longer
// than maxURL is a configuration error.
func TestDiscoveredURLsAreBounded(t *testing.T) {
	t.Parallel()
	for _, field := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"} {
		t.Run(field, func(t *testing.T) {
			t.Parallel()
			op := newFakeOP(t)
			op.disc = map[string]any{field: op.srv.URL + "/" + strings.Repeat("a", 1<<20)}
			_, err := New(context.Background(), Connection{ID: "fake", Protocol: sso.OIDC, Vendor: sso.Okta,
				OIDC: &OIDCSettings{Issuer: op.srv.URL, ClientID: "client-1", ClientSecret: "secret-1", RedirectURL: "http://app.test/cb"}},
				Options{InsecureAllowLoopback: true, StateKey: make([]byte, 32)})
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), field) || len(err.Error()) > 1024 {
				t.Fatalf("%.300v, want a short ErrConfig naming %s", err, field)
			}
		})
	}
}
