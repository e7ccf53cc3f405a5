// samlify 2.13.1 as a SAML identity provider, run by Node.js from
// interop/node/samlify-idp.mjs, for ssokit's own SAML service provider
// (package idp): samlify publishes the IdP metadata ssokit is configured
// with, reads ssokit's AuthnRequest, and builds and signs the login
// response that ssokit's Finish must accept, or refuse for the right
// reason.
package node_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/peers/internal/childproc"
	"github.com/ssokit/ssokit/sso"
)

// samlifyIdPMarker starts each of samlify-idp.mjs's answers: xmllint
// prints to stdout too.
const samlifyIdPMarker = "@@samlify-idp "

// Where the test's service provider and samlify's IdP say they are. No
// request goes to them: the test calls Start and Finish itself and hands
// the messages to samlify.
const (
	samlifyIdPEntity = "https://idp.samlify.test/metadata"
	samlifyIdPSSO    = "https://idp.samlify.test/sso"
	ssokitSPEntity   = "https://app.ssokit.test/saml/metadata"
	ssokitSPACS      = "https://app.ssokit.test/saml/acs"
)

// startSamlifyIdP starts samlify-idp.mjs, once node and the npm packages
// of interop/node are there (else the test is skipped, or fails under CI).
func startSamlifyIdP(t *testing.T) *childproc.Proc {
	t.Helper()
	node := testenv.LookPath(t, "node", installNode)
	dir := testenv.NodeModules(t)
	for _, pkg := range []string{"samlify", "@authenio/samlify-node-xmllint"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg)); err != nil {
			testenv.Missing(t, pkg+" in interop/node", "run `npm ci --prefix interop/node` (scripts/test.sh does)")
		}
	}
	return childproc.Start(t, childproc.Config{Name: "samlify-idp.mjs", Path: node, Args: []string{"samlify-idp.mjs"},
		Dir: dir, Marker: samlifyIdPMarker})
}

