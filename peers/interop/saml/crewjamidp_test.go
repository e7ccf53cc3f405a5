package saml_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/sso"
)

// These tests put ssokit's SAML service provider (package idp) in front
// of crewjam/saml's IdentityProvider: an identity provider written
// independently of ssokit's mock, answering ssokit's own AuthnRequests
// with fresh responses. What crewjam v0.6.3 emits (identity_provider.go):
// the Assertion signed, then the Response signed around it, both
// enveloped, RSA-SHA256 with SHA-256 digests and exclusive c14n; the
// signed Assertion encrypted when the service provider's metadata has an
// encryption certificate (RSA-OAEP-MGF1P with a SHA-1 digest for the key,
// and the first block cipher the metadata lists: ssokit lists AES-256-GCM
// first); the person's attributes under the eduPerson and X.500 OIDs
// (mail, givenName, sn, cn, uid, eduPersonAffiliation for the groups,
// subject-id), plus any attributes the IdP's administrator adds.

// crewjamStateKey signs ssokit's state cookies in these tests.
var crewjamStateKey = []byte("crewjam-interop-state-key-32-bytes!")

// The algorithms crewjam signs and encrypts with, by their XML names.
const (
	rsaSHA256    = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	sha256Digest = "http://www.w3.org/2001/04/xmlenc#sha256"
	aes256GCM    = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
	rsaOAEPMGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
)

// keyPair is an RSA key and its self-signed certificate.
type keyPair struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

// crewjamKeys are made once per run (RSA key generation is the slow
// part): the IdP's key, which its metadata publishes; a key it does not
// publish; the service provider's key; and the certificate the SP had
// before it rotated to that key.
var crewjamKeys = sync.OnceValues(func() (map[string]keyPair, error) {
	keys := map[string]keyPair{}
	for _, name := range []string{"idp", "unpublished", "sp", "previous-sp"} {
		kp, err := newKeyPair(name)
		if err != nil {
			return nil, err
		}
		keys[name] = kp
	}
	return keys, nil
})

func newKeyPair(name string) (keyPair, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return keyPair{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return keyPair{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name + ".crewjam.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return keyPair{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{key: key, cert: cert}, nil
}

func testKey(t testing.TB, name string) keyPair {
	t.Helper()
	keys, err := crewjamKeys()
	if err != nil {
		t.Fatal(err)
	}
	kp, ok := keys[name]
	if !ok {
		t.Fatalf("no test key %q", name)
	}
	return kp
}

// crewjamIdP is crewjam/saml's IdentityProvider on a loopback TLS server:
// GET /metadata publishes it, /sso answers AuthnRequests, and
// GET /unsolicited?sp=ENTITY&RelayState=R starts an IdP-initiated login.
// published is the IdP its metadata describes, answering the one that
// answers the browser; they are the same unless a test sets them apart.
type crewjamIdP struct {
	srv                  *httptest.Server
	published, answering *crewjam.IdentityProvider
	sps                  *spRegistry
	people               *signedIn
}

// startCrewjamIdP starts an IdP whose SessionProvider signs everyone in
// with session; answer, when not nil, changes the answering IdP (base is
// the server's URL) before the server starts.
func startCrewjamIdP(t testing.TB, session func(*crewjam.IdpAuthnRequest) *crewjam.Session, answer func(base string, answering *crewjam.IdentityProvider)) *crewjamIdP {
	t.Helper()
	kp := testKey(t, "idp")
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	base := "https://" + srv.Listener.Addr().String()
	c := &crewjamIdP{srv: srv, sps: &spRegistry{byID: map[string]*crewjam.EntityDescriptor{}}, people: &signedIn{session: session}}
	c.published = &crewjam.IdentityProvider{
		Key: kp.key, Certificate: kp.cert,
		MetadataURL: parseURL(t, base+"/metadata"), SSOURL: parseURL(t, base+"/sso"),
		ServiceProviderProvider: c.sps, SessionProvider: c.people,
		Logger: log.New(io.Discard, "", 0),
		// What the IdP could not do reaches the test as the page the
		// browser got.
		OnError: func(w http.ResponseWriter, _ *http.Request, status int, err error) {
			http.Error(w, err.Error(), status)
		},
	}
	answers := *c.published
	if answer != nil {
		answer(base, &answers)
	}
	c.answering = &answers
	mux.HandleFunc("GET /metadata", c.published.ServeMetadata)
	mux.HandleFunc("/sso", c.answering.ServeSSO)
	mux.HandleFunc("GET /unsolicited", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		c.answering.ServeIDPInitiated(w, r, q.Get("sp"), q.Get("RelayState"))
	})
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return c
}

func parseURL(t testing.TB, s string) url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return *u
}

