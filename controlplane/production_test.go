package controlplane_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/mockidp/mockclerk"
	"github.com/ssokit/ssokit/store"
)

// recorder is a RoundTripper that keeps every Set-Cookie it sees, with
// the host that set it.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	set  []seenCookie
}

type seenCookie struct {
	host string
	c    *http.Cookie
}

func (rt *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := rt.next.RoundTrip(r)
	if err == nil {
		rt.mu.Lock()
		for _, c := range resp.Cookies() {
			rt.set = append(rt.set, seenCookie{r.URL.Hostname(), c})
		}
		rt.mu.Unlock()
	}
	return resp, err
}

func (rt *recorder) cookies() []seenCookie {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]seenCookie(nil), rt.set...)
}

// prodSite is the control plane at https://app.example.test against a
// production Clerk instance whose Frontend API is https://clerk.example.test
// (the mock on https://accounts.example.test), names mapped to loopback,
// TLS from the mock's CA: cookies behave as between real hosts, not as
// between two ports of 127.0.0.1.
type prodSite struct {
	mock   *mockidp.Server
	clerk  *mockidp.Clerk
	appURL string
	rec    *recorder
	browse *http.Client
}

func newProdSite(t *testing.T) *prodSite {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	appURL := "https://app.example.test:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	cfg := mockidp.DefaultConfig()
	cfg.Clerk[0].Instance, cfg.Clerk[0].FrontendHost = mockclerk.Production, "clerk.example.test"
	cfg.Clerk[0].AllowedRedirectURLs = []string{appURL + "/auth/sso/callback", appURL + "/page"}
	mock := mockidp.StartWith(t, cfg, mockidp.ListenOptions{TLS: true, Host: "accounts.example.test", Hostnames: []string{"clerk.example.test"}})
	c := mock.Clerk("clerk")

	cert, err := mock.IssueCertificate("app.example.test")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := store.NewMemory(store.MemoryConfig{})
	stateKey := make([]byte, 32)
	rand.Read(stateKey)
	backend := mock.LoopbackClient("clerk.example.test")
	cp, err := controlplane.New(controlplane.Config{AppURL: appURL, StateKey: stateKey, Store: st, EphemeralSessionKey: true,
		Clerk:          clerkauth.Config{PublishableKey: c.PublishableKey(), SecretKey: c.SecretKey(), APIURL: c.BackendAPIURL()},
		ClerkSignInURL: c.SignInURL(), HTTPClient: backend, BootstrapAdminKey: adminKey})
	if err != nil {
		t.Fatal(err)
	}
	auth := cp.Authenticator()
	mux := http.NewServeMux()
	mux.Handle("/", cp)
	// An integrator's page, opted in to the handshake: it answers who the
	// request is signed in as, if anyone.
	mux.Handle("GET /page", cp.Handshake(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := auth.Authenticate(r)
		if err != nil || p == nil {
			w.Write([]byte("signed out"))
			return
		}
		w.Write([]byte("signed in as " + p.Email))
	})))
	app := httptest.NewUnstartedServer(mux)
	app.Listener.Close()
	app.Listener = ln
	app.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	app.StartTLS()
	t.Cleanup(app.Close)

	admin := newClient(t, appURL, adminKey, mock.LoopbackClient("app.example.test"))
	ctx := context.Background()
	if _, err := admin.Organizations.Create(ctx, "acme", "Acme", "enterprise"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Organizations.ConfigureSSO(ctx, "acme", api.SSOSettings{ClerkOrgID: "org_acme", AllowedDomains: []string{"acme.test"},
		DefaultRole: "viewer", AutoCreateUsers: true}); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{next: mock.LoopbackClient("app.example.test").Transport}
	jar, _ := cookiejar.New(nil)
	return &prodSite{mock: mock, clerk: c, appURL: appURL, rec: rec, browse: &http.Client{Transport: rec, Jar: jar}}
}

