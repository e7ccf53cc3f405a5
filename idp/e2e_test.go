package idp_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
)

// app is a relying application: /login starts a connection's login,
// /callback (OIDC) and /saml/acs (SAML) finish it and answer the Identity
// as JSON, or the refusal's reason with 401.
type app struct {
	srv      *httptest.Server
	conn     idp.Connector
	hint     string
	restarts atomic.Int32 // Finish restarted the sign-in (ErrReauthenticate)
}

func newApp(t testing.TB) *app {
	t.Helper()
	a := &app{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		if err := a.conn.Start(w, r, r.URL.Query().Get("return_to"), a.hint); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	finish := func(w http.ResponseWriter, r *http.Request) {
		id, returnTo, err := a.conn.Finish(w, r)
		if errors.Is(err, idp.ErrReauthenticate) {
			a.restarts.Add(1) // Finish has redirected the browser back to the IdP
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]any{"reason": idp.ReasonOf(err), "error": err.Error(), "vouched": idp.Vouched(err)})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"identity": id, "return_to": returnTo})
	}
	mux.HandleFunc("GET /callback", finish)
	mux.HandleFunc("POST /saml/acs", finish)
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

// result is what the app answered.
type result struct {
	Identity *idp.Identity `json:"identity"`
	ReturnTo string        `json:"return_to"`
	Reason   string        `json:"reason"`
	Error    string        `json:"error"`
	// Vouched is idp.Vouched of the refusal.
	Vouched bool `json:"vouched"`
}

// browse is a person's browser without JavaScript: follow redirects, post
// the IdP's auto-submit form, return the app's JSON.
func browse(t testing.TB, client *http.Client, start string) result {
	t.Helper()
	resp, err := mockidp.Browse(client, start)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var r result
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("the app answered %d %q", resp.StatusCode, body)
	}
	return r
}

func browser(srv *mockidp.Server) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := srv.Client()
	c.Jar = jar
	return c
}

// oidcConn is an OIDC connection to a persona's primary issuer and client.
func oidcConn(p *mockidp.Persona, a *app, vendor sso.Vendor) idp.Connection {
	cl := p.Clients()[0]
	method := cl.TokenEndpointAuthMethod
	return idp.Connection{ID: "c-" + p.Name(), Protocol: sso.OIDC, Vendor: vendor, OIDC: &idp.OIDCSettings{
		Issuer: p.Issuer(), ClientID: cl.ClientID, ClientSecret: cl.ClientSecret,
		RedirectURL: a.srv.URL + "/callback", TokenEndpointAuthMethod: method}}
}

// samlConn is a SAML connection to a persona, registered with it.
func samlConn(t testing.TB, p *mockidp.Persona, a *app, vendor sso.Vendor, mod func(*idp.SAMLSettings)) idp.Connection {
	t.Helper()
	s := &idp.SAMLSettings{IDPMetadataURL: p.SAMLMetadataURL(), EntityID: a.srv.URL + "/saml/metadata", ACSURL: a.srv.URL + "/saml/acs"}
	// OneLogin apps sign with SHA-1 unless their administrator changes
	// it, so the persona may too; ssokit refuses SHA-1 unless allowed
	// (the refusal is tested in sha1_test.go and captures_test.go).
	s.AllowSHA1 = vendor == sso.OneLogin
	if mod != nil {
		mod(s)
	}
	if err := p.RegisterServiceProvider(mockidp.ServiceProviderConfig{EntityID: s.EntityID, ACSURL: s.ACSURL}); err != nil {
		t.Fatal(err)
	}
	return idp.Connection{ID: "s-" + p.Name(), Protocol: sso.SAML, Vendor: vendor, SAML: s}
}

var vendors = map[string]sso.Vendor{"okta": sso.Okta, "azure": sso.AzureAD, "google": sso.GoogleWorkspace,
	"onelogin": sso.OneLogin, "jumpcloud": sso.JumpCloud}

// testStateKey signs the tests' state cookies (a program reads 32 random
// bytes from its configuration).
var testStateKey = []byte("0123456789abcdef0123456789abcdef")

