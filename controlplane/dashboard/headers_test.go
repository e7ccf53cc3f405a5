package dashboard_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/ssokit/ssokit/internal/httpsec"
)

// Every route of the dashboard (by construction: the list is its mux's),
// and a refusal rendered by ErrorPage, answer with the security headers.
func TestEveryRouteSecurityHeaders(t *testing.T) {
	d := start(t)
	pats := d.Dashboard.RoutePatterns()
	if len(pats) < 5 {
		t.Fatalf("only %d routes recorded: %q", len(pats), pats)
	}
	extra := []string{"GET /auth/sso/start?email=nobody@nowhere.test", "GET /auth/sso/callback", "GET /nosuch"}
	for _, pat := range append(pats, extra...) {
		req, err := httpsec.WalkRequest(d.AppURL, pat, nil, url.Values{"email": {"alice@acme.test"}, "password": {"x"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		for _, p := range httpsec.Audit(req, resp, b) {
			t.Errorf("%s (%d): %s", pat, resp.StatusCode, p)
		}
	}
}
