package controlplane_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ssokit/ssokit/mockidp"
)

// hostileRedirects are the forms an open redirect takes: other hosts as
// browsers read them (scheme-relative, backslashes, tabs and newlines
// stripped, encoded slashes, lookalike slashes, userinfo), other schemes,
// and a value too long to be anything but an attack.
var hostileRedirects = []string{
	"//evil.test", "///evil.test", `/\evil.test`, `\\evil.test`, `/\/evil.test`, "https:evil.test", "https://evil.test",
	"https://evil.test/auth/sso/callback", "http://app@evil.test", "//app@evil.test", "%2F%2Fevil.test", "/%2F%2Fevil.test",
	"/%252F%252Fevil.test", "/%5Cevil.test", "/%09/evil.test", "/\t/evil.test", "/\n/evil.test", "/\r\n/evil.test",
	"/x\r\nLocation: https://evil.test", "/%0d%0aLocation:%20https://evil.test", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
	" javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "／／evil.test", "/／evil.test",
	"\u2215\u2215evil.test", "/\u2215evil.test", "/\uff0e\uff0e/evil.test", "/..//evil.test", "/./evil.test", "/%2e%2e//evil.test",
	"/" + strings.Repeat("a", 70000), "//" + strings.Repeat("evil.", 1000) + "test",
}

// chain records every Location a browser is sent to and every page that
// could redirect by itself (meta refresh, script), per host.
type chain struct {
	next http.RoundTripper
	mu   sync.Mutex
	locs []*url.URL
	bad  []string
}

func (c *chain) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if loc := resp.Header.Get("Location"); loc != "" {
		u, err := req.URL.Parse(loc)
		if err != nil {
			c.bad = append(c.bad, "an unparsable Location "+loc)
		} else {
			c.locs = append(c.locs, u)
		}
	}
	if r := resp.Header.Get("Refresh"); r != "" {
		c.bad = append(c.bad, "a Refresh header "+r)
	}
	return resp, nil
}

// allowed reports whether every hop of the chain stays on the hosts given.
func (c *chain) check(t *testing.T, name string, hosts ...string) {
	t.Helper()
	for _, b := range c.bad {
		t.Errorf("%q: %s", name, b)
	}
	for _, u := range c.locs {
		if (u.Scheme != "http" && u.Scheme != "https") || !containsHost(hosts, u.Host) || u.User != nil {
			t.Errorf("%q: redirected to %s (%s %q), outside %v", name, u, u.Scheme, u.Host, hosts)
		}
	}
}

func containsHost(hosts []string, h string) bool {
	for _, x := range hosts {
		if x == h {
			return true
		}
	}
	return false
}

// return_to, on the Clerk path and on a direct SAML connection: whatever
// it says, the sign-in ends on the app's own origin, at a local path.
func TestReturnToIsNeverAnOpenRedirect(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	initechSAML(t, p, "")
	app, _ := url.Parse(p.app.URL)
	mock, _ := url.Parse(p.mock.URL)
	for _, start := range []string{"email=alice@acme.test", "org=initech&email=alice@initech.test"} {
		for _, ret := range hostileRedirects {
			jar, _ := cookiejar.New(nil)
			hc := p.mock.Client()
			c := &chain{next: hc.Transport}
			if c.next == nil {
				c.next = http.DefaultTransport
			}
			hc.Transport, hc.Jar = c, jar
			resp, err := mockidp.Browse(hc, p.app.URL+"/auth/sso/start?"+start+"&return_to="+url.QueryEscape(ret))
			if err != nil {
				t.Fatalf("%s %q: %v", start, ret, err)
			}
			resp.Body.Close()
			c.check(t, start+" return_to="+ret, app.Host, mock.Host)
			if len(c.locs) == 0 {
				t.Fatalf("%s %q: no redirect at all", start, ret)
			}
			if last := c.locs[len(c.locs)-1]; last.Host != app.Host || last.Path != "/" {
				t.Errorf("%s return_to=%q: the sign-in ends at %s, want the app's /", start, ret, last)
			}
		}
	}
}

// The mock platform's own redirect parameters: the mock Clerk's
// redirect_url (hosted sign-in and handshake) and the mock IdP's
// redirect_uri and post_logout_redirect_uri take only what is registered;
// a hostile value is an error page, never a redirect.
func TestMockRedirectParametersAreNeverOpenRedirects(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	globexOIDC(t, p)
	mock, _ := url.Parse(p.mock.URL)
	okta := p.mock.Persona("okta")
	endpoints := map[string]func(string) string{
		"clerk sign-in redirect_url": func(v string) string {
			return p.clerk.SignInURL() + "?" + url.Values{"redirect_url": {v}}.Encode()
		},
		"clerk handshake redirect_url": func(v string) string {
			return p.clerk.FrontendAPIURL() + "/v1/client/handshake?" + url.Values{"redirect_url": {v}}.Encode()
		},
		"idp authorize redirect_uri": func(v string) string {
			return okta.Issuer() + "/v1/authorize?" + url.Values{"client_id": {"globex-app"}, "response_type": {"code"}, "scope": {"openid"},
				"state": {"s"}, "nonce": {"n"}, "redirect_uri": {v}, "login_hint": {"hank@globex.test"}}.Encode()
		},
		"idp end session post_logout_redirect_uri": func(v string) string {
			return okta.Issuer() + "/v1/logout?" + url.Values{"post_logout_redirect_uri": {v}, "state": {"s"}}.Encode()
		},
	}
	for name, mk := range endpoints {
		for _, v := range append(hostileRedirects, p.app.URL+"@evil.test/", p.app.URL+".evil.test/", p.app.URL+"/../x",
			strings.Replace(p.app.URL, "http:", "https:", 1)+"/auth/sso/callback") {
			hc := p.mock.Client()
			c := &chain{next: hc.Transport}
			if c.next == nil {
				c.next = http.DefaultTransport
			}
			hc.Transport = c
			hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := hc.Get(mk(v))
			if err != nil {
				t.Fatalf("%s %q: %v", name, v, err)
			}
			resp.Body.Close()
			c.check(t, name+"="+v, mock.Host)
		}
	}
}