func connect(t testing.TB, srv *mockidp.Server, c idp.Connection, opts idp.Options) idp.Connector {
	t.Helper()
	if opts.HTTPClient == nil {
		opts.HTTPClient = srv.Client()
	}
	opts.InsecureAllowLoopback = true // the mock listens on 127.0.0.1
	if opts.StateKey == nil {
		opts.StateKey = testStateKey
	}
	conn, err := idp.New(context.Background(), c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestEveryPersonaBothProtocols logs in through every persona over OIDC
// and SAML and checks the Identity field by field.
func TestEveryPersonaBothProtocols(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	for _, p := range srv.Personas() {
		u := p.Users()[0]
		vendor := vendors[p.Name()]
		oid, _ := p.UserID(u.Email)
		wantGroups := u.Groups
		if vendor == sso.AzureAD {
			wantGroups = p.GroupIDs(u.Groups...)
		}
		for _, proto := range []sso.Protocol{sso.OIDC, sso.SAML} {
			t.Run(p.Name()+"/"+string(proto), func(t *testing.T) {
				a := newApp(t)
				var c idp.Connection
				if proto == sso.OIDC {
					c = oidcConn(p, a, vendor)
				} else {
					c = samlConn(t, p, a, vendor, nil)
				}
				a.conn = connect(t, srv, c, idp.Options{})
				a.hint = u.Email
				r := browse(t, browser(srv), a.srv.URL+"/login?return_to=/dashboard")
				if r.Identity == nil {
					t.Fatalf("refused: %s %s", r.Reason, r.Error)
				}
				id := r.Identity
				if r.ReturnTo != "/dashboard" || id.Email != u.Email || id.IdP != vendor || id.ConnectionID != c.ID || id.Protocol != proto || !id.EmailVerified {
					t.Errorf("identity %+v return_to %q", id, r.ReturnTo)
				}
				if id.FirstName != u.GivenName || id.LastName != u.FamilyName {
					// Azure's v2 ID token carries name, not given/family
					// names, unless optional claims are set.
					if !(vendor == sso.AzureAD && proto == sso.OIDC) {
						t.Errorf("names %q %q, want %q %q", id.FirstName, id.LastName, u.GivenName, u.FamilyName)
					}
				}
				wantSubject := oid
				if proto == sso.SAML && vendor != sso.AzureAD {
					wantSubject = u.Email // the NameID
				}
				if id.Subject != wantSubject {
					t.Errorf("subject %q, want %q", id.Subject, wantSubject)
				}
				if strings.Join(id.Groups, ",") != strings.Join(wantGroups, ",") {
					t.Errorf("groups %v, want %v", id.Groups, wantGroups)
				}
				switch vendor {
				case sso.AzureAD:
					if id.TenantID != p.Tenant() {
						t.Errorf("tenant %q", id.TenantID)
					}
				case sso.GoogleWorkspace:
					if proto == sso.OIDC && id.HostedDomain != "example-workspace.test" {
						t.Errorf("hd %q", id.HostedDomain)
					}
				}
				if proto == sso.SAML && (id.NameID == "" || id.SessionIndex == "") {
					t.Errorf("SAML session details missing: %+v", id)
				}
			})
		}
	}
}

// TestCheckConnection: the server-side check passes a good connection
// step by step and names the step that fails for each kind of mistake.
func TestCheckConnection(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	a := newApp(t)
	p := srv.Persona("okta")
	opts := idp.Options{HTTPClient: srv.Client(), InsecureAllowLoopback: true}
	ctx := context.Background()
	failedAt := func(rep idp.CheckReport) string {
		for _, s := range rep.Steps {
			if !s.OK {
				return s.Name
			}
		}
		return ""
	}
	for name, tc := range map[string]struct {
		conn   idp.Connection
		failed string // "" when the check passes
		steps  int
	}{
		"saml":                    {samlConn(t, p, a, sso.Okta, nil), "", 4},
		"oidc":                    {oidcConn(p, a, sso.Okta), "", 3},
		"saml metadata not found": {samlConn(t, p, a, sso.Okta, func(s *idp.SAMLSettings) { s.IDPMetadataURL += "/nope" }), "metadata", 1},
		"saml bad ACS": {func() idp.Connection {
			c := samlConn(t, p, a, sso.Okta, nil)
			c.SAML.ACSURL = "not a url"
			return c
		}(), "service provider", 4},
		"oidc wrong issuer": {func() idp.Connection {
			c := oidcConn(p, a, sso.Okta)
			c.OIDC.Issuer += "/other"
			return c
		}(), "discovery", 1},
		"oidc wrong secret": {func() idp.Connection {
			c := oidcConn(p, a, sso.Okta)
			c.OIDC.ClientSecret = "wrong"
			return c
		}(), "client credentials", 3},
		"no settings": {idp.Connection{ID: "x", Protocol: sso.SAML, Vendor: sso.Okta}, "configuration", 1},
	} {
		rep := idp.CheckConnection(ctx, tc.conn, opts)
		if got := failedAt(rep); got != tc.failed || rep.OK != (tc.failed == "") || len(rep.Steps) != tc.steps {
			t.Errorf("%s: failed at %q (OK %v, %d steps), want %q: %+v", name, got, rep.OK, len(rep.Steps), tc.failed, rep)
		}
	}
	// The JWKS down: discovery passes, the keys step says so.
	if err := p.InjectFault(mockidp.FaultJWKSUnavailable, 0); err != nil {
		t.Fatal(err)
	}
	defer p.ClearFaults()
	if rep := idp.CheckConnection(ctx, oidcConn(p, a, sso.Okta), opts); failedAt(rep) != "signing keys" {
		t.Errorf("JWKS down: %+v", rep)
	}
}

// TestCheckCertificates: expired and not-yet-valid signing certificates
// fail the certificate step; one close to expiry passes and is named.
func TestCheckCertificates(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		notBefore, notAfter time.Time
		ok                  bool
		detail              string
	}{
		"valid":        {now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0), true, "valid until 2031-01-01"},
		"expires soon": {now.AddDate(-1, 0, 0), now.AddDate(0, 0, 10), true, "expires soon"},
		"expired":      {now.AddDate(-2, 0, 0), now.AddDate(0, 0, -1), false, "expired on 2029-12-31"},
		"not yet":      {now.AddDate(0, 0, 1), now.AddDate(1, 0, 0), false, "not valid before 2030-01-02"},
	} {
		md := metadataWithCert(t, tc.notBefore, tc.notAfter)
		c := idp.Connection{ID: "c", Protocol: sso.SAML, Vendor: sso.Okta, SAML: &idp.SAMLSettings{IDPMetadataXML: md,
			EntityID: "https://app.example/saml", ACSURL: "https://app.example/acs"}}
		rep := idp.CheckConnection(context.Background(), c, idp.Options{Now: func() time.Time { return now }})
		var step idp.CheckStep
		for _, s := range rep.Steps {
			if s.Name == "signing certificate" {
				step = s
			}
		}
		if tc.ok && (!step.OK || !strings.Contains(step.Detail, tc.detail)) {
			t.Errorf("%s: %+v", name, rep)
		}
		if !tc.ok && rep.OK {
			t.Errorf("%s: passed: %+v", name, rep)
		}
		if !tc.ok && !strings.Contains(fmt.Sprint(rep.Steps), tc.detail) {
			t.Errorf("%s: the report does not say %q: %+v", name, tc.detail, rep)
		}
	}
}

