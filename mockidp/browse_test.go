package mockidp_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
)

// seen records the headers of each request by method and path.
type seen struct {
	mu  sync.Mutex
	got map[string]http.Header
}

func (s *seen) record(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		s.got = map[string]http.Header{}
	}
	s.got[r.Method+" "+r.URL.Path] = r.Header.Clone()
}

func (s *seen) header(key string) http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[key]
}

// Browse sends, on every hop, what a browser's page load sends: a
// navigation the person started (none) through redirects, then the
// auto-posted form as a navigation from the IdP's page, whose
// Sec-Fetch-Site depends on where the IdP is.
func TestBrowseSendsNavigationHeaders(t *testing.T) {
	t.Parallel()
	mock := mockidp.StartWith(t, mockidp.DefaultConfig(), mockidp.ListenOptions{TLS: true, Host: "idp.okta.test"})
	const accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for _, tc := range []struct {
		name, idpHost, policy string
		tls                   bool
		site, origin          string // of the form POST and its redirect; origin "page" is the IdP page's
	}{
		{"cross-site IdP", "idp.okta.test", "no-referrer", true, "cross-site", "null"},
		{"same-site IdP", "idp.example.test", "", true, "same-site", "page"},
		{"same-origin form", "app.example.test", "", true, "same-origin", "page"},
		{"plain http to a name", "idp.okta.test", "", false, "", "page"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec seen
			var appBase, idpBase string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rec.record(r)
				switch r.URL.Path {
				case "/start":
					http.Redirect(w, r, idpBase+"/login", http.StatusFound)
				case "/login":
					http.Redirect(w, r, "/form", http.StatusFound)
				case "/form":
					if tc.policy != "" {
						w.Header().Set("Referrer-Policy", tc.policy)
					}
					w.Header().Set("Content-Type", "text/html")
					fmt.Fprintf(w, `<form method="post" action="%s/acs"><input type="hidden" name="SAMLResponse" value="PHI+"><input type="hidden" name="RelayState" value="rs"></form>`, appBase)
				case "/acs":
					http.Redirect(w, r, "/home", http.StatusSeeOther)
				case "/home":
					io.WriteString(w, "home")
				}
			})
			srv := func(host string) string {
				s := httptest.NewUnstartedServer(h)
				scheme := "http"
				if tc.tls {
					cert, err := mock.IssueCertificate(host)
					if err != nil {
						t.Fatal(err)
					}
					s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
					s.StartTLS()
					scheme = "https"
				} else {
					s.Start()
				}
				t.Cleanup(s.Close)
				return scheme + "://" + host + ":" + port(t, strings.Replace(s.URL, "http://", "https://", 1))
			}
			appBase = srv("app.example.test")
			if tc.idpHost == "app.example.test" {
				idpBase = appBase
			} else {
				idpBase = srv(tc.idpHost)
			}
			c := mock.LoopbackClient("*.example.test")
			c.Jar, _ = cookiejar.New(nil)
			resp, err := mockidp.Browse(c, appBase+"/start")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "home" {
				t.Fatalf("Browse ended at %s: %q", resp.Request.URL, body)
			}
			idpPage, _ := url.Parse(idpBase)
			wantOrigin := tc.origin
			if wantOrigin == "page" {
				wantOrigin = idpPage.Scheme + "://" + idpPage.Host
			}
			for _, hop := range []struct {
				key, site, user, origin string
			}{
				{"GET /start", "none", "?1", ""},
				{"GET /login", "none", "?1", ""},
				{"GET /form", "none", "?1", ""},
				{"POST /acs", tc.site, "", wantOrigin},
				{"GET /home", tc.site, "", ""},
			} {
				got := rec.header(hop.key)
				if got == nil {
					t.Fatalf("%s: not requested", hop.key)
				}
				if got.Get("Accept") != accept {
					t.Errorf("%s: Accept %q", hop.key, got.Get("Accept"))
				}
				if !tc.tls {
					// Browsers send no Fetch Metadata to a plain-http host name.
					for _, k := range []string{"Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User"} {
						if got.Get(k) != "" {
							t.Errorf("%s over http: %s %q", hop.key, k, got.Get(k))
						}
					}
				} else if got.Get("Sec-Fetch-Dest") != "document" || got.Get("Sec-Fetch-Mode") != "navigate" ||
					got.Get("Sec-Fetch-Site") != hop.site || got.Get("Sec-Fetch-User") != hop.user {
					t.Errorf("%s: Dest %q Mode %q Site %q User %q, want document navigate %q %q", hop.key, got.Get("Sec-Fetch-Dest"),
						got.Get("Sec-Fetch-Mode"), got.Get("Sec-Fetch-Site"), got.Get("Sec-Fetch-User"), hop.site, hop.user)
				}
				if got.Get("Origin") != hop.origin {
					t.Errorf("%s: Origin %q, want %q", hop.key, got.Get("Origin"), hop.origin)
				}
			}
			if ct := rec.header("POST /acs").Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("form post Content-Type %q", ct)
			}
		})
	}
}

// Browse follows redirects itself, bounded, whatever the client's
// CheckRedirect, and a 307 repeats the POST with its body.
func TestBrowseRedirects(t *testing.T) {
	t.Parallel()
	var loops int
	var body307 string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/loop":
			loops++
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/page":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<form method="post" action="/post"><input name="SAMLResponse" value="x"><input name="RelayState" value="y"></form>`)
		case "/post":
			http.Redirect(w, r, "/again", http.StatusTemporaryRedirect)
		case "/again":
			b, _ := io.ReadAll(r.Body)
			body307 = r.Method + " " + string(b) + " " + r.Header.Get("Sec-Fetch-Site")
		}
	}))
	defer s.Close()
	c := s.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return fmt.Errorf("client policy") }
	if _, err := mockidp.Browse(c, s.URL+"/loop"); err == nil || !strings.Contains(err.Error(), "redirects") || loops != 21 {
		t.Fatalf("redirect loop: %v after %d", err, loops)
	}
	resp, err := mockidp.Browse(c, s.URL+"/page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if body307 != "POST RelayState=y&SAMLResponse=x same-origin" {
		t.Fatalf("307 after the form post: %q", body307)
	}
}

