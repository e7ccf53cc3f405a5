package mockclerk_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/mockidp/mockclerk"
)

// TestHandshakeCookieDomainIsRegistrable: Clerk sets __client_uat and the
// handshake cookie on the FAPI host's registrable domain (eTLD+1), which
// under a multi-label public suffix (co.uk) is three labels: a
// Domain=co.uk cookie is one browsers refuse.
func TestHandshakeCookieDomainIsRegistrable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ host, domain string }{
		{"clerk.example.co.uk", "example.co.uk"},
		{"clerk.app.example.test", "example.test"},
		{"clerk.example.test", "example.test"},
	} {
		cfg := mockidp.DefaultConfig()
		cfg.Clerk[0].Instance, cfg.Clerk[0].FrontendHost = mockclerk.Production, tc.host
		cfg.Clerk[0].AllowedRedirectURLs = []string{"https://app.example.test/cb"}
		srv := mockidp.Start(t, cfg)
		c := srv.Clerk("clerk")
		resp, err := noFollow(mappedClient(srv)).Get(handshakeURL(c, "https://app.example.test/cb", url.Values{"format": nil}))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		hs := setCookie(resp, "__clerk_handshake")
		if resp.StatusCode != http.StatusTemporaryRedirect || !strings.Contains(hs, "; Domain="+tc.domain+";") {
			t.Errorf("%s: handshake %d, cookie %q, want Domain=%s", tc.host, resp.StatusCode, hs, tc.domain)
		}
	}
}
