package idp_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
)

// TestTenantURLsRefused: a SAML metadata URL or OIDC issuer a tenant
// gives cannot make the server reach its own network, whatever the
// address's spelling; the error says only which step failed.
func TestTenantURLsRefused(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	inside := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("internal secret"))
	}))
	t.Cleanup(inside.Close)
	port := inside.Listener.Addr().(interface{ String() string }).String()
	port = port[strings.LastIndex(port, ":")+1:]
	opts := idp.Options{HTTPClient: inside.Client(), StateKey: testStateKey} // trusts the server's certificate
	for _, tc := range []struct{ kind, base, says string }{
		{"loopback literal", "https://127.0.0.1:" + port, "public host"},
		{"loopback /8", "https://127.1.2.3:" + port, "public host"},
		{"loopback v6", "https://[::1]:" + port, "public host"},
		{"loopback v4-mapped", "https://[::ffff:127.0.0.1]:" + port, "public host"},
		{"loopback by name (checked at dial)", "https://localhost:" + port, "fetch failed"},
		{"cloud metadata", "https://169.254.169.254", "public host"},
		{"cloud metadata mapped", "https://[::ffff:a9fe:a9fe]", "public host"},
		{"cloud metadata NAT64", "https://[64:ff9b::a9fe:a9fe]", "public host"},
		{"private", "https://10.0.0.1", "public host"},
		{"private 192.168", "https://192.168.0.1", "public host"},
		{"CGNAT", "https://100.64.0.1", "public host"},
		{"link-local v6", "https://[fe80::1]", "public host"},
		{"ULA", "https://[fd00::1]", "public host"},
		{"unspecified", "https://0.0.0.0:" + port, "public host"},
		{"multicast", "https://224.0.0.1", "public host"},
		{"broadcast", "https://255.255.255.255", "public host"},
		{"plain http", "http://idp.example.com", "public host"},
		{"plain http to loopback", "http://127.0.0.1:" + port, "public host"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			saml := idp.Connection{ID: "c", Protocol: sso.SAML, Vendor: sso.Okta, SAML: &idp.SAMLSettings{
				IDPMetadataURL: tc.base + "/metadata", EntityID: "https://app.example/saml", ACSURL: "https://app.example/acs"}}
			oidc := idp.Connection{ID: "c", Protocol: sso.OIDC, Vendor: sso.Okta, OIDC: &idp.OIDCSettings{
				Issuer: tc.base, ClientID: "a", ClientSecret: "b", RedirectURL: "https://app.example/cb"}}
			for _, c := range []idp.Connection{saml, oidc} {
				_, err := idp.New(t.Context(), c, opts)
				if !errors.Is(err, idp.ErrConfig) || !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), "secret") {
					t.Errorf("%s %s: %v, want ErrConfig saying %q", c.Protocol, tc.base, err, tc.says)
				}
				rep := idp.CheckConnection(t.Context(), c, opts)
				if rep.OK {
					t.Errorf("%s %s: CheckConnection passed", c.Protocol, tc.base)
				}
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the internal server", n)
	}
}

