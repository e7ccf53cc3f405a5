package mockclerk_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/mockidp/mockclerk"
)

// TestClientCookieStaysWithItsInstance: Clerk's __client cookie is the
// Frontend API's own (host-only on its host); with the Frontend API under
// /{name}/ of a shared host, it is scoped to that path, so a second
// production instance on the same server neither receives it nor
// replaces it with its own, and the first still finds the browser
// signed in.
func TestClientCookieStaysWithItsInstance(t *testing.T) {
	t.Parallel()
	cfg := mockidp.DefaultConfig()
	cfg.Clerk[0].Instance = mockclerk.Production
	cfg.Clerk[0].AllowedRedirectURLs = []string{appCallback}
	second := cfg.Clerk[0]
	second.Name = "clerk2"
	cfg.Clerk = append(cfg.Clerk, second)
	srv := mockidp.Start(t, cfg)
	a, b := srv.Clerk("clerk"), srv.Clerk("clerk2")
	browser := mappedClient(srv)
	for _, c := range []*mockclerk.Clerk{a, b} {
		resp := signInTo(t, browser, appCallback, c.SignInURL()+"?"+url.Values{"redirect_url": {appCallback}, "email": {"alice@acme.test"}}.Encode())
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("sign-in at %s: %d", c.Name(), resp.StatusCode)
		}
		if ck := setCookie(resp, "__client"); !strings.Contains(ck, "; Path=/"+c.Name()+";") {
			t.Errorf("%s: __client cookie %q, want Path=/%s", c.Name(), ck, c.Name())
		}
	}
	resp, err := noFollow(browser).Get(handshakeURL(a, appCallback, url.Values{"format": nil, "__clerk_hs_reason": {"client-uat-but-no-session-token"}}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	dirs := handshakeJWT(t, srv.Client(), a, cookieValue(setCookie(resp, "__clerk_handshake")))
	if d, ok := directive(dirs, "__session"); !ok || cookieValue(d) == "" {
		t.Fatalf("after signing in at a second instance, the first's handshake says signed out: %q", dirs)
	}
}