// signedIn is the IdP's SessionProvider: the person is always signed in,
// with the Session session makes for the request. It records whether
// each request asked for ForceAuthn.
type signedIn struct {
	session func(*crewjam.IdpAuthnRequest) *crewjam.Session

	mu     sync.Mutex
	forced []bool
}

// GetSession implements crewjam.SessionProvider.
func (s *signedIn) GetSession(_ http.ResponseWriter, _ *http.Request, req *crewjam.IdpAuthnRequest) *crewjam.Session {
	s.mu.Lock()
	s.forced = append(s.forced, req.Request.ForceAuthn != nil && *req.Request.ForceAuthn)
	s.mu.Unlock()
	return s.session(req)
}

func (s *signedIn) forceAuthn() []bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bool(nil), s.forced...)
}

// spRegistry is the IdP's ServiceProviderProvider: the SP metadata its
// administrator uploaded, by the entity ID it was registered under.
type spRegistry struct {
	mu   sync.Mutex
	byID map[string]*crewjam.EntityDescriptor
}

// GetServiceProvider implements crewjam.ServiceProviderProvider.
func (s *spRegistry) GetServiceProvider(_ *http.Request, id string) (*crewjam.EntityDescriptor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	md, ok := s.byID[id]
	if !ok {
		return nil, os.ErrNotExist
	}
	return md, nil
}

func (s *spRegistry) add(id string, md *crewjam.EntityDescriptor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[id] = md
}

// assertionMakerFunc adapts a function to crewjam.AssertionMaker.
type assertionMakerFunc func(*crewjam.IdpAuthnRequest, *crewjam.Session) error

// MakeAssertion implements crewjam.AssertionMaker.
func (f assertionMakerFunc) MakeAssertion(req *crewjam.IdpAuthnRequest, s *crewjam.Session) error {
	return f(req, s)
}

// ada is the person signed in at the IdP, with every attribute crewjam's
// DefaultAssertionMaker knows, authenticated a minute before the request.
// One of her groups has a semicolon in its name.
func ada(req *crewjam.IdpAuthnRequest) *crewjam.Session {
	return &crewjam.Session{
		ID: "session-ada", CreateTime: req.Now.Add(-time.Minute), ExpireTime: req.Now.Add(8 * time.Hour), Index: "index-ada-1",
		NameID: "ada@crewjam.test", NameIDFormat: string(crewjam.EmailAddressNameIDFormat),
		SubjectID: "8a1f0c@crewjam.test",
		UserName:  "ada", UserEmail: "ada@crewjam.test", UserCommonName: "Ada Lovelace", UserGivenName: "Ada", UserSurname: "Lovelace",
		Groups: []string{"engineering", "Book club; admins"},
	}
}