// TestFetchErrorsAreGeneric: what an identity provider (or anything
// behind a tenant's URL) answers never comes back in the error: not its
// status, not its body, not the network error.
func TestFetchErrorsAreGeneric(t *testing.T) {
	t.Parallel()
	var metadataHits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/status/"):
			metadataHits.Add(1)
			http.Error(w, "SECRET-BODY of an internal service", http.StatusTeapot)
		case r.URL.Path == "/redirect/.well-known/openid-configuration", r.URL.Path == "/redirect/metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/iam", http.StatusFound)
		case r.URL.Path == "/big/metadata":
			w.Write(bytes.Repeat([]byte("<"), 3<<20))
		default:
			http.Error(w, "SECRET-BODY", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	opts := idp.Options{StateKey: testStateKey, InsecureAllowLoopback: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	for _, tc := range []struct {
		name string
		c    idp.Connection
		says string
	}{
		{"metadata status", samlAt(srv.URL + "/status/metadata"), "metadata fetch failed"},
		{"metadata redirect to metadata address", samlAt(srv.URL + "/redirect/metadata"), "metadata fetch failed"},
		{"metadata too large", samlAt(srv.URL + "/big/metadata"), "metadata fetch failed"},
		{"metadata connection refused", samlAt("http://127.0.0.1:1/metadata"), "metadata fetch failed"},
		{"discovery status", oidcAt(srv.URL + "/status"), "discovery fetch failed"},
		{"discovery redirect to metadata address", oidcAt(srv.URL + "/redirect"), "discovery fetch failed"},
		{"discovery connection refused", oidcAt("http://127.0.0.1:1"), "discovery fetch failed"},
	} {
		_, err := idp.New(t.Context(), tc.c, opts)
		msg := fmt.Sprint(err)
		if !errors.Is(err, idp.ErrConfig) || !strings.Contains(msg, tc.says) {
			t.Errorf("%s: %v, want one saying %q", tc.name, err, tc.says)
		}
		for _, leak := range []string{"SECRET", "418", "500", "169.254", "refused", "dial", "teapot"} {
			if strings.Contains(msg, leak) {
				t.Errorf("%s: the error %q shows %q", tc.name, msg, leak)
			}
		}
	}
	if metadataHits.Load() == 0 || !strings.Contains(logs.String(), "418") {
		t.Fatalf("the detail is not in the operator's log: %s", logs.String())
	}
}

func samlAt(u string) idp.Connection {
	return idp.Connection{ID: "c", Protocol: sso.SAML, Vendor: sso.Okta, SAML: &idp.SAMLSettings{
		IDPMetadataURL: u, EntityID: "https://app.example/saml", ACSURL: "https://app.example/acs"}}
}

func oidcAt(issuer string) idp.Connection {
	return idp.Connection{ID: "c", Protocol: sso.OIDC, Vendor: sso.Okta, OIDC: &idp.OIDCSettings{
		Issuer: issuer, ClientID: "a", ClientSecret: "b", RedirectURL: "https://app.example/cb"}}
}

// TestLoopbackNeedsTheOperator: the mock on 127.0.0.1 is reachable only
// with Options.InsecureAllowLoopback, never by default.
func TestLoopbackNeedsTheOperator(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	p := srv.Persona("okta")
	a := newApp(t)
	for _, c := range []idp.Connection{oidcConn(p, a, sso.Okta), samlConn(t, p, a, sso.Okta, nil)} {
		if _, err := idp.New(t.Context(), c, idp.Options{HTTPClient: srv.Client(), StateKey: testStateKey}); !errors.Is(err, idp.ErrConfig) {
			t.Fatalf("%s to the loopback mock without the operator's setting: %v", c.Protocol, err)
		}
		if _, err := idp.New(t.Context(), c, idp.Options{HTTPClient: srv.Client(), StateKey: testStateKey, InsecureAllowLoopback: true}); err != nil {
			t.Fatalf("%s with InsecureAllowLoopback: %v", c.Protocol, err)
		}
	}
}

// TestOverageEndpointIgnored: an overage claim naming another host is
// never called, and the access token never reaches it; the groups come
// from the configured Graph URL.
func TestOverageEndpointIgnored(t *testing.T) {
	t.Parallel()
	var stolen atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		w.Write([]byte(`{"value":["evil-admins"]}`))
	}))
	t.Cleanup(evil.Close)
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	p := srv.Persona("azure")
	if err := p.PutUser(mockidp.UserConfig{Email: "olga@contoso.test", Groups: []string{"engineers"}, Claims: map[string]any{
		"_claim_names":   map[string]any{"groups": "src1"},
		"_claim_sources": map[string]any{"src1": map[string]any{"endpoint": evil.URL + "/v1.0/users/x/getMemberObjects"}},
	}}); err != nil {
		t.Fatal(err)
	}
	for _, resolver := range []idp.GraphGroupResolver{
		{BaseURL: p.GraphURL(), HTTPClient: srv.Client()},
		{BaseURL: p.GraphURL() + "/", HTTPClient: srv.Client()},
	} {
		a := newApp(t)
		a.conn = connect(t, srv, oidcConn(p, a, sso.AzureAD), idp.Options{GroupResolver: resolver})
		a.hint = "olga@contoso.test"
		r := browse(t, browser(srv), a.srv.URL+"/login")
		if r.Identity == nil || strings.Join(r.Identity.Groups, ",") != strings.Join(p.GroupIDs("engineers"), ",") {
			t.Fatalf("groups %v (%s), want the Graph's %v", r.Identity, r.Error, p.GroupIDs("engineers"))
		}
	}
	if stolen.Load() != 0 {
		t.Fatalf("the token's overage endpoint was called %d times", stolen.Load())
	}
	if (idp.GraphGroupResolver{}).BaseURL != "" || idp.DefaultGraphURL != "https://graph.microsoft.com" {
		t.Fatal("the default Graph URL changed")
	}
}

