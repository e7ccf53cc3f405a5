package controlplane_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"

	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/internal/httpsec"
	"github.com/ssokit/ssokit/mockidp"
)

// walkRequests are the requests the route walk sends to pattern: one per
// credential (none, bearer), with a body that looks like the route's
// input.
func walkRequests(t *testing.T, base, pattern string, values map[string]string, bearer string) []*http.Request {
	t.Helper()
	form := "{}"
	if strings.Contains(pattern, "/acs/") || strings.Contains(pattern, "/webhooks/") {
		form = "SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D&RelayState=x"
	}
	var out []*http.Request
	for _, cred := range []string{"", bearer} {
		req, err := httpsec.WalkRequest(base, pattern, values, form)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if cred != "" {
			req.Header.Set("Authorization", "Bearer "+cred)
		}
		out = append(out, req)
	}
	return out
}

// auditRoundTrip sends req through rt and audits the response.
func auditRoundTrip(t *testing.T, rt http.RoundTripper, req *http.Request) *http.Response {
	t.Helper()
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	for _, p := range httpsec.Audit(req, resp, body) {
		t.Errorf("%s %s (%d %s): %s", req.Method, req.URL, resp.StatusCode, resp.Header.Get("Content-Type"), p)
	}
	return resp
}

// Every route the API registers (by construction: the list is the mux's),
// requested anonymously and as an administrator, answers with the security
// headers: every HTML page its policy, every auth response no-store.
func TestEveryRouteSecurityHeaders(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	initechSAML(t, p, "")
	cp := planeAPI(t, p)
	pats := cp.RoutePatterns()
	if len(pats) < 20 {
		t.Fatalf("only %d routes recorded: %q", len(pats), pats)
	}
	for _, org := range []string{"acme", "initech", "nosuch"} {
		for _, pat := range pats {
			for _, req := range walkRequests(t, p.app.URL, pat, map[string]string{"org": org}, adminKey) {
				auditRoundTrip(t, http.DefaultTransport, req)
			}
		}
	}
	// Paths and methods that match no route answer with the headers too.
	for _, u := range []string{"/nosuch", "/auth/sso/nosuch", "/v1/organizations"} {
		req, _ := http.NewRequest(http.MethodGet, p.app.URL+u, nil)
		auditRoundTrip(t, http.DefaultTransport, req)
	}
}

// planeAPI is the *controlplane.API the plane serves.
func planeAPI(t *testing.T, p *plane) *controlplane.API {
	t.Helper()
	if p.api == nil {
		t.Fatal("the plane keeps no API")
	}
	return p.api
}

// auditing is a RoundTripper that audits every response it carries.
type auditing struct {
	t    *testing.T
	next http.RoundTripper
	mu   sync.Mutex
	seen map[string]int // Content-Type -> count
}

func (a *auditing) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := a.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	for _, prob := range httpsec.Audit(req, resp, body) {
		a.t.Errorf("%s %s (%d): %s", req.Method, req.URL, resp.StatusCode, prob)
	}
	a.mu.Lock()
	a.seen[req.URL.Path]++
	a.mu.Unlock()
	return resp, nil
}

// Whole sign-ins (through Clerk, and direct SAML and OIDC connections)
// pass every response they see through the audit: the login pages, the
// SAML auto-submit form, the redirects carrying codes and cookies.
func TestSignInResponsesSecurityHeaders(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	initechSAML(t, p, "")
	globexOIDC(t, p)
	for _, start := range []string{
		"/auth/sso/start?email=alice@acme.test&return_to=/v1/auth/whoami",
		"/auth/sso/start?email=nobody@contoso.test",
		"/auth/sso/start?org=initech&email=alice@initech.test&return_to=/v1/auth/whoami",
		"/auth/sso/start?org=globex&email=hank@globex.test&return_to=/v1/auth/whoami",
	} {
		jar, _ := cookiejar.New(nil)
		hc := p.mock.Client()
		a := &auditing{t: t, next: hc.Transport, seen: map[string]int{}}
		if a.next == nil {
			a.next = http.DefaultTransport
		}
		hc.Transport, hc.Jar = a, jar
		resp, err := mockidp.Browse(hc, p.app.URL+start)
		if err != nil {
			t.Fatalf("%s: %v", start, err)
		}
		resp.Body.Close()
		if len(a.seen) < 3 {
			t.Errorf("%s: only %v seen", start, a.seen)
		}
	}
}