// adaOkta is ada as an Okta-minded administrator sets her up: a
// persistent NameID, and the attributes Okta's profile reads added by
// name (crewjam's CustomAttributes).
func adaOkta(req *crewjam.IdpAuthnRequest) *crewjam.Session {
	attr := func(name string, values ...string) crewjam.Attribute {
		a := crewjam.Attribute{Name: name, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"}
		for _, v := range values {
			a.Values = append(a.Values, crewjam.AttributeValue{Type: "xs:string", Value: v})
		}
		return a
	}
	return &crewjam.Session{
		ID: "session-ada-okta", CreateTime: req.Now.Add(-time.Minute), ExpireTime: req.Now.Add(8 * time.Hour), Index: "index-ada-2",
		NameID: "00u1ada4f7a1c", NameIDFormat: string(crewjam.PersistentNameIDFormat),
		UserEmail: "ada@crewjam.test",
		CustomAttributes: []crewjam.Attribute{attr("email", "ada@crewjam.test"), attr("firstName", "Ada"),
			attr("lastName", "Lovelace"), attr("groups", "Everyone", "engineering")},
	}
}

// genericAttributes points ssokit's generic profile at the standard
// names crewjam sends: subject-id (SAML V2.0 Subject Identifier
// Attributes), and the mail, givenName, sn and eduPersonAffiliation OIDs.
var genericAttributes = map[string]string{
	"subject":    "urn:oasis:names:tc:SAML:attribute:subject-id",
	"email":      "urn:oid:0.9.2342.19200300.100.1.3",
	"first_name": "urn:oid:2.5.4.42",
	"last_name":  "urn:oid:2.5.4.4",
	"groups":     "urn:oid:1.3.6.1.4.1.5923.1.1.1.1",
}

// wantAda is the Identity of ada through a generic connection.
func wantAda(connID string) idp.Identity {
	return idp.Identity{
		Subject: "8a1f0c@crewjam.test", Email: "ada@crewjam.test", EmailVerified: true, FirstName: "Ada", LastName: "Lovelace",
		Groups: []string{"engineering", "Book club; admins"}, IdP: sso.Generic, ConnectionID: connID, Protocol: sso.SAML,
		NameID: "ada@crewjam.test", NameIDFormat: string(crewjam.EmailAddressNameIDFormat), SessionIndex: "index-ada-1",
		Raw: map[string]any{
			"urn:oid:0.9.2342.19200300.100.1.1":            []string{"ada"},
			"urn:oid:0.9.2342.19200300.100.1.3":            []string{"ada@crewjam.test"},
			"urn:oid:1.3.6.1.4.1.5923.1.1.1.6":             []string{"ada@crewjam.test"},
			"urn:oid:2.5.4.4":                              []string{"Lovelace"},
			"urn:oid:2.5.4.42":                             []string{"Ada"},
			"urn:oid:2.5.4.3":                              []string{"Ada Lovelace"},
			"urn:oid:1.3.6.1.4.1.5923.1.1.1.1":             []string{"engineering", "Book club; admins"},
			"urn:oasis:names:tc:SAML:attribute:subject-id": []string{"8a1f0c@crewjam.test"},
		},
	}
}

// spConfig is one of ssokit's SAML connections to the crewjam IdP.
type spConfig struct {
	id                string
	vendor            sso.Vendor
	attributes        map[string]string
	allowIDPInitiated bool
	// keys gives the connection Options.SPKey and SPCertificate: its
	// AuthnRequests are signed and its metadata publishes the
	// certificate for encryption too.
	keys bool
}

func generic(id string) spConfig {
	return spConfig{id: id, vendor: sso.Generic, attributes: genericAttributes}
}

func spEntityID(id string) string { return "https://app.test/saml/" + id + "/metadata" }
func spACSURL(id string) string   { return "https://app.test/saml/" + id + "/acs" }

// connect builds ssokit's connection from the IdP's metadata URL, and
// returns it with its SP metadata as the IdP's administrator downloads it.
func (c *crewjamIdP) connect(t testing.TB, sp spConfig) (idp.Connector, *crewjam.EntityDescriptor) {
	t.Helper()
	opts := idp.Options{HTTPClient: c.srv.Client(), InsecureAllowLoopback: true, StateKey: crewjamStateKey}
	if sp.keys {
		kp := testKey(t, "sp")
		opts.SPKey, opts.SPCertificate = kp.key, kp.cert
	}
	conn, err := idp.New(t.Context(), idp.Connection{ID: sp.id, Protocol: sso.SAML, Vendor: sp.vendor, Attributes: sp.attributes,
		SAML: &idp.SAMLSettings{IDPMetadataURL: c.srv.URL + "/metadata", EntityID: spEntityID(sp.id), ACSURL: spACSURL(sp.id),
			AllowIDPInitiated: sp.allowIDPInitiated}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := conn.(interface{ Metadata() ([]byte, error) }).Metadata()
	if err != nil {
		t.Fatal(err)
	}
	var md crewjam.EntityDescriptor
	if err := xml.Unmarshal(raw, &md); err != nil {
		t.Fatalf("ssokit's SP metadata: %v\n%s", err, raw)
	}
	return conn, &md
}

// register is connect, with the SP metadata uploaded to the IdP as it is.
func (c *crewjamIdP) register(t testing.TB, sp spConfig) idp.Connector {
	t.Helper()
	conn, md := c.connect(t, sp)
	c.sps.add(md.EntityID, md)
	return conn
}

// appURL is where the browser keeps the app's cookies.
var appURL = &url.URL{Scheme: "https", Host: "app.test", Path: "/"}

// browser is a person's browser without JavaScript: the app's cookies,
// and a client for the IdP that follows no redirects.
type browser struct {
	t   testing.TB
	idp *http.Client
	jar *cookiejar.Jar
}

func newBrowser(t testing.TB, c *crewjamIdP) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := *c.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, idp: &client, jar: jar}
}

// start runs conn.Start and returns where it redirects the browser.
func (b *browser) start(conn idp.Connector, returnTo string) *url.URL {
	b.t.Helper()
	rec := httptest.NewRecorder()
	if err := conn.Start(rec, httptest.NewRequest(http.MethodGet, "https://app.test/login", nil), returnTo, ""); err != nil {
		b.t.Fatal(err)
	}
	return b.redirected(rec)
}

// redirected keeps the cookies of an answer of the app and returns the
// redirect it holds.
func (b *browser) redirected(rec *httptest.ResponseRecorder) *url.URL {
	b.t.Helper()
	res := rec.Result()
	b.jar.SetCookies(appURL, res.Cookies())
	if res.StatusCode != http.StatusFound {
		b.t.Fatalf("the app answered %d, want a redirect", res.StatusCode)
	}
	u, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// acsPost is what the IdP's auto-submitting form posts.
type acsPost struct {
	action, response, relayState string
}

// visit GETs a page of the IdP and returns the form it auto-submits.
func (b *browser) visit(u string) acsPost {
	b.t.Helper()
	resp, err := b.idp.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		b.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("the IdP answered %d: %s", resp.StatusCode, body)
	}
	f, err := parseForm(body)
	if err != nil {
		b.t.Fatalf("the IdP's page: %v\n%s", err, body)
	}
	return f
}

// parseForm reads crewjam's auto-submitting form, which is well-formed
// XHTML: its action and its SAMLResponse and RelayState fields.
func parseForm(body []byte) (acsPost, error) {
	var f acsPost
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return f, err
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := func(name string) string {
			for _, a := range el.Attr {
				if a.Name.Local == name {
					return a.Value
				}
			}
			return ""
		}
		switch el.Name.Local {
		case "form":
			f.action = attr("action")
		case "input":
			switch attr("name") {
			case "SAMLResponse":
				f.response = attr("value")
			case "RelayState":
				f.relayState = attr("value")
			}
		}
	}
	if f.action == "" || f.response == "" {
		return f, errors.New("no form posting a SAMLResponse")
	}
	return f, nil
}