// TestEmailVerified: an explicit false (in any spelling) is refused for
// every vendor; a missing claim is refused for vendors that send it and
// admitted for those that never do (Entra ID, OneLogin).
func TestEmailVerified(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	absent := any(nil)
	for _, tc := range []struct {
		persona, email string
		vendor         sso.Vendor
		claim          *any // nil: the vendor's own
		reason         string
	}{
		{"okta", "ev-okta@acme.test", sso.Okta, nil, ""},
		{"okta", "ev-okta-false@acme.test", sso.Okta, ptr[any](false), idp.ReasonEmailUnverified},
		{"okta", "ev-okta-str@acme.test", sso.Okta, ptr[any]("false"), idp.ReasonEmailUnverified},
		{"okta", "ev-okta-num@acme.test", sso.Okta, ptr[any](0), idp.ReasonEmailUnverified},
		{"okta", "ev-okta-none@acme.test", sso.Okta, &absent, idp.ReasonEmailVerifiedNone},
		{"google", "ev-g@example-workspace.test", sso.GoogleWorkspace, ptr[any](false), idp.ReasonEmailUnverified},
		{"google", "ev-g-none@example-workspace.test", sso.GoogleWorkspace, &absent, idp.ReasonEmailVerifiedNone},
		{"jumpcloud", "ev-jc@initech.test", sso.JumpCloud, ptr[any](false), idp.ReasonEmailUnverified},
		{"jumpcloud", "ev-jc-none@initech.test", sso.JumpCloud, &absent, idp.ReasonEmailVerifiedNone},
		{"azure", "ev-az@contoso.test", sso.AzureAD, nil, ""},
		{"azure", "ev-az-false@contoso.test", sso.AzureAD, ptr[any](false), idp.ReasonEmailUnverified},
		{"onelogin", "ev-ol@globex.test", sso.OneLogin, nil, ""},
		{"onelogin", "ev-ol-false@globex.test", sso.OneLogin, ptr[any]("false"), idp.ReasonEmailUnverified},
	} {
		t.Run(tc.email, func(t *testing.T) {
			p := srv.Persona(tc.persona)
			u := mockidp.UserConfig{Email: tc.email}
			if tc.claim != nil {
				u.Claims = map[string]any{"email_verified": *tc.claim}
			}
			if err := p.PutUser(u); err != nil {
				t.Fatal(err)
			}
			a := newApp(t)
			a.conn = connect(t, srv, oidcConn(p, a, tc.vendor), idp.Options{})
			a.hint = tc.email
			r := browse(t, browser(srv), a.srv.URL+"/login")
			if tc.reason == "" {
				if r.Identity == nil || !r.Identity.EmailVerified {
					t.Fatalf("refused or unverified: %+v %s", r.Identity, r.Error)
				}
				return
			}
			wantRefusal(t, r, idp.ErrNotAllowed, tc.reason)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestGoogleHostedDomainMatchesEmail: hd must be the email's own domain.
func TestGoogleHostedDomainMatchesEmail(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	p := srv.Persona("google")
	for _, tc := range []struct {
		email, hd string
		allowed   []string
		reason    string
	}{
		{"hd-ok@example-workspace.test", "", nil, ""},
		{"hd-case@example-workspace.test", "EXAMPLE-WORKSPACE.TEST", nil, ""},
		{"hd-other@example-workspace.test", "evil.test", nil, idp.ReasonHostedDomainEmail},
		{"hd-other2@example-workspace.test", "evil.test", []string{"evil.test"}, idp.ReasonHostedDomainEmail},
		{"hd-sub@example-workspace.test", "sub.example-workspace.test", nil, idp.ReasonHostedDomainEmail},
		{"hd-parent@sub.example-workspace.test", "example-workspace.test", nil, idp.ReasonHostedDomainEmail},
		{"dana@gmail.com", "", nil, idp.ReasonNoHostedDomain},
	} {
		t.Run(tc.email, func(t *testing.T) {
			u := mockidp.UserConfig{Email: tc.email}
			if tc.hd != "" {
				u.Claims = map[string]any{"hd": tc.hd}
			}
			if err := p.PutUser(u); err != nil {
				t.Fatal(err)
			}
			a := newApp(t)
			c := oidcConn(p, a, sso.GoogleWorkspace)
			c.AllowedDomains = tc.allowed
			a.conn = connect(t, srv, c, idp.Options{})
			a.hint = tc.email
			r := browse(t, browser(srv), a.srv.URL+"/login")
			if tc.reason == "" {
				if r.Identity == nil {
					t.Fatalf("refused: %s", r.Error)
				}
				return
			}
			wantRefusal(t, r, idp.ErrNotAllowed, tc.reason)
		})
	}
}

// TestUserinfo: with an ID token that carries only sub, the profile's
// claims come from userinfo; a userinfo answer about another sub is
// refused.
func TestUserinfo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		persona string
		vendor  sso.Vendor
		email   string
		groups  bool
	}{
		{"okta", sso.Okta, "alice@acme.test", true},
		{"google", sso.GoogleWorkspace, "alice@example-workspace.test", false},
		{"onelogin", sso.OneLogin, "", true},
	} {
		t.Run(tc.persona, func(t *testing.T) {
			t.Parallel()
			cfg := mockidp.DefaultConfig()
			for i := range cfg.Personas {
				cfg.Personas[i].ClaimsInUserinfoOnly = true
			}
			srv := mockidp.Start(t, cfg)
			p := srv.Persona(tc.persona)
			email := tc.email
			if email == "" {
				email = p.Users()[0].Email
			}
			want, _ := p.User(email)
			a := newApp(t)
			a.conn = connect(t, srv, oidcConn(p, a, tc.vendor), idp.Options{})
			a.hint = email
			r := browse(t, browser(srv), a.srv.URL+"/login")
			if r.Identity == nil || r.Identity.Email != email || !r.Identity.EmailVerified || r.Identity.FirstName != want.GivenName {
				t.Fatalf("identity %+v (%s), want %s from userinfo", r.Identity, r.Error, email)
			}
			if tc.groups && len(want.Groups) > 0 && len(r.Identity.Groups) == 0 {
				t.Fatalf("groups not taken from userinfo: %+v", r.Identity)
			}
		})
	}
	t.Run("subject mismatch", func(t *testing.T) {
		t.Parallel()
		cfg := mockidp.DefaultConfig()
		for i := range cfg.Personas {
			cfg.Personas[i].ClaimsInUserinfoOnly = true
			cfg.Personas[i].UserinfoSubject = "00u-someone-else"
		}
		srv := mockidp.Start(t, cfg)
		p := srv.Persona("okta")
		a := newApp(t)
		a.conn = connect(t, srv, oidcConn(p, a, sso.Okta), idp.Options{})
		a.hint = "alice@acme.test"
		wantRefusal(t, browse(t, browser(srv), a.srv.URL+"/login"), idp.ErrInvalidResponse, idp.ReasonUserinfoSubject)
	})
	t.Run("not called when the ID token has the claims", func(t *testing.T) {
		t.Parallel()
		cfg := mockidp.DefaultConfig()
		for i := range cfg.Personas {
			cfg.Personas[i].UserinfoSubject = "00u-someone-else" // would be refused if called
		}
		srv := mockidp.Start(t, cfg)
		p := srv.Persona("okta")
		a := newApp(t)
		a.conn = connect(t, srv, oidcConn(p, a, sso.Okta), idp.Options{})
		a.hint = "alice@acme.test"
		if r := browse(t, browser(srv), a.srv.URL+"/login"); r.Identity == nil {
			t.Fatalf("refused: %s", r.Error)
		}
	})
}

// TestSAMLAssertionLifetime: every vendor's own shape passes the default
// limits; an assertion valid for ten years is refused, and so is one
// just over a configured limit.
func TestSAMLAssertionLifetime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		seconds int
		limits  idp.SAMLLimits
		reason  string
	}{
		{"ten years", 10 * 365 * 24 * 3600, idp.SAMLLimits{}, idp.ReasonAssertionLifetime},
		{"three hours", 3 * 3600, idp.SAMLLimits{}, idp.ReasonAssertionLifetime},
		{"one hour", 3600, idp.SAMLLimits{}, ""},
		{"over a configured limit", 1200, idp.SAMLLimits{MaxAssertionLifetime: 15 * time.Minute}, idp.ReasonAssertionLifetime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := mockidp.DefaultConfig()
			for i := range cfg.Personas {
				cfg.Personas[i].SAML.AssertionLifetimeSeconds = tc.seconds
			}
			srv := mockidp.Start(t, cfg)
			p := srv.Persona("okta")
			a := newApp(t)
			a.conn = connect(t, srv, samlConn(t, p, a, sso.Okta, nil), idp.Options{SAML: tc.limits})
			a.hint = "alice@acme.test"
			r := browse(t, browser(srv), a.srv.URL+"/login")
			if tc.reason == "" {
				if r.Identity == nil {
					t.Fatalf("refused: %s", r.Error)
				}
				return
			}
			wantRefusal(t, r, idp.ErrInvalidResponse, tc.reason)
		})
	}
	t.Run("every vendor's shape", func(t *testing.T) {
		t.Parallel()
		srv := mockidp.Start(t, mockidp.DefaultConfig())
		for name, vendor := range vendors {
			p := srv.Persona(name)
			a := newApp(t)
			a.conn = connect(t, srv, samlConn(t, p, a, vendor, nil), idp.Options{})
			a.hint = p.Users()[0].Email
			if r := browse(t, browser(srv), a.srv.URL+"/login"); r.Identity == nil {
				t.Errorf("%s refused under the default limits: %s", name, r.Error)
			}
		}
	})
}

