package mockidp

import (
	"bytes"
	"compress/flate"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/ssokit/ssokit/sso"
)

func TestSAMLServiceProviderRegistration(t *testing.T) {
	t.Parallel()
	idp := Start(t, DefaultConfig())
	p := idp.Persona("okta")
	sp := newCrewjamSP(t, idp, "okta", nil) // registered by metadata XML
	if err := p.QueueUser("bob@acme.test"); err != nil {
		t.Fatal(err)
	}
	if status, body := sp.login(t, idp); status != 200 || !strings.Contains(body, "nameid=bob@acme.test") {
		t.Fatalf("registered SP: %d %s", status, body)
	}

	// Unregistered: refused with a page, no response is sent anywhere.
	if status, _ := adminCall(t, idp, "DELETE", "/admin/v1/personas/okta/service-providers/"+url.PathEscape(sp.entityID()), "", ""); status != 204 {
		t.Fatalf("delete SP: %d", status)
	}
	status, body := sp.login(t, idp)
	if status != 400 || strings.Contains(body, "SAMLResponse") {
		t.Fatalf("unregistered SP: %d %s", status, body)
	}

	// Registered again from its metadata URL, through the admin API.
	status, m := adminCall(t, idp, "PUT", "/admin/v1/personas/okta/service-providers/app",
		`{"metadata_url":"`+sp.srv.URL+`/saml/metadata","default_user":"carol@acme.test"}`, "")
	if status != 200 || m["entity_id"] != sp.entityID() {
		t.Fatalf("register by URL: %d %v", status, m)
	}
	// The service provider's default user signs in without a queue or page.
	if status, body := sp.login(t, idp); status != 200 || !strings.Contains(body, "nameid=carol@acme.test") {
		t.Fatalf("default user: %d %s", status, body)
	}

	for _, tc := range []struct{ body, code string }{
		{`{}`, "invalid_service_provider"},
		{`{"entity_id":"x"}`, "invalid_service_provider"},
		{`{"entity_id":"x","acs_url":"javascript:alert(1)"}`, "invalid_service_provider"},
		{`{"metadata_xml":"<not-metadata/>"}`, "invalid_service_provider"},
		{`{"metadata_xml":"<!DOCTYPE x [<!ENTITY a 'b'>]><EntityDescriptor/>"}`, "invalid_service_provider"},
		{`{"metadata_url":"http://127.0.0.1:1/none"}`, "invalid_service_provider"},
		{`{"entity_id":"x","acs_url":"https://x/acs","sign":"everything"}`, "invalid_service_provider"},
		{`{"id":"other","entity_id":"x","acs_url":"https://x/acs"}`, "id_mismatch"},
	} {
		status, m := adminCall(t, idp, "PUT", "/admin/v1/personas/okta/service-providers/app", tc.body, "")
		if status != 400 || m["error"] != tc.code {
			t.Errorf("%s: %d %v, want %s", tc.body, status, m, tc.code)
		}
	}

	// GET / lists the SAML endpoints and registrations.
	var l Listing
	resp, _ := idp.Client().Get(idp.URL + "/")
	json.NewDecoder(resp.Body).Decode(&l)
	resp.Body.Close()
	s := l.Personas[0].SAML
	if s.EntityID != p.SAMLEntityID() || s.MetadataURL != p.SAMLMetadataURL() || s.SSOURL != p.SAMLSSOURL() ||
		!strings.HasPrefix(s.EntityID, "http://www.okta.com/exk") || len(s.ServiceProviders) != 1 || s.IDPInitiatedURL == "" {
		t.Fatalf("SAML listing %+v", s)
	}
}

func TestSAMLTrustAnySP(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Personas[4].SAML.TrustAnySP = true // jumpcloud
	idp := Start(t, cfg)
	sp := newCrewjamSP(t, idp, "jumpcloud", nil)
	idp.Persona("jumpcloud").saml.unregister(sp.entityID())
	idp.Persona("jumpcloud").QueueUser("bob@globex.test")
	if status, body := sp.login(t, idp); status != 200 || !strings.Contains(body, "nameid=bob@globex.test") {
		t.Fatalf("trust_any_sp: %d %s", status, body)
	}
}