// finished is what the connection's Finish answered.
type finished struct {
	id       *idp.Identity
	returnTo string
	err      error
	rec      *httptest.ResponseRecorder
}

// finish posts f to its action with cookies (the browser's own when nil),
// as conn.Finish receives it, and keeps the cookies Finish set.
func (b *browser) finish(conn idp.Connector, f acsPost, cookies []*http.Cookie) finished {
	b.t.Helper()
	form := url.Values{"SAMLResponse": {f.response}, "RelayState": {f.relayState}}
	req := httptest.NewRequest(http.MethodPost, f.action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookies == nil {
		cookies = b.jar.Cookies(req.URL)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	id, returnTo, err := conn.Finish(rec, req)
	b.jar.SetCookies(appURL, rec.Result().Cookies())
	return finished{id: id, returnTo: returnTo, err: err, rec: rec}
}

// signIn runs an SP-initiated login to "/dashboard": Start, the IdP, the
// ACS POST with the browser's cookies.
func (b *browser) signIn(conn idp.Connector) (acsPost, finished) {
	b.t.Helper()
	f := b.visit(b.start(conn, "/dashboard").String())
	return f, b.finish(conn, f, nil)
}

func decodeResponse(t testing.TB, f acsPost) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(f.response)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// algorithm is the Algorithm attribute of the element at path in doc, or
// "" when there is no such element.
func algorithm(doc *etree.Document, path string) string {
	if el := doc.FindElement(path); el != nil {
		return el.SelectAttrValue("Algorithm", "")
	}
	return ""
}

// TestCrewjamIdPSignsIn: crewjam/saml's IdentityProvider answers
// ssokit's AuthnRequest (over HTTP-Redirect, signed when the connection
// has an SP key) and ssokit's connection reads the response to the exact
// Identity: in the clear through the generic profile reading the
// standard attribute names, and encrypted to the certificate ssokit's SP
// metadata publishes (RSA-OAEP and AES-256-GCM) through the Okta profile
// reading attributes the IdP's administrator named.
func TestCrewjamIdPSignsIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		sp        spConfig
		session   func(*crewjam.IdpAuthnRequest) *crewjam.Session
		encrypted bool
		want      idp.Identity
	}{
		{name: "generic in the clear", sp: generic("generic"), session: ada, want: wantAda("generic")},
		{name: "okta encrypted", sp: spConfig{id: "okta", vendor: sso.Okta, keys: true}, session: adaOkta, encrypted: true,
			want: idp.Identity{
				Subject: "00u1ada4f7a1c", Email: "ada@crewjam.test", EmailVerified: true, FirstName: "Ada", LastName: "Lovelace",
				Groups: []string{"Everyone", "engineering"}, IdP: sso.Okta, ConnectionID: "okta", Protocol: sso.SAML,
				NameID: "00u1ada4f7a1c", NameIDFormat: string(crewjam.PersistentNameIDFormat), SessionIndex: "index-ada-2",
				Raw: map[string]any{
					"urn:oid:0.9.2342.19200300.100.1.3": []string{"ada@crewjam.test"},
					"urn:oid:1.3.6.1.4.1.5923.1.1.1.6":  []string{"ada@crewjam.test"},
					"email":                             []string{"ada@crewjam.test"},
					"firstName":                         []string{"Ada"},
					"lastName":                          []string{"Lovelace"},
					"groups":                            []string{"Everyone", "engineering"},
				},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := startCrewjamIdP(t, tc.session, nil)
			conn := c.register(t, tc.sp)
			b := newBrowser(t, c)
			redirect := b.start(conn, "/dashboard")
			q := redirect.Query()
			if signed := q.Get("Signature") != ""; signed != tc.sp.keys || (signed && q.Get("SigAlg") != rsaSHA256) {
				t.Errorf("AuthnRequest signature %q (SigAlg %q); want one (RSA-SHA256) only with an SP key", q.Get("Signature"), q.Get("SigAlg"))
			}
			f := b.visit(redirect.String())
			if f.action != spACSURL(tc.sp.id) || f.relayState != q.Get("RelayState") {
				t.Errorf("the IdP posts to %q with RelayState %q, want %q and %q", f.action, f.relayState, spACSURL(tc.sp.id), q.Get("RelayState"))
			}

			// What crewjam sent: both signed with RSA-SHA256, the
			// assertion encrypted when ssokit's metadata asked for it.
			raw := decodeResponse(t, f)
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(raw); err != nil {
				t.Fatal(err)
			}
			got := []string{
				algorithm(doc, "/Response/Signature/SignedInfo/SignatureMethod"),
				algorithm(doc, "/Response/Signature/SignedInfo/Reference/DigestMethod"),
			}
			want := []string{rsaSHA256, sha256Digest}
			if tc.encrypted {
				got = append(got, algorithm(doc, "/Response/EncryptedAssertion/EncryptedData/EncryptionMethod"),
					algorithm(doc, "/Response/EncryptedAssertion/EncryptedData/KeyInfo/EncryptedKey/EncryptionMethod"))
				want = append(want, aes256GCM, rsaOAEPMGF1P)
			} else {
				got = append(got, algorithm(doc, "/Response/Assertion/Signature/SignedInfo/SignatureMethod"))
				want = append(want, rsaSHA256)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("response algorithms %q, want %q", got, want)
			}
			// The issuer is the entity ID of the metadata ssokit read
			// (the Identity does not carry it: the connection stands
			// for the IdP); the refusals below send another.
			if iss := doc.FindElement("/Response/Issuer"); iss == nil || iss.Text() != c.srv.URL+"/metadata" {
				t.Errorf("the Response's Issuer is not the metadata's entity ID %s", c.srv.URL+"/metadata")
			}
			if inClear := bytes.Contains(raw, []byte(tc.want.Email)); inClear == tc.encrypted {
				t.Errorf("the email in the clear: %v, want %v\n%s", inClear, !tc.encrypted, raw)
			}

			r := b.finish(conn, f, nil)
			if r.err != nil {
				t.Fatalf("ssokit refused crewjam's response: %v\n%s", r.err, raw)
			}
			if r.returnTo != "/dashboard" {
				t.Errorf("return to %q, want /dashboard", r.returnTo)
			}
			if !reflect.DeepEqual(*r.id, tc.want) {
				t.Errorf("identity\n got %#v\nwant %#v", *r.id, tc.want)
			}
		})
	}
}

