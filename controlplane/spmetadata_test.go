package controlplane_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/client"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
	"github.com/ssokit/ssokit/ssoevent"
	"github.com/ssokit/ssokit/store"
)

// spSigner is an RSA key and a self-signed certificate for the app's SAML
// service provider.
func spSigner(t *testing.T) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "app SP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// spDescriptor is the part of SP metadata the test reads.
type spDescriptor struct {
	EntityID string `xml:"entityID,attr"`
	SP       struct {
		AuthnRequestsSigned string `xml:"AuthnRequestsSigned,attr"`
		Keys                []struct {
			Use  string `xml:"use,attr"`
			Cert string `xml:"KeyInfo>X509Data>X509Certificate"`
		} `xml:"KeyDescriptor"`
		ACS []struct {
			Binding  string `xml:"Binding,attr"`
			Location string `xml:"Location,attr"`
		} `xml:"AssertionConsumerService"`
	} `xml:"SPSSODescriptor"`
}

// A persona registers the app's service provider from nothing but the
// metadata URL the control plane publishes, and then signs a person in
// through it, with AuthnRequests signed by the key the metadata names.
func TestSPMetadataRegistersTheIdP(t *testing.T) {
	t.Parallel()
	key, cert := spSigner(t)
	p := newPlaneWith(t, nil, func(c *controlplane.Config) { c.IdP.SPKey, c.IdP.SPCertificate = key, cert })
	ctx := context.Background()
	persona := p.mock.Persona("onelogin")
	entity, acs := p.app.URL+"/saml/initech", p.app.URL+"/auth/sso/acs/initech"
	if _, err := p.admin.Organizations.Create(ctx, "initech", "Initech", "enterprise"); err != nil {
		t.Fatal(err)
	}
	conn := &idp.Connection{ID: "initech", Protocol: sso.SAML, Vendor: sso.OneLogin,
		SAML: &idp.SAMLSettings{IDPMetadataURL: persona.SAMLMetadataURL(), EntityID: entity, ACSURL: acs,
			// A new OneLogin app signs with SHA-1, which the administrator allows here.
			AllowSHA1: true}}
	if _, err := p.admin.Organizations.ConfigureSSO(ctx, "initech", api.SSOSettings{Connection: rawJSON(t, conn), AllowedDomains: []string{"initech.test"},
		DefaultRole: "viewer", AutoCreateUsers: true}); err != nil {
		t.Fatal(err)
	}

	sp, err := p.admin.Organizations.SAMLServiceProvider(ctx, "initech")
	if err != nil {
		t.Fatal(err)
	}
	wantPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
	if sp.EntityID != entity || sp.ACSURL != acs || sp.MetadataURL != p.app.URL+"/auth/sso/saml/initech/metadata" || sp.SigningCertificatePEM != wantPEM {
		t.Fatalf("SAMLServiceProvider = %+v", sp)
	}

	// The metadata document says the same.
	resp, err := http.Get(sp.MetadataURL)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(resp)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/samlmetadata+xml" {
		t.Fatalf("metadata: %d %s: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var md spDescriptor
	if err := xml.Unmarshal([]byte(body), &md); err != nil {
		t.Fatalf("metadata is not XML: %v", err)
	}
	if md.EntityID != entity || len(md.SP.ACS) != 1 || md.SP.ACS[0].Location != acs || md.SP.ACS[0].Binding != "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" ||
		md.SP.AuthnRequestsSigned != "true" {
		t.Fatalf("metadata %+v", md)
	}
	signing := ""
	for _, k := range md.SP.Keys {
		if k.Use == "signing" {
			signing = strings.Join(strings.Fields(k.Cert), "")
		}
	}
	if signing != base64.StdEncoding.EncodeToString(cert.Raw) {
		t.Fatalf("metadata signing certificate %q", signing)
	}

	signIn := func(email string) api.Whoami {
		t.Helper()
		if err := persona.QueueUser(email); err != nil {
			t.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		hc := p.mock.Client()
		hc.Jar = jar
		resp, err := mockidp.Browse(hc, p.app.URL+"/auth/sso/start?org=initech&return_to=/v1/auth/whoami")
		if err != nil {
			t.Fatal(err)
		}
		var me api.Whoami
		json.Unmarshal([]byte(readAll(resp)), &me)
		return me
	}
	// Unregistered, the persona refuses the app.
	if me := signIn("alice@initech.test"); me.Email != "" {
		t.Fatalf("signed in through an unregistered service provider: %+v", me)
	}
	if err := persona.RegisterServiceProvider(mockidp.ServiceProviderConfig{MetadataURL: sp.MetadataURL}); err != nil {
		t.Fatal(err)
	}
	if me := signIn("alice@initech.test"); me.Email != "alice@initech.test" || me.OrgID != "initech" || me.AuthMethod != "sso" || me.IdPName != "onelogin" {
		t.Fatalf("sign-in through the registered service provider: %+v", me)
	}
}

// The metadata and the JSON answer only for a direct SAML connection, each
// refusal with its own code.
func TestSPMetadataRefusals(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	ctx := context.Background()
	azure := p.mock.Persona("azure")
	p.admin.Organizations.Create(ctx, "oidcorg", "OIDC Org", "enterprise")
	oidcConn := &idp.Connection{ID: "oidcorg", Protocol: sso.OIDC, Vendor: sso.AzureAD, OIDC: &idp.OIDCSettings{Issuer: azure.Issuer(),
		ClientID: "c", ClientSecret: "s", RedirectURL: p.app.URL + "/auth/sso/oidc/oidcorg"}}
	if _, err := p.admin.Organizations.ConfigureSSO(ctx, "oidcorg", api.SSOSettings{Connection: rawJSON(t, oidcConn), AllowedDomains: []string{"contoso.test"}}); err != nil {
		t.Fatal(err)
	}
	// A SAML connection whose IdP metadata has gone away since it was saved.
	p.admin.Organizations.Create(ctx, "broken", "Broken", "enterprise")
	broken := &idp.Connection{ID: "broken", Protocol: sso.SAML, Vendor: sso.Okta,
		SAML: &idp.SAMLSettings{IDPMetadataURL: p.mock.URL + "/nope", EntityID: p.app.URL + "/saml/broken", ACSURL: p.app.URL + "/auth/sso/acs/broken"}}
	if _, err := p.st.UpdateOrg(ctx, "broken", func(o *store.Org) error { o.Connection, o.SSOConfigured = rawJSON(t, broken), true; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, org string
		status    int
		code      string
	}{
		{"unknown organization", "nobody", 404, "not_found"},
		{"SSO through Clerk", "acme", 404, "not_found"},
		{"OIDC connection", "oidcorg", 404, "not_found"},
		{"connection does not build", "broken", 502, "connection_error"},
	} {
		resp, err := http.Get(p.app.URL + "/auth/sso/saml/" + url.PathEscape(tc.org) + "/metadata")
		if err != nil {
			t.Fatal(err)
		}
		var e api.Error
		if err := json.Unmarshal([]byte(readAll(resp)), &e); err != nil || resp.StatusCode != tc.status || e.Code != tc.code {
			t.Errorf("metadata, %s: %d %+v %v", tc.name, resp.StatusCode, e, err)
		}
	}
	for _, tc := range []struct {
		name, org string
		status    int
		code      string
	}{
		{"SSO through Clerk", "acme", 422, "no_connection"},
		{"OIDC connection", "oidcorg", 422, "no_connection"},
	} {
		_, err := p.admin.Organizations.SAMLServiceProvider(ctx, tc.org)
		var e *client.Error
		if !errors.As(err, &e) || e.Status != tc.status || e.Code != tc.code {
			t.Errorf("JSON, %s: %v", tc.name, err)
		}
	}
	// The JSON is an org admin's: anonymous callers are refused.
	anon := newClient(t, p.app.URL, "", nil)
	var e *client.Error
	if _, err := anon.Organizations.SAMLServiceProvider(ctx, "broken"); !errors.As(err, &e) || e.Status != 401 {
		t.Errorf("anonymous: %v", err)
	}
	// Without SPKey the app does not sign: no certificate is published.
	if sp, err := p.admin.Organizations.SAMLServiceProvider(ctx, "broken"); err != nil || sp.SigningCertificatePEM != "" || sp.ACSURL != broken.SAML.ACSURL {
		t.Errorf("unsigned: %+v %v", sp, err)
	}
}

// The IdP's response is a cross-site form POST in every real browser: the
// ACS takes it to the connector (which refuses this forged one for its own
// reason), it is not refused as cross-origin.
func TestCrossSiteACSReachesTheConnector(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	initechSAML(t, p, "")
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site", "Origin": "https://idp.okta.test"},
		{"Origin": "https://idp.okta.test"},
		{"Sec-Fetch-Site": "cross-site", "Origin": "null"},
	} {
		form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString([]byte("<samlp:Response/>"))}, "RelayState": {"x"}}
		req, _ := http.NewRequest("POST", p.app.URL+"/auth/sso/acs/initech", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e api.Error
		json.Unmarshal([]byte(readAll(resp)), &e)
		if resp.StatusCode != 401 || e.Code != "sso_failed" {
			t.Errorf("cross-site ACS POST %v: %d %+v, want the connector's 401 sso_failed", h, resp.StatusCode, e)
		}
	}
}

// The ACS takes a SAML response as large as the connector does
// (idp.MaxSAMLResponse decoded, posted in base64), not only as large as a
// JSON body: one of 300 KiB reaches the connector, which refuses this
// unsolicited one for that reason, not as too large; one over the
// connector's bound is still too large.
func TestACSTakesLargeSAMLResponses(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var reasons []string
	p := newPlaneWith(t, nil, func(c *controlplane.Config) {
		c.OnEvent = func(_ context.Context, e ssoevent.Event) {
			if e.Kind == ssoevent.SignIn {
				mu.Lock()
				reasons = append(reasons, e.Reason)
				mu.Unlock()
			}
		}
	})
	initechSAML(t, p, "")
	for _, c := range []struct {
		decoded int
		reason  string
	}{{300 << 10, "unsolicited"}, {idp.MaxSAMLResponse + 1<<10, "too_large"}} {
		doc := "<x>" + strings.Repeat("a", c.decoded-len("<x></x>")) + "</x>"
		form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString([]byte(doc))}, "RelayState": {"x"}}.Encode()
		resp, err := http.Post(p.app.URL+"/auth/sso/acs/initech", "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(resp)
		mu.Lock()
		got := slices.Clone(reasons)
		reasons = nil
		mu.Unlock()
		if resp.StatusCode != http.StatusUnauthorized || len(got) != 1 || got[0] != c.reason {
			t.Errorf("a %d-byte response (%d posted): %d %s, reasons %q, want 401 for %s", c.decoded, len(form), resp.StatusCode, body, got, c.reason)
		}
	}
}