// TestSAMLStaleAuthnRestartsOnce: an IdP session older than MaxAuthnAge
// sends the browser back once with ForceAuthn="true"; an IdP that honours
// it signs the person in, one that answers stale again is refused.
func TestSAMLStaleAuthnRestartsOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		age      int
		ignore   bool
		limits   idp.SAMLLimits
		restarts int32
		reason   string
	}{
		{"fresh", 0, false, idp.SAMLLimits{}, 0, ""},
		{"a week-old session under the default", 7 * 24 * 3600, false, idp.SAMLLimits{}, 1, ""},
		{"an hour-old session under a 30-minute limit", 3600, false, idp.SAMLLimits{MaxAuthnAge: 30 * time.Minute}, 1, ""},
		{"an hour-old session under the default", 3600, false, idp.SAMLLimits{}, 0, ""},
		{"stale twice", 7 * 24 * 3600, true, idp.SAMLLimits{}, 1, idp.ReasonAuthnTooOld},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := mockidp.DefaultConfig()
			for i := range cfg.Personas {
				cfg.Personas[i].SAML.SessionAgeSeconds = tc.age
				cfg.Personas[i].SAML.IgnoreForceAuthn = tc.ignore
			}
			srv := mockidp.Start(t, cfg)
			p := srv.Persona("azure")
			a := newApp(t)
			a.conn = connect(t, srv, samlConn(t, p, a, sso.AzureAD, nil), idp.Options{SAML: tc.limits})
			a.hint = "bob@contoso.test"
			for range 2 { // the restart carries no login_hint: the IdP asks again
				if err := p.QueueUser("bob@contoso.test"); err != nil {
					t.Fatal(err)
				}
			}
			r := browse(t, browser(srv), a.srv.URL+"/login?return_to="+url.QueryEscape("/after"))
			if got := a.restarts.Load(); got != tc.restarts {
				t.Fatalf("%d restarts, want %d", got, tc.restarts)
			}
			if tc.reason != "" {
				wantRefusal(t, r, idp.ErrInvalidResponse, tc.reason)
				return
			}
			if r.Identity == nil || r.ReturnTo != "/after" {
				t.Fatalf("refused or lost the return path: %+v %q %s", r.Identity, r.ReturnTo, r.Error)
			}
		})
	}
}