// TestCrewjamIdPInitiated: crewjam's IdP-initiated login
// (ServeIDPInitiated: an unsolicited Response, no InResponseTo, posted
// to the SP's default ACS) signs in only through a connection that
// allows it, returning to the RelayState's local path; the same response
// again is a replay.
func TestCrewjamIdPInitiated(t *testing.T) {
	t.Parallel()
	c := startCrewjamIdP(t, ada, nil)
	sp := generic("initiated")
	sp.allowIDPInitiated = true
	conn := c.register(t, sp)
	b := newBrowser(t, c)
	f := b.visit(c.srv.URL + "/unsolicited?" + url.Values{"sp": {spEntityID(sp.id)}, "RelayState": {"/reports"}}.Encode())
	if raw := decodeResponse(t, f); bytes.Contains(raw, []byte("InResponseTo")) {
		t.Fatalf("crewjam's IdP-initiated response answers a request:\n%s", raw)
	}
	r := b.finish(conn, f, nil)
	if r.err != nil {
		t.Fatalf("refused: %v", r.err)
	}
	if want := wantAda(sp.id); !reflect.DeepEqual(*r.id, want) || r.returnTo != "/reports" {
		t.Errorf("identity %#v, return to %q\nwant %#v, /reports", *r.id, r.returnTo, want)
	}
	wantRefusal(t, b.finish(conn, f, nil).err, idp.ErrReplayed, idp.ReasonReplay, true)
}

