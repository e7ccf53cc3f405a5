// @node-saml/node-saml 5.1.0 (the SAML engine under passport-saml), run
// by Node.js from interop/node/nodesaml-sp.mjs, as a strictly configured
// SAML service provider against every mock persona, and against the
// mock's SAML attack generator.
package node_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/peers/internal/childproc"
)

// nodeSAMLMarker starts each of nodesaml-sp.mjs's answers.
const nodeSAMLMarker = "@@nodesaml-sp "

// startNodeSAML starts nodesaml-sp.mjs, once node and the npm packages of
// interop/node are there (else the test is skipped, or fails under CI).
func startNodeSAML(t *testing.T) *childproc.Proc {
	t.Helper()
	node := testenv.LookPath(t, "node", installNode)
	dir := testenv.NodeModules(t)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@node-saml", "node-saml")); err != nil {
		testenv.Missing(t, "@node-saml/node-saml in interop/node", "run `npm ci --prefix interop/node` (scripts/test.sh does)")
	}
	return childproc.Start(t, childproc.Config{Name: "nodesaml-sp.mjs", Path: node, Args: []string{"nodesaml-sp.mjs"},
		Dir: dir, Marker: nodeSAMLMarker})
}

// nodeSAMLResult is node-saml's verdict on one response.
type nodeSAMLResult struct {
	OK           bool           `json:"ok"`
	Error        string         `json:"error"`
	NameID       string         `json:"name_id"`
	NameIDFormat string         `json:"name_id_format"`
	Issuer       string         `json:"issuer"`
	InResponseTo string         `json:"in_response_to"`
	SessionIndex string         `json:"session_index"`
	Attributes   map[string]any `json:"attributes"`
}

func (r nodeSAMLResult) String() string {
	if r.OK {
		return "accepted as " + r.NameID
	}
	return "refused: " + r.Error
}

// nodeSAMLSigns is what each persona signs, as mockidp's vendor shapes
// say (samlShapes in mockidp/saml_response.go: Okta both, OneLogin the
// Response, Entra ID, Google and JumpCloud the Assertion), and so what
// node-saml is told to require (wantAuthnResponseSigned,
// wantAssertionsSigned). The every persona half checks each honest
// response against it.
var nodeSAMLSigns = map[string]signedParts{
	"okta":      {Response: true, Assertion: true},
	"azure":     {Assertion: true},
	"google":    {Assertion: true},
	"onelogin":  {Response: true},
	"jumpcloud": {Assertion: true},
}

// nodeSAMLSP is one node-saml SAML instance (one service provider, alive
// in the script for the whole test) for one persona, with a loopback ACS.
type nodeSAMLSP struct {
	proc        *childproc.Proc
	p           *mockidp.Persona
	entity, acs string
}

func newNodeSAMLSP(t *testing.T, proc *childproc.Proc, p *mockidp.Persona) *nodeSAMLSP {
	t.Helper()
	signs, ok := nodeSAMLSigns[p.Name()]
	if !ok {
		t.Fatalf("what persona %s signs is not known: add it to nodeSAMLSigns", p.Name())
	}
	acs, entity := echoACS(t)
	if err := p.RegisterServiceProvider(mockidp.ServiceProviderConfig{EntityID: entity, ACSURL: acs}); err != nil {
		t.Fatal(err)
	}
	cert, err := p.SAMLCertificate()
	if err != nil {
		t.Fatal(err)
	}
	var configured struct {
		OK bool `json:"ok"`
	}
	if err := proc.Call(map[string]any{"op": "configure",
		"sp":                     map[string]string{"entity_id": entity, "acs": acs},
		"idp":                    map[string]string{"entity_id": p.SAMLEntityID(), "sso_url": p.SAMLSSOURL(), "cert": certPEM(cert)},
		"want_response_signed":   signs.Response,
		"want_assertions_signed": signs.Assertion,
	}, &configured); err != nil || !configured.OK {
		t.Fatalf("configure: %v", err)
	}
	return &nodeSAMLSP{proc: proc, p: p, entity: entity, acs: acs}
}

// login has node-saml make its AuthnRequest (getAuthorizeUrlAsync,
// HTTP-Redirect; the instance remembers its ID), signs the user in at the
// persona with the mock's headless login and returns the SAMLResponse
// posted to the ACS and the request's ID.
func (s *nodeSAMLSP) login(t *testing.T, email string) (b64, requestID string) {
	t.Helper()
	var lr struct {
		URL string `json:"url"`
	}
	if err := s.proc.Call(map[string]any{"op": "login", "sp": s.entity}, &lr); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(lr.URL, s.p.SAMLSSOURL()+"?SAMLRequest=") {
		t.Fatalf("node-saml's login URL %q", lr.URL)
	}
	req := redirectedRequest(t, lr.URL)
	if req.Issuer != s.entity || req.ACS != s.acs || req.Destination != s.p.SAMLSSOURL() {
		t.Fatalf("node-saml's AuthnRequest: %+v", req)
	}
	return postedResponse(t, s.p, lr.URL, email, s.acs), req.ID
}

