package mockidp

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ssokit/ssokit/mockidp/internal/autopost"
	"golang.org/x/net/publicsuffix"
)

// Browse does what a browser without JavaScript needs help with in an SSO
// flow: it navigates to startURL with client (give it a cookie jar, and
// for production-like host names LoopbackClient's transport), follows
// redirects, and submits auto-post forms (at most 3): SAML's HTTP-POST
// binding, and OIDC's response_mode=form_post (it posts every hidden
// field of the form, code, state, id_token..., to the form's action, only
// an http or https URL), then returns the last response, whose body the
// caller reads and closes. Start an app's sign-in with it, as a person
// clicking "Sign in with SSO":
//
//	resp, err := mockidp.Browse(client, app.URL+"/auth/sso/start?email=alice@acme.test")
//
// Every request carries what a browser's page load sends (see
// NavigationHeaders): the first is a navigation the person started
// (Sec-Fetch-Site none); a form post is a navigation from the page that
// held the form, cross-site when the form's action is on another site,
// with that page's Origin (null when it sent Referrer-Policy
// no-referrer); a redirect keeps its chain's Sec-Fetch-Site (cross-site
// once any URL in the chain is). Redirects are followed here, at most 20
// per navigation, whatever client.CheckRedirect says.
//
// An authorization response in a URL fragment (OIDC response_mode=fragment,
// or the implicit flow) is for the page's JavaScript, which a server never
// sees: Browse stops before that redirect and returns a
// *FragmentResponseError, which names response_mode=fragment and holds the
// URL and the parameters, for a test to hand them to the app as its page
// script would.
func Browse(client *http.Client, startURL string) (*http.Response, error) {
	b := *client
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := navigate(&b, http.MethodGet, startURL, nil, nil, "")
	for range 3 {
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			return resp, nil
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		action, form, ok := autopost.Form(resp.Request.URL, body)
		if !ok {
			resp.Body = io.NopCloser(bytes.NewReader(body))
			return resp, nil
		}
		resp, err = navigate(&b, http.MethodPost, action, []byte(form.Encode()), resp.Request.URL, formOrigin(resp))
	}
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// maxRedirects bounds the redirects of one navigation.
const maxRedirects = 20

// navigate sends one navigation and follows its redirects as a browser
// does: 301, 302 and 303 turn a POST into a GET without a body, 307 and
// 308 repeat it. initiator is the page the navigation came from (nil: the
// person started it); origin is its Origin header for a POST.
func navigate(c *http.Client, method, target string, body []byte, initiator *url.URL, origin string) (*http.Response, error) {
	var chain []*url.URL
	for range maxRedirects + 1 {
		u, err := url.Parse(target)
		if err != nil {
			return nil, err
		}
		chain = append(chain, u)
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequest(method, u.String(), rd)
		if err != nil {
			return nil, err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
		}
		NavigationHeaders(req, FetchSite(initiator, chain...), initiator == nil)
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		loc := resp.Header.Get("Location")
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		default:
			return resp, nil
		}
		if loc == "" {
			return resp, nil
		}
		next, err := u.Parse(loc)
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("mockidp: redirect to %q: %w", loc, err)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err := fragmentResponse(next); err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusPermanentRedirect {
			method, body, origin = http.MethodGet, nil, ""
		}
		target = next.String()
	}
	return nil, fmt.Errorf("mockidp: more than %d redirects from %s", maxRedirects, chain[0])
}

// FragmentResponseError is Browse's error when an identity provider
// redirects with its authorization response in the URL's fragment
// (response_mode=fragment): the app's server would get the request
// without it, and only a page script can read it.
type FragmentResponseError struct {
	// URL is where the response goes, without the fragment.
	URL string
	// Params are the fragment's parameters: code, state, id_token,
	// access_token, error...
	Params url.Values
}

func (e *FragmentResponseError) Error() string {
	keys := make([]string, 0, len(e.Params))
	for k := range e.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return fmt.Sprintf("mockidp: the identity provider answered %s with response_mode=fragment (%s in the URL fragment): a server never sees a fragment, so a headless browser cannot deliver it; ask for response_mode=query or form_post, or read the parameters from this error", e.URL, strings.Join(keys, ", "))
}

// fragmentResponse is a *FragmentResponseError when u carries an OAuth
// authorization response (code, id_token, access_token or error) in its
// fragment.
func fragmentResponse(u *url.URL) error {
	if u.Fragment == "" {
		return nil
	}
	v, err := url.ParseQuery(u.Fragment)
	if err != nil || !(v.Has("code") || v.Has("id_token") || v.Has("access_token") || v.Has("error")) {
		return nil
	}
	bare := *u
	bare.Fragment, bare.RawFragment = "", ""
	return &FragmentResponseError{URL: bare.String(), Params: v}
}

// NavigationHeaders sets on req what a browser sends with a top-level page
// load: Accept for HTML, Sec-Fetch-Dest document, Sec-Fetch-Mode
// navigate, Sec-Fetch-Site site (FetchSite's answer), Sec-Fetch-User ?1
// when the person started it, and Upgrade-Insecure-Requests. As browsers
// do, the Sec-Fetch-* headers go only to potentially trustworthy URLs
// (https, or http to a loopback address or localhost).
func NavigationHeaders(req *http.Request, site string, user bool) {
	h := req.Header
	h.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	h.Set("Upgrade-Insecure-Requests", "1")
	if !trustworthy(req.URL) {
		return
	}
	h.Set("Sec-Fetch-Dest", "document")
	h.Set("Sec-Fetch-Mode", "navigate")
	h.Set("Sec-Fetch-Site", site)
	if user {
		h.Set("Sec-Fetch-User", "?1")
	}
}

// FetchSite is the Sec-Fetch-Site of a request from the page at initiator
// through the URLs of its redirect chain (the request's URL last), as the
// Fetch Metadata spec computes it: "none" when the person started it
// (initiator nil), else "same-origin" while every URL is same-origin with
// the initiator, "cross-site" once one is not same-site (scheme and
// registrable domain, or the same IP address), else "same-site".
func FetchSite(initiator *url.URL, chain ...*url.URL) string {
	if initiator == nil {
		return "none"
	}
	site := "same-origin"
	for _, u := range chain {
		if sameOrigin(initiator, u) {
			continue
		}
		if !sameSite(initiator, u) {
			return "cross-site"
		}
		site = "same-site"
	}
	return site
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// sameSite compares schemeful sites: the scheme, and the registrable
// domain (an IP address or a public suffix is its own site). Ports do not
// count.
func sameSite(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && registrableSite(a.Hostname()) == registrableSite(b.Hostname())
}

func registrableSite(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if net.ParseIP(host) != nil {
		return host
	}
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return host
}

// trustworthy reports whether browsers send Fetch Metadata to u.
func trustworthy(u *url.URL) bool {
	if strings.EqualFold(u.Scheme, "https") {
		return true
	}
	h := strings.ToLower(u.Hostname())
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback()
	}
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// formOrigin is the Origin of a form post from the page resp answered:
// "null" when the page's referrer policy hides it, else the page's
// origin.
func formOrigin(resp *http.Response) string {
	vs := strings.Split(resp.Header.Get("Referrer-Policy"), ",")
	if strings.EqualFold(strings.TrimSpace(vs[len(vs)-1]), "no-referrer") {
		return "null"
	}
	u := resp.Request.URL
	return u.Scheme + "://" + u.Host
}