// TestCrewjamIdPForceAuthn: when the IdP's session is older than
// SAMLLimits.MaxAuthnAge, ssokit sends the browser back with
// ForceAuthn="true", and crewjam's SessionProvider, authenticating the
// person again as saml-core 3.4.1 asks, completes the sign-in.
func TestCrewjamIdPForceAuthn(t *testing.T) {
	t.Parallel()
	c := startCrewjamIdP(t, func(req *crewjam.IdpAuthnRequest) *crewjam.Session {
		s := ada(req)
		if req.Request.ForceAuthn == nil || !*req.Request.ForceAuthn {
			s.CreateTime = req.Now.Add(-13 * time.Hour) // signed in yesterday
		}
		return s
	}, nil)
	conn := c.register(t, generic("force"))
	b := newBrowser(t, c)
	_, r := b.signIn(conn)
	if !errors.Is(r.err, idp.ErrReauthenticate) || idp.ReasonOf(r.err) != idp.ReasonAuthnTooOld {
		t.Fatalf("a 13-hour-old AuthnInstant: %v, want ErrReauthenticate (%s)", r.err, idp.ReasonAuthnTooOld)
	}
	r = b.finish(conn, b.visit(b.redirected(r.rec).String()), nil)
	if r.err != nil {
		t.Fatalf("the re-authenticated login was refused: %v", r.err)
	}
	if want := wantAda("force"); !reflect.DeepEqual(*r.id, want) || r.returnTo != "/dashboard" {
		t.Errorf("identity %#v, return to %q\nwant %#v, /dashboard", *r.id, r.returnTo, want)
	}
	if got := c.people.forceAuthn(); !reflect.DeepEqual(got, []bool{false, true}) {
		t.Errorf("ForceAuthn of the AuthnRequests: %v, want [false true]", got)
	}
}

