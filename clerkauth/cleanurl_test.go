package clerkauth

import (
	"bufio"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The clean URL a development handshake redirects to stays on the app,
// whatever path the request came with: a path that starts with two
// slashes (or a slash and a backslash) is, as a Location, another host.
func TestCleanURLStaysOnTheApp(t *testing.T) {
	app, _ := url.Parse("https://app.test/")
	for _, target := range []string{
		"//evil.test/", "//evil.test", "///evil.test/x", "////evil.test", "//app@evil.test/", "/%2F/evil.test",
		"//evil.test/%2F..", "/%5Cevil.test", "/%5C%5Cevil.test", "//%5Cevil.test", "//evil.test:443/a",
		"/" + strings.Repeat("/", 100) + "evil.test", "/a//b",
	} {
		raw := "GET " + target + "?__clerk_handshake=t&x=1 HTTP/1.1\r\nHost: app.test\r\n\r\n"
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			t.Fatalf("%q: %v", target, err)
		}
		got := CleanURL(r)
		loc, err := app.Parse(got)
		if err != nil || loc.Host != app.Host || loc.Scheme != app.Scheme || strings.HasPrefix(got, "//") || strings.Contains(got, `\`) {
			t.Errorf("CleanURL of %q = %q: leaves the app (%v)", target, got, loc)
		}
		if loc != nil && loc.Query().Has(CookieHandshake) {
			t.Errorf("CleanURL of %q = %q keeps the handshake", target, got)
		}
	}
}