// A sign-in through a production Clerk instance between real host names:
// the handshake payload arrives in a cookie on the shared site, every
// cookie of the app and of Clerk is Secure with a SameSite attribute, the
// app's state cookie is __Host-, and the app's session is its own
// HTTP-only cookie. After sign-out, a page load does not sign the person
// back in: the Clerk session is revoked, and the handshake answers with
// signed-out directives.
func TestProductionInstanceBetweenHosts(t *testing.T) {
	t.Parallel()
	s := newProdSite(t)
	if !strings.HasPrefix(s.clerk.PublishableKey(), "pk_live_") || !strings.HasPrefix(s.clerk.FrontendAPIURL(), "https://clerk.example.test:") {
		t.Fatalf("instance %s at %s", s.clerk.PublishableKey(), s.clerk.FrontendAPIURL())
	}
	resp, err := mockidp.Browse(s.browse, s.appURL+"/auth/sso/start?"+url.Values{"email": {"alice@acme.test"}, "return_to": {"/v1/auth/whoami"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var me api.Whoami
	body := readAll(resp)
	if err := json.Unmarshal([]byte(body), &me); err != nil || me.Email != "alice@acme.test" || me.OrgID != "acme" || me.AuthMethod != "sso" {
		t.Fatalf("whoami %d %s", resp.StatusCode, body)
	}

	seen := map[string]bool{}
	for _, sc := range s.rec.cookies() {
		c := sc.c
		seen[sc.host+" "+c.Name] = true
		if !c.Secure || c.SameSite == http.SameSiteDefaultMode {
			t.Errorf("cookie %s from %s: Secure %v SameSite %v", c.Name, sc.host, c.Secure, c.SameSite)
		}
		if strings.HasPrefix(c.Name, "__Host-") && (c.Domain != "" || c.Path != "/") {
			t.Errorf("__Host- cookie %s: Domain %q Path %q", c.Name, c.Domain, c.Path)
		}
		if c.Domain != "" && c.Domain != "example.test" && c.Domain != ".example.test" {
			t.Errorf("cookie %s from %s for domain %q", c.Name, sc.host, c.Domain)
		}
		if c.Name == appsession.DefaultCookie || c.Name == "__client" || c.Name == "__Host-ssokit_sso_state" {
			if !c.HttpOnly && c.MaxAge >= 0 {
				t.Errorf("cookie %s from %s is not HttpOnly", c.Name, sc.host)
			}
		}
	}
	for _, want := range []string{
		"app.example.test __Host-ssokit_sso_state",     // the app's browser-bound state
		"clerk.example.test __client",                  // Clerk's client, on its own host
		"clerk.example.test __clerk_handshake",         // production: the payload in a cookie, not the URL
		"app.example.test __session",                   // the handshake's directive, applied by the app
		"app.example.test " + appsession.DefaultCookie, // the app's own session
	} {
		if !seen[want] {
			t.Errorf("no cookie %s in %v", want, seen)
		}
	}

	page := func() string {
		t.Helper()
		resp, err := mockidp.Browse(s.browse, s.appURL+"/page")
		if err != nil {
			t.Fatal(err)
		}
		return readAll(resp)
	}
	if got := page(); got != "signed in as alice@acme.test" {
		t.Fatalf("page before sign-out: %q", got)
	}
	req, _ := http.NewRequest("POST", s.appURL+"/v1/auth/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	out, err := s.browse.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	if out.StatusCode != http.StatusNoContent {
		t.Fatalf("logout %d", out.StatusCode)
	}
	if got := page(); got != "signed out" {
		t.Fatalf("page after sign-out: %q", got)
	}
	// The handshake came back with the signed-out directive: Clerk's
	// client_uat for the site is 0 now, so later page loads stay local.
	u, _ := url.Parse(s.appURL)
	for _, c := range s.browse.Jar.Cookies(u) {
		if c.Name == "__client_uat" && c.Value != "0" {
			t.Errorf("__client_uat after sign-out: %q", c.Value)
		}
		if c.Name == "__session" {
			t.Errorf("__session kept after sign-out")
		}
	}
}