// FetchSite follows the Fetch Metadata spec over a redirect chain: once a
// URL of the chain is cross-site, the request is, even back at the
// initiator's origin; ports do not make sites, schemes and IPs do.
func TestFetchSite(t *testing.T) {
	t.Parallel()
	u := func(s string) *url.URL {
		v, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	app := u("https://app.example.test/page")
	for _, tc := range []struct {
		name      string
		initiator *url.URL
		chain     []string
		want      string
	}{
		{"the person started it", nil, []string{"https://idp.okta.test/"}, "none"},
		{"same origin", app, []string{"https://app.example.test/acs", "https://app.example.test:443/home"}, "same-origin"},
		{"another port", app, []string{"https://app.example.test:8443/"}, "same-site"},
		{"a sibling subdomain", app, []string{"https://login.example.test/"}, "same-site"},
		{"the parent domain", app, []string{"https://example.test/"}, "same-site"},
		{"another site", app, []string{"https://idp.okta.test/"}, "cross-site"},
		{"another scheme", app, []string{"http://app.example.test/"}, "cross-site"},
		{"through another site and back", app, []string{"https://idp.okta.test/", "https://app.example.test/home"}, "cross-site"},
		{"through a sibling and back", app, []string{"https://login.example.test/", "https://app.example.test/home"}, "same-site"},
		{"a public suffix is its own site", u("https://a.github.io/"), []string{"https://b.github.io/"}, "cross-site"},
		{"IP addresses", u("http://127.0.0.1:1/"), []string{"http://127.0.0.1:2/"}, "same-site"},
		{"another IP address", u("http://127.0.0.1:1/"), []string{"http://127.0.0.2:1/"}, "cross-site"},
		{"an IP and a name", u("http://127.0.0.1:1/"), []string{"http://localhost:1/"}, "cross-site"},
	} {
		var chain []*url.URL
		for _, c := range tc.chain {
			chain = append(chain, u(c))
		}
		if got := mockidp.FetchSite(tc.initiator, chain...); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// A redirect keeps its chain's Sec-Fetch-Site: a same-origin form post
// redirected through another site and back arrives cross-site.
func TestBrowseRedirectChainSite(t *testing.T) {
	t.Parallel()
	var back string
	var other *httptest.Server
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<form method="post" action="/post"><input name="SAMLResponse" value="x"></form>`)
		case "/post":
			http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/bounce", http.StatusFound)
		case "/back":
			back = r.Header.Get("Sec-Fetch-Site")
		}
	}))
	defer app.Close()
	other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, app.URL+"/back", http.StatusFound)
	}))
	defer other.Close()
	resp, err := mockidp.Browse(app.Client(), app.URL+"/page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if back != "cross-site" {
		t.Fatalf("back at the app through localhost: Sec-Fetch-Site %q, want cross-site", back)
	}
}

// finishRecorder records the request the connector finishes with.
type finishRecorder struct {
	idp.Connector
	got http.Header
}

func (f *finishRecorder) Finish(w http.ResponseWriter, r *http.Request) (*idp.Identity, string, error) {
	f.got = r.Header.Clone()
	return f.Connector.Finish(w, r)
}

// recordingTransport records the headers of the requests it sends.
type recordingTransport struct {
	next http.RoundTripper
	got  []http.Header
}

func (t *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.got = append(t.got, r.Header.Clone())
	return t.next.RoundTrip(r)
}

// HeadlessLogin's trip to the IdP and back are navigations from the app
// (the SAML app at https://app.example is cross-site with the mock on
// 127.0.0.1; the OIDC app at http://127.0.0.1:8080 same-site, ports do
// not count), and the SAML form post comes from the IdP's page with its
// Origin.
func TestHeadlessLoginSendsNavigationHeaders(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	for _, proto := range []sso.Protocol{sso.OIDC, sso.SAML} {
		t.Run(string(proto), func(t *testing.T) {
			conn := &finishRecorder{Connector: headlessConn(t, srv, proto)}
			c := srv.Client()
			rt := &recordingTransport{next: http.DefaultTransport}
			c.Transport = rt
			rep := mockidp.HeadlessLogin(context.Background(), conn, c, "bob@acme.test")
			if !rep.OK {
				t.Fatalf("report %+v", rep)
			}
			if len(rt.got) != 1 {
				t.Fatalf("%d requests to the IdP", len(rt.got))
			}
			wantOrigin, wantSite := "", "same-site"
			if proto == sso.SAML {
				wantOrigin, wantSite = "null", "cross-site" // the mock's pages send Referrer-Policy: no-referrer
			}
			for name, h := range map[string]http.Header{"to the IdP": rt.got[0], "back to the app": conn.got} {
				if h.Get("Sec-Fetch-Dest") != "document" || h.Get("Sec-Fetch-Mode") != "navigate" || h.Get("Sec-Fetch-Site") != wantSite ||
					!strings.HasPrefix(h.Get("Accept"), "text/html,") {
					t.Errorf("%s: %v", name, h)
				}
			}
			if conn.got.Get("Origin") != wantOrigin {
				t.Errorf("Origin back to the app %q, want %q", conn.got.Get("Origin"), wantOrigin)
			}
		})
	}
}