// metadataWithCert is IdP metadata whose one signing certificate is valid
// from notBefore to notAfter.
func metadataWithCert(t *testing.T, notBefore, notAfter time.Time) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"}, NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example/">
<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>` +
		base64.StdEncoding.EncodeToString(der) + `</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/sso"/>
</IDPSSODescriptor></EntityDescriptor>`
}

func wantRefusal(t *testing.T, r result, sentinel error, reason string) {
	t.Helper()
	if r.Identity != nil {
		t.Fatalf("accepted %+v; want %s", r.Identity, reason)
	}
	if r.Reason != reason {
		t.Fatalf("reason %q (%s), want %q", r.Reason, r.Error, reason)
	}
	if !strings.Contains(r.Error, sentinel.Error()) {
		t.Fatalf("error %q does not wrap %v", r.Error, sentinel)
	}
	// Only a refusal after the IdP's answer verified is vouched for:
	// before that the answer could be anyone's.
	if want, known := vouchedReasons[reason]; known && r.Vouched != want {
		t.Fatalf("%s: vouched %v, want %v", reason, r.Vouched, want)
	}
}

// vouchedReasons says for each refusal these tests meet whether it comes
// after the IdP's answer was established as its own (a replayed signed
// assertion, an ID token from the code exchange with another login's
// nonce, ...) or before (no state, a junk code, the IdP's error redirect).
// A reason met on both sides (a bad signature: a SAML response's is
// anyone's, an exchanged ID token's the IdP's) is not listed.
var vouchedReasons = map[string]bool{
	idp.ReasonState: false, idp.ReasonUnsolicited: false, idp.ReasonIdPError: false,
	idp.ReasonUpstream: false, idp.ReasonCode: false, idp.ReasonDoctype: false, idp.ReasonUntrustedCert: false,
	idp.ReasonReplay: true, idp.ReasonNonce: true, idp.ReasonEmailUnverified: true, idp.ReasonEmailVerifiedNone: true,
	idp.ReasonNoHostedDomain: true, idp.ReasonHostedDomain: true, idp.ReasonHostedDomainEmail: true, idp.ReasonTenant: true,
	idp.ReasonUserinfoSubject: true, idp.ReasonGroupsLink: true, idp.ReasonAuthnTooOld: true, idp.ReasonAssertionLifetime: true,
	idp.ReasonNoSubject: true, idp.ReasonGroupOverage: true,
}

func json2(t testing.TB, resp *http.Response, v any) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("the app answered %d %q", resp.StatusCode, body)
	}
}

func decodeXML(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return xml.NewDecoder(resp.Body).Decode(v)
}
