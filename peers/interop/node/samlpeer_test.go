package node_test

// What the SAML peers share: a loopback ACS for the personas to post to,
// the mock's headless login, and readers of the messages that pass.

import (
	"bytes"
	"compress/flate"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/ssokit/ssokit/mockidp"
)

// echoACS starts a loopback ACS that answers a form POST with its
// SAMLResponse, so that mockidp.Browse, which submits the persona's
// auto-post form there, returns it. It returns the ACS URL and an entity
// ID on the same server.
func echoACS(t *testing.T) (acs, entityID string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
		if r.Method != http.MethodPost || r.ParseForm() != nil {
			http.Error(w, "want a form POST", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, r.PostForm.Get("SAMLResponse"))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/acs", srv.URL + "/metadata"
}

// postedResponse signs email in at persona p from a service provider's
// AuthnRequest URL with the mock's headless login (QueueUser, then Browse
// follows the redirect and submits the auto-post form) and returns the
// base64 SAMLResponse posted to acs (an echoACS).
func postedResponse(t *testing.T, p *mockidp.Persona, loginURL, email, acs string) string {
	t.Helper()
	if err := p.QueueUser(email); err != nil {
		t.Fatal(err)
	}
	resp, err := mockidp.Browse(&http.Client{Timeout: 30 * time.Second}, loginURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != acs {
		t.Fatalf("the login ended at %s with %d: %.500s", resp.Request.URL, resp.StatusCode, body)
	}
	return string(body)
}

// certPEM is cert as a PEM CERTIFICATE block.
func certPEM(cert *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
}

// authnRequest is what the tests read of an AuthnRequest.
type authnRequest struct {
	ID          string `xml:"ID,attr"`
	Destination string `xml:"Destination,attr"`
	ACS         string `xml:"AssertionConsumerServiceURL,attr"`
	Issuer      string `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
}

// redirectedRequest reads the AuthnRequest of an HTTP-Redirect URL: the
// SAMLRequest parameter, base64 of the DEFLATEd XML (SAML Bindings 3.4.4.1).
func redirectedRequest(t *testing.T, rawURL string) authnRequest {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	deflated, err := base64.StdEncoding.DecodeString(u.Query().Get("SAMLRequest"))
	if err != nil {
		t.Fatalf("SAMLRequest of %s: %v", rawURL, err)
	}
	raw, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(deflated)), 1<<20))
	if err != nil {
		t.Fatalf("SAMLRequest of %s does not inflate: %v", rawURL, err)
	}
	var req authnRequest
	if err := xml.Unmarshal(raw, &req); err != nil || req.ID == "" {
		t.Fatalf("SAMLRequest of %s: %v\n%s", rawURL, err, raw)
	}
	return req
}

// Where SAML's elements and XML signatures live.
const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
)

// The elements responseSignedParts looks for.
var (
	responseName  = xml.Name{Space: nsProtocol, Local: "Response"}
	assertionName = xml.Name{Space: nsAssertion, Local: "Assertion"}
	signatureName = xml.Name{Space: nsDSig, Local: "Signature"}
)

// signedParts says which of a Response and its Assertion carry an
// enveloped ds:Signature (a child element).
type signedParts struct{ Response, Assertion bool }

// responseSignedParts reads which parts of a base64 SAMLResponse are
// signed.
func responseSignedParts(b64 string) (signedParts, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return signedParts{}, err
	}
	var sp signedParts
	var path []xml.Name // the open elements
	d := xml.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return sp, nil
		}
		if err != nil {
			return signedParts{}, err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if el.Name == signatureName {
				switch {
				case len(path) == 1 && path[0] == responseName:
					sp.Response = true
				case len(path) == 2 && path[0] == responseName && path[1] == assertionName:
					sp.Assertion = true
				}
			}
			path = append(path, el.Name)
		case xml.EndElement:
			path = path[:len(path)-1]
		}
	}
}
