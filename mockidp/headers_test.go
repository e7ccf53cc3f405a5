package mockidp

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/internal/httpsec"
)

// Every route the mock registers (by construction: the list is the mux's,
// personas' and mock Clerks' routes included) answers with the security
// headers: every HTML page its policy, every auth response no-store.
func TestEveryRouteSecurityHeaders(t *testing.T) {
	t.Parallel()
	s := Start(t, DefaultConfig())
	pats := s.RoutePatterns()
	if len(pats) < 50 {
		t.Fatalf("only %d routes recorded: %q", len(pats), pats)
	}
	values := map[string]string{"name": "okta", "email": "alice@acme.test"}
	const form = "SAMLRequest=x&SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D&RelayState=x&grant_type=authorization_code&code=x" +
		"&client_id=x&redirect_uri=x&email=alice%40acme.test&mockidp_login=1&token=x"
	htmlPages := 0
	for _, pat := range append(pats, "GET /nosuch", "GET /okta/nosuch") {
		body := form
		if strings.Contains(pat, "/admin/") || strings.Contains(pat, "/bapi/") {
			body = "{}"
		}
		req, err := httpsec.WalkRequest(s.URL, pat, values, body)
		if err != nil {
			t.Fatal(err)
		}
		if req.Method == http.MethodGet {
			// An allowed redirect_url takes the mock Clerk's sign-in
			// and handshake to their pages, not their refusals.
			req.URL.RawQuery = "redirect_url=" + url.QueryEscape("http://127.0.0.1:9/callback")
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s: %v", pat, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			htmlPages++
		}
		for _, p := range httpsec.Audit(req, resp, b) {
			t.Errorf("%s -> %s %s (%d): %s", pat, req.Method, req.URL, resp.StatusCode, p)
		}
	}
	if htmlPages < 10 {
		t.Errorf("only %d HTML pages met: the walk no longer reaches the pages", htmlPages)
	}
}
