package controlplane

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/ssokit/ssokit/clerkauth"
)

// TestLogoutClearsSuffixedClerkCookies: logout deletes Clerk's cookies on
// the app's host under the instance's suffixed names too (clerk-js writes
// both, and the handshake reads the suffixed ones when present), so no
// session token is left for the next page load.
func TestLogoutClearsSuffixedClerkCookies(t *testing.T) {
	t.Parallel()
	const pk = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k" // clerk.example.com$
	a, _ := newFailingPlane(t, func(c *Config) { c.Clerk = clerkauth.Config{PublishableKey: pk} })
	sum := sha1.Sum([]byte(pk))
	sfx := "_" + base64.RawURLEncoding.EncodeToString(sum[:])[:8]
	cookie := login(t, a)
	w := serve(a, "POST", "/v1/auth/logout", "", func(r *http.Request) { r.AddCookie(cookie) })
	if w.Code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", w.Code, w.Body)
	}
	cleared := map[string]bool{}
	for _, c := range w.Result().Cookies() {
		cleared[c.Name] = c.MaxAge < 0
	}
	for _, n := range []string{"__session", "__client_uat", "__session" + sfx, "__client_uat" + sfx} {
		if !cleared[n] {
			t.Errorf("logout left %s (cleared: %v)", n, cleared)
		}
	}
}