// Every other state-changing route still refuses a cross-site browser
// request, for that reason: the same request sent same-origin is not
// refused as cross_origin.
func TestCrossOriginStillRefusedElsewhere(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	send := func(method, path string, h map[string]string) (int, string) {
		req, _ := http.NewRequest(method, p.app.URL+path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+adminKey)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e api.Error
		json.Unmarshal([]byte(readAll(resp)), &e)
		return resp.StatusCode, e.Code
	}
	crossSite := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://idp.okta.test"}
	sameOrigin := map[string]string{"Sec-Fetch-Site": "same-origin"}
	for _, r := range []struct{ method, path string }{
		{"POST", "/v1/auth/login"},
		{"POST", "/v1/auth/logout"},
		{"POST", "/webhooks/clerk"},
		{"POST", "/v1/organizations"},
		{"PUT", "/v1/organizations/acme/sso"},
		{"PATCH", "/v1/organizations/acme"},
		{"POST", "/v1/organizations/acme/sso/test"},
		{"PATCH", "/v1/organizations/acme/users/u1"},
		{"DELETE", "/v1/organizations/acme/users/u1"},
		{"POST", "/v1/organizations/acme/api-keys"},
		{"DELETE", "/v1/organizations/acme/api-keys/k1"},
		// Near the exempt routes, but not them.
		{"POST", "/auth/sso/oidc/acme"},
		{"PUT", "/auth/sso/acs/acme"},
		{"DELETE", "/auth/sso/acs/acme"},
		{"POST", "/auth/sso/acs/acme/more"},
		{"POST", "/auth/sso/acs/"},
		{"POST", "/auth/sso/saml/acme/metadata"},
	} {
		if status, code := send(r.method, r.path, crossSite); status != 403 || code != "cross_origin" {
			t.Errorf("cross-site %s %s: %d %s, want 403 cross_origin", r.method, r.path, status, code)
		}
		if status, code := send(r.method, r.path, sameOrigin); code == "cross_origin" {
			t.Errorf("same-origin %s %s: %d %s", r.method, r.path, status, code)
		}
	}
}
