package mockclerk_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/mockidp"
)

// FuzzFrontendAPI sends arbitrary query strings, and to the SAML ACS an
// arbitrary form body, to the mock Clerk Frontend API's routes that a
// browser reaches: hosted sign-in, the SAML ACS, the OIDC callback, the
// dev browser, the handshake and the SP metadata. Nothing panics, and
// nothing is a 500.
func FuzzFrontendAPI(f *testing.F) {
	// Listening: the connectors behind the ACS and the callback fetch the
	// personas' metadata and discovery from it; the fuzzed requests go
	// to its Handler directly.
	srv := mockidp.Start(f, mockidp.DefaultConfig())
	routes := []struct{ method, path string }{
		{"GET", "/clerk/sign-in"}, {"POST", "/clerk/v1/saml/acs/samlc_acme_okta"}, {"GET", "/clerk/v1/oauth_callback/oidcc_contoso_azure"},
		{"POST", "/clerk/v1/dev_browser"}, {"GET", "/clerk/v1/client/handshake"}, {"GET", "/clerk/v1/saml/metadata/samlc_acme_okta"},
	}
	for i, s := range []string{"redirect_url=http%3A%2F%2F127.0.0.1%2Fauth%2Fsso%2Fcallback&email=alice%40acme.test",
		"SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D&RelayState=x", "code=x&state=y", "", "redirect_url=https%3A%2F%2Fevil.test%2F&__clerk_db_jwt=dvb_x",
		"redirect_url=javascript%3Aalert(1)", "email=%00@acme.test&redirect_url=//evil.test", "%zz", "redirect_url=" + strings.Repeat("a", 5000)} {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, route uint8, q string) {
		rt := routes[int(route)%len(routes)]
		r := httptest.NewRequest(rt.method, "/", nil)
		if rt.method == "POST" {
			r = httptest.NewRequest(rt.method, rt.path, strings.NewReader(q))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			r.URL.Path, r.URL.RawQuery, r.RequestURI = rt.path, q, rt.path+"?"+q
		}
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, r)
		if w.Code == 500 {
			t.Fatalf("%s %s %q: %d %.300s", rt.method, rt.path, q, w.Code, w.Body)
		}
	})
}