// signingIdentity is an IdP's key and self-signed certificate, as PEM,
// for samlify.
func signingIdentity(t *testing.T, cn string) (keyPEM, certPEMText string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// samlifyIdP is samlify's IdP, as the script is told it, and the ssokit
// connection configured with its metadata.
type samlifyIdP struct {
	proc       *childproc.Proc
	idp        map[string]string // entity_id, sso_url, key, cert
	conn       idp.Connector
	spMetadata string
}

func newSamlifyIdP(t *testing.T, proc *childproc.Proc) *samlifyIdP {
	t.Helper()
	key, cert := signingIdentity(t, "samlify idp")
	s := &samlifyIdP{proc: proc, idp: map[string]string{"entity_id": samlifyIdPEntity, "sso_url": samlifyIdPSSO, "key": key, "cert": cert}}
	var md struct {
		Metadata string `json:"metadata"`
	}
	if err := proc.Call(map[string]any{"op": "metadata", "idp": s.idp}, &md); err != nil {
		t.Fatal(err)
	}
	conn, err := idp.New(context.Background(), idp.Connection{ID: "samlify", Protocol: sso.SAML, Vendor: sso.Generic,
		Attributes: map[string]string{"email": "email", "first_name": "firstName", "last_name": "lastName", "groups": "groups"},
		SAML:       &idp.SAMLSettings{IDPMetadataXML: md.Metadata, EntityID: ssokitSPEntity, ACSURL: ssokitSPACS},
	}, idp.Options{StateKey: []byte("samlify-idp-test-state-key-0123456789")})
	if err != nil {
		t.Fatalf("ssokit refuses samlify's metadata: %v\n%s", err, md.Metadata)
	}
	spMD, err := conn.(interface{ Metadata() ([]byte, error) }).Metadata()
	if err != nil {
		t.Fatal(err)
	}
	s.conn, s.spMetadata = conn, string(spMD)
	return s
}

// samlifyLogin is one login ssokit started: the browser's state cookies
// and the AuthnRequest it was sent to the IdP with.
type samlifyLogin struct {
	relayState, samlRequest string
	request                 authnRequest
	cookies                 []*http.Cookie
}

// start has ssokit's Start redirect a browser to samlify's SSO URL.
func (s *samlifyIdP) start(t *testing.T) samlifyLogin {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := s.conn.Start(rec, httptest.NewRequest(http.MethodGet, "https://app.ssokit.test/sso/samlify", nil), "/dashboard", ""); err != nil {
		t.Fatal(err)
	}
	resp := rec.Result()
	loc := resp.Header.Get("Location")
	u, err := url.Parse(loc)
	if resp.StatusCode != http.StatusFound || err != nil || u.Scheme+"://"+u.Host+u.Path != samlifyIdPSSO {
		t.Fatalf("Start answered %d to %q", resp.StatusCode, loc)
	}
	l := samlifyLogin{relayState: u.Query().Get("RelayState"), samlRequest: u.Query().Get("SAMLRequest"),
		request: redirectedRequest(t, loc), cookies: resp.Cookies()}
	if l.relayState == "" || len(l.cookies) == 0 {
		t.Fatalf("Start set no state: RelayState %q, cookies %v", l.relayState, l.cookies)
	}
	return l
}

// samlifyAnswer is samlify's login response and what it read of the
// AuthnRequest.
type samlifyAnswer struct {
	SAMLResponse string `json:"saml_response"`
	ACS          string `json:"acs"`
	Error        string `json:"error"`
	Request      struct {
		ID           string `json:"id"`
		Issuer       string `json:"issuer"`
		ACS          string `json:"acs"`
		Destination  string `json:"destination"`
		NameIDFormat string `json:"name_id_format"`
	} `json:"request"`
}

// samlifyUser is who samlify signs in.
var samlifyUser = map[string]any{
	"email": "grace@navy.test", "first_name": "Grace", "last_name": "Hopper",
	// "R&D <core>" goes through samlify's XML escaping; "Book club; admins"
	// is one group to a generic profile (only OneLogin's are ;-joined).
	"groups":        []string{"engineering", "R&D <core>", "Book club; admins"},
	"session_index": "_session-7f3c",
}

// respond has samlify answer login l's AuthnRequest, signed with signer
// (nil: the IdP's own key), with the options of the script's respond op
// in extra.
func (s *samlifyIdP) respond(t *testing.T, l samlifyLogin, signer map[string]string, extra map[string]any) string {
	t.Helper()
	if signer == nil {
		signer = s.idp
	}
	req := map[string]any{"op": "respond", "idp": signer, "sp_metadata": s.spMetadata, "saml_request": l.samlRequest, "user": samlifyUser}
	for k, v := range extra {
		req[k] = v
	}
	var a samlifyAnswer
	if err := s.proc.Call(req, &a); err != nil {
		t.Fatal(err)
	}
	if a.Error != "" {
		t.Fatalf("samlify refuses ssokit's AuthnRequest: %s", a.Error)
	}
	// samlify read ssokit's AuthnRequest as the test did, and posts to
	// the ACS of ssokit's metadata.
	if a.Request.ID != l.request.ID || a.Request.Issuer != ssokitSPEntity || a.Request.ACS != ssokitSPACS ||
		a.Request.Destination != samlifyIdPSSO || a.ACS != ssokitSPACS {
		t.Fatalf("samlify read the AuthnRequest %+v (sent %+v) and posts to %q", a.Request, l.request, a.ACS)
	}
	return a.SAMLResponse
}

// finish posts the response to ssokit's ACS as login l's browser: its
// RelayState and the cookies Start set.
func (s *samlifyIdP) finish(l samlifyLogin, b64 string) (*idp.Identity, string, error) {
	form := url.Values{"SAMLResponse": {b64}, "RelayState": {l.relayState}}
	r := httptest.NewRequest(http.MethodPost, ssokitSPACS, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range l.cookies {
		r.AddCookie(c)
	}
	return s.conn.Finish(httptest.NewRecorder(), r)
}

// TestSamlifyIdPInterop: ssokit's SAML service provider, configured with
// samlify's IdP metadata, accepts samlify's login responses to its
// AuthnRequests with the exact identity, whether samlify signs the
// Assertion (what ssokit's metadata asks for) or the Response too; and
// refuses, for the specific reason, a response signed with a key the
// metadata does not name, for another audience, answering another
// login's request, expired, or replayed.
func TestSamlifyIdPInterop(t *testing.T) {
	t.Parallel()
	proc := startSamlifyIdP(t)
	s := newSamlifyIdP(t, proc)
	const email = "grace@navy.test"
	groups := []string{"engineering", "R&D <core>", "Book club; admins"}
	want := &idp.Identity{Subject: email, Email: email, EmailVerified: true, FirstName: "Grace", LastName: "Hopper",
		Groups: groups, IdP: sso.Generic, ConnectionID: "samlify", Protocol: sso.SAML,
		NameID: email, NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress", SessionIndex: "_session-7f3c",
		Raw: map[string]any{"email": []string{email}, "firstName": []string{"Grace"}, "lastName": []string{"Hopper"}, "groups": groups}}

	for _, tc := range []struct {
		name  string
		extra map[string]any
		signs signedParts
	}{
		{name: "assertion signed", signs: signedParts{Assertion: true}},
		{name: "response and assertion signed", extra: map[string]any{"sign_response": true}, signs: signedParts{Response: true, Assertion: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := s.start(t)
			b64 := s.respond(t, l, nil, tc.extra)
			if got, err := responseSignedParts(b64); err != nil || got != tc.signs {
				t.Fatalf("samlify signed %+v (%v), want %+v", got, err, tc.signs)
			}
			id, returnTo, err := s.finish(l, b64)
			if err != nil {
				t.Fatalf("ssokit refuses samlify's response: %v", err)
			}
			if !reflect.DeepEqual(id, want) || returnTo != "/dashboard" {
				t.Fatalf("identity\n%+v\nwant\n%+v\nreturn to %q", id, want, returnTo)
			}
		})
	}

	// Another key, whose certificate names the same IdP; samlify puts it
	// in the signature's KeyInfo.
	attackerKey, attackerCert := signingIdentity(t, "samlify idp")
	attacker := map[string]string{"entity_id": samlifyIdPEntity, "sso_url": samlifyIdPSSO, "key": attackerKey, "cert": attackerCert}
	for _, tc := range []struct {
		name   string
		reason string
		err    error
		// answer makes the response and posts it, as the attacker would.
		answer func(t *testing.T) (*idp.Identity, string, error)
	}{
		{name: "key not in the metadata", reason: idp.ReasonUntrustedCert, err: idp.ErrInvalidResponse,
			answer: func(t *testing.T) (*idp.Identity, string, error) {
				l := s.start(t)
				return s.finish(l, s.respond(t, l, attacker, nil))
			}},
		{name: "wrong audience", reason: idp.ReasonAudience, err: idp.ErrInvalidResponse,
			answer: func(t *testing.T) (*idp.Identity, string, error) {
				l := s.start(t)
				return s.finish(l, s.respond(t, l, nil, map[string]any{"audience": "https://other-app.test/saml/metadata"}))
			}},
		{name: "another login's request", reason: idp.ReasonInResponseTo, err: idp.ErrInvalidResponse,
			answer: func(t *testing.T) (*idp.Identity, string, error) {
				answered, posting := s.start(t), s.start(t)
				return s.finish(posting, s.respond(t, answered, nil, nil))
			}},
		{name: "expired", reason: idp.ReasonExpired, err: idp.ErrInvalidResponse,
			answer: func(t *testing.T) (*idp.Identity, string, error) {
				l := s.start(t)
				// Issued 15 minutes ago, valid for 5: crewjam refuses it
				// first for its IssueInstant, older than its 90 s
				// (saml.MaxIssueDelay).
				return s.finish(l, s.respond(t, l, nil, map[string]any{"clock_offset_seconds": -900}))
			}},
		{name: "replayed", reason: idp.ReasonReplay, err: idp.ErrReplayed,
			answer: func(t *testing.T) (*idp.Identity, string, error) {
				l := s.start(t)
				b64 := s.respond(t, l, nil, nil)
				if _, _, err := s.finish(l, b64); err != nil {
					t.Fatalf("the response to replay is refused: %v", err)
				}
				// The same POST again, state cookie and all.
				return s.finish(l, b64)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, _, err := tc.answer(t)
			var le *idp.LoginError
			if !errors.As(err, &le) || le.Reason != tc.reason || !errors.Is(err, tc.err) {
				t.Fatalf("Finish: %v, %v; want a *idp.LoginError %q wrapping %v", id, err, tc.reason, tc.err)
			}
			t.Logf("refused: %v", err)
		})
	}
}