// accept hands the response to node-saml's validatePostResponseAsync.
func (s *nodeSAMLSP) accept(t *testing.T, b64 string) nodeSAMLResult {
	t.Helper()
	var r nodeSAMLResult
	if err := s.proc.Call(map[string]any{"op": "acs", "sp": s.entity, "saml_response": b64}, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestNodeSAMLInterop runs nodesaml-sp.mjs once for its three parts:
// every persona, the attacks, and an unsolicited response.
func TestNodeSAMLInterop(t *testing.T) {
	t.Parallel()
	proc := startNodeSAML(t)
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	t.Run("every persona", func(t *testing.T) { nodeSAMLEveryPersona(t, proc, srv) })
	t.Run("attacks", func(t *testing.T) { nodeSAMLAttacks(t, proc, srv) })
	t.Run("unsolicited", func(t *testing.T) { nodeSAMLUnsolicited(t, proc, srv) })
}

// nodeSAMLEveryPersona: node-saml, requiring the signatures each persona
// makes, the request it made and its own entity ID as the audience,
// accepts every persona's response to its AuthnRequest, with the user's
// NameID and email attribute, from the persona's issuer, answering that
// request.
func nodeSAMLEveryPersona(t *testing.T, proc *childproc.Proc, srv *mockidp.Server) {
	for _, p := range srv.Personas() {
		t.Run(p.Name(), func(t *testing.T) {
			attr, ok := samlifyEmailAttr[p.Name()]
			if !ok {
				t.Fatalf("no email attribute name known for persona %s", p.Name())
			}
			s := newNodeSAMLSP(t, proc, p)
			u := p.Users()[1]
			b64, id := s.login(t, u.Email)
			if got, err := responseSignedParts(b64); err != nil || got != nodeSAMLSigns[p.Name()] {
				t.Fatalf("the response signs %+v (%v), nodeSAMLSigns says %+v", got, err, nodeSAMLSigns[p.Name()])
			}
			r := s.accept(t, b64)
			if !r.OK {
				raw, _ := base64.StdEncoding.DecodeString(b64)
				t.Fatalf("node-saml %s\n%s", r, raw)
			}
			if r.NameID != u.Email || fmt.Sprint(r.Attributes[attr]) != u.Email || r.InResponseTo != id || r.Issuer != p.SAMLEntityID() {
				t.Fatalf("NameID %q, attributes %v, InResponseTo %q (request %q), Issuer %q (persona %q)",
					r.NameID, r.Attributes, r.InResponseTo, id, r.Issuer, p.SAMLEntityID())
			}
		})
	}
}

// nodeSAMLAttacks arms each of the mock's SAML attacks, logs in through
// node-saml's own AuthnRequest, and hands the posted response to
// node-saml. A persona whose Response node-saml requires signed (Okta,
// OneLogin) often fails an earlier check than one whose Assertion only is
// signed: the table says both. What node-saml leaves to the application
// (Destination, Recipient, size) is asserted to be accepted, with the
// reason, so the table is revisited when node-saml starts checking it.
func nodeSAMLAttacks(t *testing.T, proc *childproc.Proc, srv *mockidp.Server) {
	const whole = "=whole signed NameID" // accepted with the whole signed NameID
	want := []struct {
		attack mockidp.Fault
		// refusal is node-saml's whole error message, or its start
		// followed by "..." where the rest names values of the run (or
		// whole); whenResponseSigned, when set, is the refusal instead
		// for the personas whose signed Response node-saml requires.
		refusal, whenResponseSigned string
		unhandled                   string // why node-saml accepts it: left to the application
	}{
		{attack: mockidp.SAMLExpired, refusal: "No valid subject confirmation found among those available in the SAML assertion"},
		{attack: mockidp.SAMLNotYetValid, refusal: "SAML assertion not yet valid"},
		{attack: mockidp.SAMLWrongAudience, refusal: "SAML assertion audience mismatch. Expected: ..."},
		{attack: mockidp.SAMLWrongDestination, unhandled: "node-saml does not compare the Response's Destination with callbackUrl"},
		{attack: mockidp.SAMLWrongRecipient, unhandled: "node-saml does not compare SubjectConfirmationData's Recipient with callbackUrl"},
		{attack: mockidp.SAMLWrongInResponseTo, refusal: "InResponseTo is not valid"},
		{attack: mockidp.SAMLUnsigned, refusal: "Invalid signature", whenResponseSigned: "Invalid document signature"},
		{attack: mockidp.SAMLTampered, refusal: "Invalid signature", whenResponseSigned: "Invalid document signature"},
		{attack: mockidp.SAMLUntrustedCert, refusal: "Invalid signature", whenResponseSigned: "Invalid document signature"},
		{attack: mockidp.XSW1, refusal: "Invalid signature: Referenced node does not refer to it's parent element"},
		{attack: mockidp.XSW2, refusal: "Invalid signature: Referenced node does not refer to it's parent element"},
		{attack: mockidp.XSW3, refusal: "Invalid signature: multiple assertions", whenResponseSigned: "Invalid document signature"},
		{attack: mockidp.XSW4, refusal: "Invalid signature", whenResponseSigned: "Invalid document signature"},
		{attack: mockidp.XSW5, refusal: "Invalid signature: multiple assertions", whenResponseSigned: "Invalid document signature"},
		{attack: mockidp.XSW6, refusal: "Invalid signature: ID cannot refer to more than one element", whenResponseSigned: "Invalid document signature"},
		{attack: mockidp.XSW7, refusal: "Invalid signature: ID cannot refer to more than one element", whenResponseSigned: "Invalid document signature"},
		{attack: mockidp.XSW8, refusal: "Invalid signature: ID cannot refer to more than one element", whenResponseSigned: "Invalid document signature"},
		{attack: mockidp.SAMLTwoAssertions, refusal: "Invalid signature: multiple assertions", whenResponseSigned: "Invalid document signature"},
		{attack: mockidp.SAMLCommentInjection, refusal: whole},
		// Not a DOCTYPE policy: @xmldom/xmldom 0.8 reads no entity
		// declarations, so the entity used in the NameID is unknown to it,
		// an error node-saml's parser treats as fatal.
		{attack: mockidp.SAMLDoctype, refusal: "[xmldom error]\tentity not found:&who;..."},
		// The replayed response answers a request whose ID node-saml
		// dropped from its cache when it accepted the response the first
		// time.
		{attack: mockidp.SAMLReplay, refusal: "InResponseTo is not valid"},
		{attack: mockidp.SAMLOversized, unhandled: "node-saml sets no size limit on the SAMLResponse: the application caps the POST body"},
	}
	if n := len(mockidp.SAMLAttacks()); len(want) != n {
		t.Fatalf("the table covers %d attacks, the generator has %d", len(want), n)
	}
	for _, p := range srv.Personas() {
		s := newNodeSAMLSP(t, proc, p)
		email := p.Users()[0].Email
		for _, w := range want {
			t.Run(p.Name()+"/"+string(w.attack), func(t *testing.T) {
				var honest string
				if w.attack == mockidp.SAMLReplay {
					// What is replayed, accepted once.
					honest, _ = s.login(t, email)
					if r := s.accept(t, honest); !r.OK {
						t.Fatalf("the response to replay: node-saml %s", r)
					}
				}
				if err := p.NextResponse(w.attack); err != nil {
					t.Fatal(err)
				}
				b64, _ := s.login(t, email)
				if w.attack == mockidp.SAMLReplay && b64 != honest {
					t.Fatal("the replayed response is not the previous one")
				}
				r := s.accept(t, b64)
				refusal := w.refusal
				if w.whenResponseSigned != "" && nodeSAMLSigns[p.Name()].Response {
					refusal = w.whenResponseSigned
				}
				switch {
				case w.unhandled != "":
					if !r.OK {
						t.Errorf("node-saml now refuses %s (%.300s): %q no longer holds; make it a refusal", w.attack, r, w.unhandled)
					}
				case refusal == whole:
					if wantID := email + ".evil.test"; !r.OK || r.NameID != wantID {
						t.Errorf("node-saml %.300s; want %q accepted", r, wantID)
					}
				case r.OK:
					t.Errorf("node-saml accepted %s as %q", w.attack, r.NameID)
				case !nodeSAMLRefusal(r.Error, refusal):
					t.Errorf("node-saml refused for another reason: %.300s (want %q)", r, refusal)
				}
			})
		}
	}
}

// nodeSAMLRefusal reports whether node-saml's error message is want: all
// of it, or, when want ends in "...", its start.
func nodeSAMLRefusal(msg, want string) bool {
	if prefix, ok := strings.CutSuffix(want, "..."); ok {
		return strings.HasPrefix(msg, prefix)
	}
	return msg == want
}

// nodeSAMLUnsolicited: with validateInResponseTo "always", an
// IdP-initiated response (no InResponseTo), correctly signed and
// addressed, is refused.
func nodeSAMLUnsolicited(t *testing.T, proc *childproc.Proc, srv *mockidp.Server) {
	for _, p := range srv.Personas() {
		t.Run(p.Name(), func(t *testing.T) {
			s := newNodeSAMLSP(t, proc, p)
			b64, err := p.SAMLResponse(s.entity, p.Users()[0].Email, "")
			if err != nil {
				t.Fatal(err)
			}
			if r := s.accept(t, b64); r.OK || r.Error != "InResponseTo is missing from response" {
				t.Fatalf("node-saml %.300s; want it refused for its missing InResponseTo", r)
			}
		})
	}
}