func TestSAMLIDPInitiated(t *testing.T) {
	t.Parallel()
	idp := Start(t, DefaultConfig())
	p := idp.Persona("onelogin")
	sp := newCrewjamSP(t, idp, "onelogin", func(o *samlsp.Options) { o.AllowIDPInitiated = true })
	p.QueueUser("alice@initech.test")
	jar, _ := cookiejar.New(nil)
	client := idp.Client()
	client.Jar = jar
	resp, err := client.Get(p.SAMLIDPInitiatedURL(sp.entityID(), "/app"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_, form := autoPost(string(body))
	raw, _ := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	if form.Get("RelayState") != "/app" || bytes.Contains(raw, []byte("InResponseTo")) {
		t.Fatalf("IdP-initiated form: relay %q, %s", form.Get("RelayState"), raw)
	}
	resp, err = client.PostForm(sp.acsURL(), form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "nameid=alice@initech.test") {
		t.Fatalf("IdP-initiated login: %d %s", resp.StatusCode, body)
	}
	// An unknown service provider is refused.
	resp, err = client.Get(p.SAMLIDPInitiatedURL("https://nobody.test/metadata", ""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("unknown SP: %d", resp.StatusCode)
	}
}

func TestSAMLEntraNameIDPolicy(t *testing.T) {
	t.Parallel()
	idp := Start(t, DefaultConfig())
	p := idp.Persona("azure")
	nameIDs := func(format saml.NameIDFormat) []string {
		sp := newCrewjamSP(t, idp, "azure", nil)
		sp.mw.ServiceProvider.AuthnNameIDFormat = format
		var out []string
		for range 2 {
			p.QueueUser("bob@contoso.test")
			status, body := sp.login(t, idp)
			m := regexp.MustCompile(`nameid=(\S+)`).FindStringSubmatch(body)
			if status != 200 || m == nil {
				t.Fatalf("%s: %d %s", format, status, body)
			}
			out = append(out, m[1])
		}
		return out
	}
	if ids := nameIDs(saml.TransientNameIDFormat); ids[0] == ids[1] {
		t.Errorf("transient NameID repeated: %v", ids)
	}
	if ids := nameIDs(saml.PersistentNameIDFormat); ids[0] != ids[1] || ids[0] == "bob@contoso.test" {
		t.Errorf("persistent NameID %v, want one stable opaque value", ids)
	}
	if ids := nameIDs(saml.EmailAddressNameIDFormat); ids[0] != "bob@contoso.test" {
		t.Errorf("emailAddress NameID %v", ids)
	}
}

func TestSAMLEncryptedAssertion(t *testing.T) {
	t.Parallel()
	idp := Start(t, DefaultConfig())
	p := idp.Persona("okta")
	sp := newCrewjamSP(t, idp, "okta", nil)
	md, _ := xml.Marshal(sp.mw.ServiceProvider.Metadata())
	if err := p.RegisterServiceProvider(ServiceProviderConfig{MetadataXML: string(md), EncryptAssertions: true}); err != nil {
		t.Fatal(err)
	}
	b64, err := p.SAMLResponse(sp.entityID(), "alice@acme.test", "id-request-1")
	if err != nil {
		t.Fatal(err)
	}
	raw := decodeB64(t, b64)
	if !bytes.Contains(raw, []byte("EncryptedAssertion")) || bytes.Contains(raw, []byte("alice@acme.test")) {
		t.Fatalf("assertion not encrypted: %s", raw)
	}
	as, err := sp.parse(b64, "id-request-1")
	if err != nil || as.Subject.NameID.Value != "alice@acme.test" {
		t.Fatalf("crewjam could not decrypt: %v", err)
	}
	// Without an encryption key in the metadata, asking for encryption is
	// an error, not a silently clear assertion.
	p.RegisterServiceProvider(ServiceProviderConfig{EntityID: "https://plain.test", ACSURL: "https://plain.test/acs", EncryptAssertions: true})
	if _, err := p.SAMLResponse("https://plain.test", "alice@acme.test", ""); err == nil {
		t.Fatal("encryption without a certificate succeeded")
	}
}

func TestSAMLLoginPageAndErrors(t *testing.T) {
	t.Parallel()
	idp := Start(t, DefaultConfig())
	sp := newCrewjamSP(t, idp, "google", nil)
	jar, _ := cookiejar.New(nil)
	client := idp.Client()
	client.Jar = jar
	client.CheckRedirect = nil
	resp, err := client.Get(sp.srv.URL + "/app")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `name="mockidp_login"`) || !strings.Contains(string(body), `method="get"`) {
		t.Fatalf("login page: %d %s", resp.StatusCode, body)
	}
	// The page's form, submitted as a person would, with an email.
	q := resp.Request.URL.Query()
	q.Set("mockidp_login", "1")
	q.Set("email", "dana@gmail.com")
	resp, err = client.Get(idp.Persona("google").SAMLSSOURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "SAMLResponse") {
		t.Fatalf("form login: %d %s", resp.StatusCode, body)
	}
	// Unknown user on the page: the page again, with the vendor's words.
	q.Set("email", "nobody@example-workspace.test")
	resp, _ = client.Get(idp.Persona("google").SAMLSSOURL() + "?" + q.Encode())
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 422 || !strings.Contains(string(body), "Google Account") {
		t.Fatalf("unknown user: %d", resp.StatusCode)
	}

	// Malformed requests get a 4xx page, never a 5xx.
	bomb := deflateB64(bytes.Repeat([]byte("A"), 4<<20))
	for name, u := range map[string]string{
		"no request":     idp.Persona("google").SAMLSSOURL(),
		"not base64":     idp.Persona("google").SAMLSSOURL() + "?SAMLRequest=%%%",
		"not deflate":    idp.Persona("google").SAMLSSOURL() + "?SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("plain"))),
		"not XML":        idp.Persona("google").SAMLSSOURL() + "?SAMLRequest=" + url.QueryEscape(deflateB64([]byte("{json}"))),
		"deflate bomb":   idp.Persona("google").SAMLSSOURL() + "?SAMLRequest=" + url.QueryEscape(bomb),
		"doctype":        idp.Persona("google").SAMLSSOURL() + "?SAMLRequest=" + url.QueryEscape(deflateB64([]byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&e;</samlp:AuthnRequest>`))),
		"unknown issuer": idp.Persona("google").SAMLSSOURL() + "?SAMLRequest=" + url.QueryEscape(deflateB64([]byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="id1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>https://nobody.test</saml:Issuer></samlp:AuthnRequest>`))),
	} {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 4 {
			t.Errorf("%s: status %d, want 4xx", name, resp.StatusCode)
		}
	}
}

func deflateB64(b []byte) string {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(b)
	w.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestSAMLMetadata(t *testing.T) {
	t.Parallel()
	idp := Start(t, DefaultConfig())
	for _, p := range idp.Personas() {
		resp, err := idp.Client().Get(p.SAMLMetadataURL())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		md, err := samlsp.ParseMetadata(body)
		if err != nil || md.EntityID != p.SAMLEntityID() || len(md.IDPSSODescriptors) != 1 {
			t.Fatalf("%s metadata: %v", p.Name(), err)
		}
		d := md.IDPSSODescriptors[0]
		if len(d.SingleSignOnServices) < 2 || len(d.KeyDescriptors) == 0 {
			t.Errorf("%s: SSO services %v", p.Name(), d.SingleSignOnServices)
		}
		if hasSLO := len(d.SingleLogoutServices) > 0; hasSLO == (p.Vendor() == sso.GoogleWorkspace) {
			t.Errorf("%s: logout advertised %v", p.Name(), hasSLO)
		}
		if p.Vendor() == sso.AzureAD && !bytes.Contains(body, []byte("SignatureValue")) {
			t.Errorf("Azure metadata is not signed")
		}
	}
}

func TestSAMLSingleLogout(t *testing.T) {
	t.Parallel()
	idp := Start(t, DefaultConfig())
	// A signed LogoutRequest; the SP's metadata then carries its signing key.
	sp := newCrewjamSP(t, idp, "okta", func(o *samlsp.Options) { o.SignRequest = true })
	sprov := &sp.mw.ServiceProvider
	req, err := sprov.MakeLogoutRequest(sprov.GetSLOBindingLocation(saml.HTTPRedirectBinding), "alice@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	u, err := sprov.RedirectLogoutRequestURL(req, "id-session-1")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noRedirect(idp).Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The LogoutResponse comes back as an HTTP-POST form to the SP's SLO.
	action, form := autoPost(string(body))
	if resp.StatusCode != 200 || action == "" || form.Get("SAMLResponse") == "" {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	back := httptest.NewRequest("POST", action, strings.NewReader(form.Encode()))
	back.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := sprov.ParseLogoutResponse(back, []string{req.ID}); err != nil {
		t.Fatalf("the SP refused the logout response: %v", err)
	}
	// It answers that request only: not another one, not an unsolicited one.
	back = httptest.NewRequest("POST", action, strings.NewReader(form.Encode()))
	back.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := sprov.ParseLogoutResponse(back, []string{"id-other"}); err == nil {
		t.Fatal("the logout response was accepted for another request")
	}
}

func TestSAMLConcurrentResponses(t *testing.T) {
	t.Parallel()
	idp := Start(t, DefaultConfig())
	p := idp.Persona("azure")
	sp := newCrewjamSP(t, idp, "azure", nil)
	errs := make(chan error, 200)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			id := fmt.Sprintf("id-request-%d", i)
			b64, err := p.SAMLResponse(sp.entityID(), "bob@contoso.test", id)
			if err == nil {
				_, err = sp.parse(b64, id)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestSAMLServiceProviderOptions(t *testing.T) {
	t.Parallel()
	idp := Start(t, DefaultConfig())
	p := idp.Persona("jumpcloud")

	// HTTP-POST binding for the AuthnRequest, and a service provider that
	// signs its requests.
	sp := newCrewjamSP(t, idp, "jumpcloud", func(o *samlsp.Options) {
		o.Binding = saml.HTTPPostBinding
		o.SignRequest = true
	})
	p.QueueUser("bob@globex.test")
	if status, body := sp.login(t, idp); status != 200 || !strings.Contains(body, "nameid=bob@globex.test") {
		t.Fatalf("POST binding: %d %s", status, body)
	}

	// Its metadata says AuthnRequestsSigned: an unsigned request is refused.
	unsigned := `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="id-unsigned" Version="2.0" IssueInstant="` +
		samlTime(p.now()) + `" AssertionConsumerServiceURL="` + sp.acsURL() + `"><saml:Issuer>` + sp.entityID() + `</saml:Issuer></samlp:AuthnRequest>`
	resp, err := noRedirect(idp).Get(p.SAMLSSOURL() + "?SAMLRequest=" + url.QueryEscape(deflateB64([]byte(unsigned))))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || strings.Contains(string(body), "SAMLResponse") {
		t.Fatalf("unsigned request: %d %s", resp.StatusCode, body)
	}

	// An ACS URL that is not in the metadata is refused.
	other := strings.Replace(unsigned, sp.acsURL(), "https://evil.example/acs", 1)
	sp2 := newCrewjamSP(t, idp, "jumpcloud", nil) // does not sign its requests
	other = strings.Replace(other, sp.entityID(), sp2.entityID(), 1)
	resp, err = noRedirect(idp).Get(p.SAMLSSOURL() + "?SAMLRequest=" + url.QueryEscape(deflateB64([]byte(other))))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "evil.example") || resp.StatusCode/100 != 4 {
		t.Fatalf("foreign ACS: %d %s", resp.StatusCode, body)
	}

	// Per service provider: SHA-1 signatures, response-only signing, and
	// its own attribute names.
	if err := p.RegisterServiceProvider(ServiceProviderConfig{EntityID: "https://sha1.test", ACSURL: "https://sha1.test/acs",
		SignatureAlgorithm: "rsa-sha1", Sign: "response", Attributes: map[string]string{"email": "mail"}}); err != nil {
		t.Fatal(err)
	}
	raw := string(decodeB64(t, mustSAML(t, p, "https://sha1.test")))
	if !strings.Contains(raw, "xmldsig#rsa-sha1") || strings.Count(raw, "SignatureValue>") != 2 || !strings.Contains(raw, `Name="mail"`) {
		t.Fatalf("per-SP options not applied: %s", raw)
	}
	sig := strings.Index(raw, "Signature")
	if as := strings.Index(raw, "Assertion"); sig > as {
		t.Fatalf("response-only signing signed the assertion")
	}
}

func mustSAML(t *testing.T, p *Persona, sp string) string {
	t.Helper()
	b64, err := p.SAMLResponse(sp, p.Users()[0].Email, "")
	if err != nil {
		t.Fatal(err)
	}
	return b64
}

// TestSAMLIsPassive: an IsPassive AuthnRequest gets no page (SAML Core
// 3.4.1): with nobody signed in the answer is a Response with Responder
// and NoPassive, posted to the ACS; with a queued user (an IdP session) it
// is an assertion.
func TestSAMLIsPassive(t *testing.T) {
	t.Parallel()
	idp := Start(t, DefaultConfig())
	sp := newCrewjamSP(t, idp, "okta", nil)
	passive := func() string {
		t.Helper()
		req, err := sp.mw.ServiceProvider.MakeAuthenticationRequest(idp.Persona("okta").SAMLSSOURL(), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
		if err != nil {
			t.Fatal(err)
		}
		yes := true
		req.IsPassive = &yes
		u, err := req.Redirect("rs", &sp.mw.ServiceProvider)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := noRedirect(idp).Get(u.String())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		m := regexp.MustCompile(`name="SAMLResponse" value="([^"]+)"`).FindSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil || strings.Contains(string(body), `name="mockidp_login"`) {
			t.Fatalf("IsPassive: %d, a login page or no response: %.300s", resp.StatusCode, body)
		}
		raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(string(m[1])))
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	if r := passive(); !strings.Contains(r, saml.StatusResponder) || !strings.Contains(r, saml.StatusNoPassive) || strings.Contains(r, "Assertion") {
		t.Errorf("nobody signed in: %.500s", r)
	}
	if err := idp.Persona("okta").QueueUser("alice@acme.test"); err != nil {
		t.Fatal(err)
	}
	if r := passive(); !strings.Contains(r, saml.StatusSuccess) || !strings.Contains(r, "alice@acme.test") {
		t.Errorf("signed in: %.500s", r)
	}
}

// The vendors' IdP metadata carries one KeyDescriptor, for signing (Okta's
// app metadata, Entra's federation metadata, Google's and OneLogin's): no
// encryption key that a service provider could encrypt a LogoutRequest's
// NameID to. Entra's stays signed, with a signature that verifies.
func TestSAMLMetadataSigningKeyOnly(t *testing.T) {
	t.Parallel()
	idp := Start(t, DefaultConfig())
	for _, p := range idp.Personas() {
		resp, err := idp.Client().Get(p.SAMLMetadataURL())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		md, err := samlsp.ParseMetadata(body)
		if err != nil {
			t.Fatalf("%s: %v", p.Name(), err)
		}
		kds := md.IDPSSODescriptors[0].KeyDescriptors
		if len(kds) != 1 || kds[0].Use != "signing" {
			t.Errorf("%s: key descriptors %+v, want one for signing", p.Name(), kds)
		}
		if p.Vendor() != sso.AzureAD {
			continue
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(body); err != nil {
			t.Fatal(err)
		}
		if first := doc.Root().ChildElements()[0]; first.Tag != "Signature" {
			t.Errorf("Azure metadata: first child %s, want Signature", first.Tag)
		}
		if id := doc.Root().SelectAttrValue("ID", ""); !strings.HasPrefix(id, "_") {
			t.Errorf("Azure metadata ID %q, want _ and a GUID", id)
		}
		cert, err := p.SAMLCertificate()
		if err != nil {
			t.Fatal(err)
		}
		vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
		if _, err := vc.Validate(doc.Root()); err != nil {
			t.Errorf("Azure metadata signature: %v", err)
		}
	}
}
