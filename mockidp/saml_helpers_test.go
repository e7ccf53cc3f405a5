package mockidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	"github.com/crewjam/saml/xmlenc"
	"github.com/ssokit/ssokit/sso"
)

// maxSAMLResponse is the size limit the test service provider applies to
// the posted SAMLResponse, as a deployment does with http.MaxBytesReader.
const maxSAMLResponse = 1 << 20

var spKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// crewjamSP is crewjam/saml's samlsp middleware serving an app that shows
// the session's attributes, registered with a persona by its metadata.
type crewjamSP struct {
	mw  *samlsp.Middleware
	srv *httptest.Server
}

func newCrewjamSP(t testing.TB, idp *Server, persona string, mod func(*samlsp.Options)) *crewjamSP {
	t.Helper()
	p := idp.Persona(persona)
	c := &crewjamSP{}
	mux := http.NewServeMux()
	c.srv = httptest.NewServer(mux)
	t.Cleanup(c.srv.Close)
	root, _ := url.Parse(c.srv.URL)
	mdURL, _ := url.Parse(p.SAMLMetadataURL())
	md, err := samlsp.FetchMetadata(context.Background(), idp.Client(), *mdURL)
	if err != nil {
		t.Fatalf("IdP metadata: %v", err)
	}
	cert, err := selfSigned(spKey(), "sp")
	if err != nil {
		t.Fatal(err)
	}
	opts := samlsp.Options{URL: *root, Key: spKey(), Certificate: cert.Leaf, IDPMetadata: md,
		KeyAttributesByName: true, ReplayCache: samlsp.NewMemoryReplayCache(1000)}
	if mod != nil {
		mod(&opts)
	}
	c.mw, err = samlsp.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if p.Vendor() == sso.AzureAD {
		// Entra honours NameIDPolicy: a transient request gets a new NameID
		// every login, so ask for the email.
		c.mw.ServiceProvider.AuthnNameIDFormat = saml.EmailAddressNameIDFormat
	}
	mux.Handle("/saml/", c.mw)
	mux.Handle("/app", c.mw.RequireAccount(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := samlsp.SessionFromContext(r.Context()).(samlsp.JWTSessionClaims)
		fmt.Fprintf(w, "nameid=%s\n", s.Subject)
		for k, v := range s.Attributes {
			fmt.Fprintf(w, "%s=%v\n", k, v)
		}
	})))
	mdXML, err := xml.Marshal(c.mw.ServiceProvider.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RegisterServiceProvider(ServiceProviderConfig{MetadataXML: string(mdXML)}); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *crewjamSP) entityID() string {
	if id := c.mw.ServiceProvider.EntityID; id != "" {
		return id
	}
	return c.mw.ServiceProvider.MetadataURL.String()
}
func (c *crewjamSP) acsURL() string { return c.mw.ServiceProvider.AcsURL.String() }

var formField = regexp.MustCompile(`name="(SAMLResponse|SAMLRequest|RelayState)" value="([^"]*)"`)
var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// autoPost reads the action and fields of the IdP's auto-submitting form;
// action is "" when body has none.
func autoPost(body string) (string, url.Values) {
	form := url.Values{}
	for _, m := range formField.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	a := formAction.FindStringSubmatch(body)
	if a == nil {
		return "", form
	}
	return html.UnescapeString(a[1]), form
}

// login runs the SP-initiated flow as a browser without JavaScript: the app
// redirects to the IdP, the IdP answers with its auto-post form, the form
// is posted to the ACS, and the app page is returned.
func (c *crewjamSP) login(t testing.TB, idp *Server) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := idp.Client()
	client.Jar = jar
	resp, err := client.Get(c.srv.URL + "/app")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	action, form := autoPost(string(body))
	if action != "" && form.Get("SAMLRequest") != "" {
		// HTTP-POST binding: the SP's form carries the AuthnRequest to the IdP.
		if resp, err = client.PostForm(action, form); err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		action, form = autoPost(string(body))
	}
	if action == "" {
		return resp.StatusCode, string(body)
	}
	resp, err = client.PostForm(action, form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(body)
}

// parse is crewjam's own check of a response to request requestID,
// behind the size limit a deployment puts in front of its ACS.
func (c *crewjamSP) parse(b64, requestID string) (*saml.Assertion, error) {
	if len(b64) > maxSAMLResponse {
		return nil, errors.New("SAMLResponse larger than 1 MiB")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, err
	}
	acs, _ := url.Parse(c.acsURL())
	as, err := c.mw.ServiceProvider.ParseXMLResponse(raw, []string{requestID}, *acs)
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		// crewjam keeps the reason out of Error(); tests want it.
		return nil, fmt.Errorf("%w: %v", err, ire.PrivateErr)
	}
	return as, err
}

func decodeB64(t testing.TB, b64 string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decryptAssertion decrypts the EncryptedAssertion under root with the
// test SP's key, wherever the EncryptedKey is: inside EncryptedData's
// KeyInfo (as Entra places it) or beside EncryptedData (as Okta does).
func decryptAssertion(t *testing.T, root *etree.Element) []byte {
	t.Helper()
	ed := findDeep(root, "EncryptedData")
	if ed == nil {
		t.Fatal("no EncryptedData")
	}
	key := any(spKey())
	if ek := ed.Parent().FindElement("./EncryptedKey"); ek != nil {
		sym, err := xmlenc.Decrypt(spKey(), ek)
		if err != nil {
			t.Fatal(err)
		}
		key = sym
	}
	plain, err := xmlenc.Decrypt(key, ed)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}
