package controlplane_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
)

// directSignIn signs email in through org's direct connection in a new
// browser and returns the final status and body.
func directSignIn(t *testing.T, p *plane, org string) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := p.mock.Client()
	hc.Jar = jar
	resp, err := mockidp.Browse(hc, p.app.URL+"/auth/sso/start?org="+org+"&return_to=/v1/auth/whoami")
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readAll(resp)
}

// globexOIDC gives organization globex a direct OIDC connection to the
// mock Okta and returns the persona.
func globexOIDC(t *testing.T, p *plane) *mockidp.Persona {
	t.Helper()
	ctx := context.Background()
	okta := p.mock.Persona("okta")
	redirect := p.app.URL + "/auth/sso/oidc/globex"
	if err := okta.PutClient(mockidp.ClientConfig{ClientID: "globex-app", ClientSecret: "globex-secret", RedirectURIs: []string{redirect}}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.admin.Organizations.Create(ctx, "globex", "Globex", "enterprise"); err != nil {
		t.Fatal(err)
	}
	conn := &idp.Connection{ID: "globex", Protocol: sso.OIDC, Vendor: sso.Okta,
		OIDC: &idp.OIDCSettings{Issuer: okta.Issuer(), ClientID: "globex-app", ClientSecret: "globex-secret", RedirectURL: redirect}}
	if _, err := p.admin.Organizations.ConfigureSSO(ctx, "globex", api.SSOSettings{Connection: rawJSON(t, conn),
		AllowedDomains: []string{"globex.test"}, DefaultRole: "viewer", AutoCreateUsers: true}); err != nil {
		t.Fatal(err)
	}
	return okta
}

// initechSAML gives organization initech a direct SAML connection to the
// mock OneLogin (which registers the app as a service provider, sending
// NameIDs in nameIDFormat, or its default when empty), admitting
// initech.test with JIT viewers, and returns the persona and connection.
func initechSAML(t *testing.T, p *plane, nameIDFormat string) (*mockidp.Persona, *idp.Connection) {
	t.Helper()
	ctx := context.Background()
	ol := p.mock.Persona("onelogin")
	entity, acs := p.app.URL+"/saml/initech", p.app.URL+"/auth/sso/acs/initech"
	if err := ol.RegisterServiceProvider(mockidp.ServiceProviderConfig{EntityID: entity, ACSURL: acs, NameIDFormat: nameIDFormat}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.admin.Organizations.Create(ctx, "initech", "Initech", "enterprise"); err != nil {
		t.Fatal(err)
	}
	conn := &idp.Connection{ID: "initech", Protocol: sso.SAML, Vendor: sso.OneLogin,
		SAML: &idp.SAMLSettings{IDPMetadataURL: ol.SAMLMetadataURL(), EntityID: entity, ACSURL: acs,
			// A new OneLogin app signs with SHA-1, which the administrator allows here.
			AllowSHA1: true}}
	if _, err := p.admin.Organizations.ConfigureSSO(ctx, "initech", api.SSOSettings{Connection: rawJSON(t, conn),
		AllowedDomains: []string{"initech.test"}, DefaultRole: "viewer", AutoCreateUsers: true}); err != nil {
		t.Fatal(err)
	}
	return ol, conn
}

// An identity provider that cannot be reached at the callback (its token
// endpoint answers 500) is a 503 the person can retry, not a refusal of
// their login; nobody is signed in.
func TestDirectCallbackIdPOutage(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	okta := globexOIDC(t, p)
	if err := okta.PutUser(mockidp.UserConfig{Email: "hank@globex.test"}); err != nil {
		t.Fatal(err)
	}
	okta.QueueUser("hank@globex.test")
	if err := okta.InjectFault(mockidp.FaultTokenError500, 1); err != nil {
		t.Fatal(err)
	}
	if status, body := directSignIn(t, p, "globex"); status != http.StatusServiceUnavailable || !strings.Contains(body, "upstream_unavailable") {
		t.Fatalf("token endpoint down: %d %s", status, body)
	}
	if users, _ := p.st.ListUsers(context.Background(), "globex"); len(users) != 0 {
		t.Fatalf("users after a failed login: %+v", users)
	}
}

// A direct connection's subject (the OIDC sub) is bound to the person at
// the first login: when the IdP later vouches for the same email under
// another subject (the account was deleted and the address given to a new
// one, or someone renamed their own account), the login is refused.
func TestDirectLoginSubjectIsBound(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	okta := globexOIDC(t, p)
	if err := okta.PutUser(mockidp.UserConfig{Email: "hank@globex.test", ID: "00uhank0000000000001"}); err != nil {
		t.Fatal(err)
	}
	okta.QueueUser("hank@globex.test")
	if status, body := directSignIn(t, p, "globex"); status != http.StatusOK || !strings.Contains(body, `"hank@globex.test"`) {
		t.Fatalf("first login: %d %s", status, body)
	}
	// Same email, another Okta user.
	if err := okta.PutUser(mockidp.UserConfig{Email: "hank@globex.test", ID: "00uimpostor000000002"}); err != nil {
		t.Fatal(err)
	}
	okta.QueueUser("hank@globex.test")
	if status, body := directSignIn(t, p, "globex"); status != http.StatusForbidden || !strings.Contains(body, "subject_mismatch") {
		t.Fatalf("login under another subject: %d %s", status, body)
	}
	// The bound subject still signs in.
	if err := okta.PutUser(mockidp.UserConfig{Email: "hank@globex.test", ID: "00uhank0000000000001"}); err != nil {
		t.Fatal(err)
	}
	okta.QueueUser("hank@globex.test")
	if status, body := directSignIn(t, p, "globex"); status != http.StatusOK {
		t.Fatalf("login with the bound subject: %d %s", status, body)
	}
}

// A transient SAML NameID names one session, not a person: a connection
// whose IdP sends one (and no subject attribute) is not bound to it, so the
// second login is not refused.
func TestTransientNameIDIsNotBound(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	ol, _ := initechSAML(t, p, "urn:oasis:names:tc:SAML:2.0:nameid-format:transient")
	for i := range 2 {
		ol.QueueUser("alice@initech.test")
		if status, body := directSignIn(t, p, "initech"); status != http.StatusOK || !strings.Contains(body, `"alice@initech.test"`) {
			t.Fatalf("login %d: %d %s", i+1, status, body)
		}
	}
}

// The sign-in's email hint travels on to Clerk's sign-in URL and the IdP's
// login_hint: one longer than an address can be, or holding a control
// character (a CR LF aimed at a header, a NUL), is refused before any
// redirect is built.
func TestSSOStartEmailHintIsBounded(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	long := strings.Repeat("a", 320-len("@acme.test")) + "@acme.test"
	for _, tc := range []struct {
		name, email string
		status      int
	}{
		{"an address of the longest length", long, http.StatusFound},
		{"one byte longer", "a" + long, http.StatusBadRequest},
		{"CR LF", "alice@acme.test\r\nSet-Cookie: x=y", http.StatusBadRequest},
		{"NUL", "alice@acme.test\x00", http.StatusBadRequest},
		{"DEL", "alice\x7f@acme.test", http.StatusBadRequest},
		{"tab", "alice@acme.test\tx", http.StatusBadRequest},
	} {
		resp, err := noFollow.Get(p.app.URL + "/auth/sso/start?" + url.Values{"email": {tc.email}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(resp)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, body, tc.status)
		}
		if tc.status == http.StatusBadRequest && (!strings.Contains(body, "invalid_parameter") || resp.Header.Get("Location") != "") {
			t.Errorf("%s: %s Location %q", tc.name, body, resp.Header.Get("Location"))
		}
	}
}