// TestCrewjamIdPRefused: responses crewjam's IdP sends when it, or the
// way it is reached, is set up wrong, each refused by ssokit for its own
// reason (the LoginError's sentinel, Reason and Vouched).
func TestCrewjamIdPRefused(t *testing.T) {
	t.Parallel()
	// otherEntity is an entity ID of the same IdP server that its
	// metadata does not name: another tenant of one vendor, which signs
	// with the same key (Entra ID signs every tenant's tokens with the
	// same keys), so that only the issuer tells them apart.
	otherEntity := func(base string) string { return base + "/tenants/other/metadata" }
	tests := []struct {
		name     string
		run      func(t *testing.T) error
		sentinel error
		reason   string
		vouched  bool
	}{
		{"signed with a key its metadata does not publish", func(t *testing.T) error {
			c := startCrewjamIdP(t, ada, func(_ string, answering *crewjam.IdentityProvider) {
				kp := testKey(t, "unpublished")
				answering.Key, answering.Certificate = kp.key, kp.cert
			})
			_, r := newBrowser(t, c).signIn(c.register(t, generic("a")))
			return r.err
		}, idp.ErrInvalidResponse, idp.ReasonUntrustedCert, false},

		{"issued as another entity with the published key", func(t *testing.T) error {
			c := startCrewjamIdP(t, ada, func(base string, answering *crewjam.IdentityProvider) {
				answering.MetadataURL = parseURL(t, otherEntity(base))
			})
			_, r := newBrowser(t, c).signIn(c.register(t, generic("a")))
			return r.err
		}, idp.ErrInvalidResponse, idp.ReasonIssuer, false},

		{"the assertion alone issued as another entity", func(t *testing.T) error {
			c := startCrewjamIdP(t, ada, func(base string, answering *crewjam.IdentityProvider) {
				answering.AssertionMaker = assertionMakerFunc(func(req *crewjam.IdpAuthnRequest, s *crewjam.Session) error {
					if err := (crewjam.DefaultAssertionMaker{}).MakeAssertion(req, s); err != nil {
						return err
					}
					req.Assertion.Issuer.Value = otherEntity(base)
					return nil
				})
			})
			_, r := newBrowser(t, c).signIn(c.register(t, generic("a")))
			return r.err
		}, idp.ErrInvalidResponse, idp.ReasonIssuer, false},

		{"IdP-initiated while the connection refuses unsolicited responses", func(t *testing.T) error {
			c := startCrewjamIdP(t, ada, nil)
			conn := c.register(t, generic("a"))
			b := newBrowser(t, c)
			f := b.visit(c.srv.URL + "/unsolicited?" + url.Values{"sp": {spEntityID("a")}, "RelayState": {"/reports"}}.Encode())
			return b.finish(conn, f, nil).err
		}, idp.ErrNoLogin, idp.ReasonUnsolicited, false},

		{"posted to another connection", func(t *testing.T) error {
			// Connection b finds no login of its own in this browser's
			// state, so the response answers no request of b's. The same
			// response, with the same cookies, still signs in at a.
			c := startCrewjamIdP(t, ada, nil)
			a, other := c.register(t, generic("a")), c.register(t, generic("b"))
			b := newBrowser(t, c)
			f := b.visit(b.start(a, "/dashboard").String())
			cookies := b.jar.Cookies(appURL)
			toB := f
			toB.action = spACSURL("b")
			refused := b.finish(other, toB, cookies)
			if r := b.finish(a, f, cookies); r.err != nil || r.id.ConnectionID != "a" {
				t.Errorf("the response at its own connection: %v", r.err)
			}
			return refused.err
		}, idp.ErrNoLogin, idp.ReasonInResponseTo, false},

		{"posted to another connection that takes IdP-initiated logins", func(t *testing.T) error {
			// Taken as unsolicited, it is still addressed to a's ACS.
			c := startCrewjamIdP(t, ada, nil)
			otherSP := generic("b")
			otherSP.allowIDPInitiated = true
			a, other := c.register(t, generic("a")), c.register(t, otherSP)
			b := newBrowser(t, c)
			f := b.visit(b.start(a, "/dashboard").String())
			f.action = spACSURL("b")
			return b.finish(other, f, nil).err
		}, idp.ErrInvalidResponse, idp.ReasonDestination, false},

		{"addressed to another service provider's entity ID", func(t *testing.T) error {
			// The IdP's administrator registered b's ACS under a's entity
			// ID (an app copied from another): the response answers b's
			// request at b's ACS, and its audience is a.
			c := startCrewjamIdP(t, ada, nil)
			conn, md := c.connect(t, generic("b"))
			md.EntityID = spEntityID("a")
			c.sps.add(spEntityID("b"), md)
			_, r := newBrowser(t, c).signIn(conn)
			return r.err
		}, idp.ErrInvalidResponse, idp.ReasonAudience, false},

		{"replayed with the state cookie it came with", func(t *testing.T) error {
			c := startCrewjamIdP(t, ada, nil)
			conn := c.register(t, generic("a"))
			b := newBrowser(t, c)
			f := b.visit(b.start(conn, "/dashboard").String())
			cookies := b.jar.Cookies(appURL)
			if r := b.finish(conn, f, nil); r.err != nil {
				t.Fatalf("first use refused: %v", r.err)
			}
			return b.finish(conn, f, cookies).err
		}, idp.ErrReplayed, idp.ReasonReplay, true},

		{"replayed by the browser", func(t *testing.T) error {
			// The first Finish cleared the state cookie.
			c := startCrewjamIdP(t, ada, nil)
			conn := c.register(t, generic("a"))
			b := newBrowser(t, c)
			f, r := b.signIn(conn)
			if r.err != nil {
				t.Fatalf("first use refused: %v", r.err)
			}
			return b.finish(conn, f, nil).err
		}, idp.ErrNoLogin, idp.ReasonInResponseTo, false},

		{"encrypted to the SP's previous certificate", func(t *testing.T) error {
			// The IdP kept the SP metadata of before the SP's key
			// rotation for encryption (its signing certificate is
			// current, or the IdP would refuse the signed AuthnRequest).
			c := startCrewjamIdP(t, ada, nil)
			conn, md := c.connect(t, spConfig{id: "a", vendor: sso.Generic, attributes: genericAttributes, keys: true})
			previous := base64.StdEncoding.EncodeToString(testKey(t, "previous-sp").cert.Raw)
			replaced := 0
			for i := range md.SPSSODescriptors {
				for j, kd := range md.SPSSODescriptors[i].KeyDescriptors {
					if kd.Use == "encryption" {
						md.SPSSODescriptors[i].KeyDescriptors[j].KeyInfo.X509Data.X509Certificates = []crewjam.X509Certificate{{Data: previous}}
						replaced++
					}
				}
			}
			if replaced != 1 {
				t.Fatalf("ssokit's SP metadata has %d encryption keys, want 1", replaced)
			}
			c.sps.add(md.EntityID, md)
			_, r := newBrowser(t, c).signIn(conn)
			return r.err
		}, idp.ErrInvalidResponse, idp.ReasonDecryption, false},

		{"the IdP denies the request", func(t *testing.T) error {
			c := startCrewjamIdP(t, ada, func(_ string, answering *crewjam.IdentityProvider) {
				answering.AssertionMaker = assertionMakerFunc(func(*crewjam.IdpAuthnRequest, *crewjam.Session) error {
					return &crewjam.StatusError{TopLevel: crewjam.StatusResponder, SecondLevel: crewjam.StatusRequestDenied,
						Message: "ada is not assigned to this application"}
				})
			})
			_, r := newBrowser(t, c).signIn(c.register(t, generic("a")))
			return r.err
		}, idp.ErrIdPRefused, idp.ReasonIdPError, false},

		{"a stale session again after ForceAuthn", func(t *testing.T) error {
			// An IdP that does not honour ForceAuthn answers the restarted
			// login with the same old session: refused this time.
			c := startCrewjamIdP(t, func(req *crewjam.IdpAuthnRequest) *crewjam.Session {
				s := ada(req)
				s.CreateTime = req.Now.Add(-13 * time.Hour)
				return s
			}, nil)
			conn := c.register(t, generic("a"))
			b := newBrowser(t, c)
			_, r := b.signIn(conn)
			if !errors.Is(r.err, idp.ErrReauthenticate) {
				t.Fatalf("first stale answer: %v, want ErrReauthenticate", r.err)
			}
			return b.finish(conn, b.visit(b.redirected(r.rec).String()), nil).err
		}, idp.ErrInvalidResponse, idp.ReasonAuthnTooOld, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantRefusal(t, tc.run(t), tc.sentinel, tc.reason, tc.vouched)
		})
	}
}

// wantRefusal fails t unless err is a *idp.LoginError wrapping sentinel
// with reason and vouched.
func wantRefusal(t testing.TB, err, sentinel error, reason string, vouched bool) {
	t.Helper()
	var le *idp.LoginError
	if !errors.As(err, &le) {
		t.Fatalf("got %v, want a *idp.LoginError (%s)", err, reason)
	}
	if !errors.Is(err, sentinel) || le.Reason != reason || le.Vouched != vouched {
		t.Fatalf("got %v (reason %s, vouched %v), want %v (reason %s, vouched %v)", err, le.Reason, le.Vouched, sentinel, reason, vouched)
	}
}
