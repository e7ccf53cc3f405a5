// python3-saml 1.12.0 (Debian bookworm's python3-onelogin-saml2
// 1.12.0-2+deb12u1, with python3-xmlsec 1.3.13 on libxmlsec1 1.2.37,
// python3-lxml 4.9.2 and libxml2 2.9.14), run by Debian's /usr/bin/python3,
// as a strict service provider (strict, wantXMLValidation) against every
// mock persona, and against the mock's SAML attack generator.
package python_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/peers/internal/childproc"
)

// debianPython is Debian's own interpreter: python3-onelogin-saml2 lives in
// its dist-packages, which another python3 earlier on PATH may not see.
const debianPython = "/usr/bin/python3"

const installSAML = "apt-get install -y --no-install-recommends python3-onelogin-saml2 (scripts/test.sh does)"

// startPySP starts sp.py, once Debian's python3 and python3-onelogin-saml2
// are there (else the test is skipped, or fails under CI).
func startPySP(t *testing.T) *childproc.Proc {
	t.Helper()
	py := testenv.LookPath(t, debianPython, "install Debian's python3 ("+installSAML+")")
	if out, err := exec.Command(py, "-c", "import onelogin.saml2.auth, xmlsec").CombinedOutput(); err != nil {
		testenv.Missing(t, "python3-onelogin-saml2 for "+debianPython, installSAML+": "+strings.TrimSpace(string(out)))
	}
	_, file, _, _ := runtime.Caller(0)
	return childproc.Start(t, childproc.Config{Name: "sp.py", Path: py, Args: []string{filepath.Join(filepath.Dir(file), "sp.py")},
		Env: []string{"PYTHONDONTWRITEBYTECODE=1", "PYTHONWARNINGS=ignore", "LANG=C.UTF-8"}})
}

// result is python3-saml's verdict on one response.
type result struct {
	Authenticated bool                `json:"authenticated"`
	Errors        []string            `json:"errors"`
	Reason        string              `json:"reason"`
	NameID        string              `json:"nameid"`
	Attributes    map[string][]string `json:"attributes"`
}

func (r result) String() string {
	if r.Authenticated && len(r.Errors) == 0 {
		return "accepted as " + r.NameID
	}
	return fmt.Sprintf("refused %v: %s", r.Errors, r.Reason)
}

// sp is python3-saml configured for one persona, with a loopback ACS.
type sp struct {
	py       *childproc.Proc
	p        *mockidp.Persona
	settings map[string]any
	acs      string
}

func newSP(t *testing.T, py *childproc.Proc, p *mockidp.Persona) *sp {
	t.Helper()
	// The ACS echoes the posted SAMLResponse, so that Browse, which
	// submits the mock's auto-post form, returns it.
	acsSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
		if r.Method != http.MethodPost || r.ParseForm() != nil {
			http.Error(w, "want a form POST", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, r.PostForm.Get("SAMLResponse"))
	}))
	t.Cleanup(acsSrv.Close)
	acs := acsSrv.URL + "/acs"
	entity := acsSrv.URL + "/metadata"
	if err := p.RegisterServiceProvider(mockidp.ServiceProviderConfig{EntityID: entity, ACSURL: acs}); err != nil {
		t.Fatal(err)
	}
	cert, err := p.SAMLCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return &sp{py: py, p: p, acs: acs, settings: map[string]any{
		"strict": true,
		"debug":  false,
		"sp": map[string]any{
			"entityId":                 entity,
			"assertionConsumerService": map[string]any{"url": acs, "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"},
			"NameIDFormat":             "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
		},
		"idp": map[string]any{
			"entityId":            p.SAMLEntityID(),
			"singleSignOnService": map[string]any{"url": p.SAMLSSOURL(), "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"},
			"x509cert":            base64.StdEncoding.EncodeToString(cert.Raw),
		},
		"security": map[string]any{
			"wantXMLValidation":      true,
			"wantNameId":             true,
			"wantAttributeStatement": true,
			"wantAssertionsSigned":   false, // the personas sign the Response, the Assertion or both
			"wantMessagesSigned":     false,
			"authnRequestsSigned":    false,
			"requestedAuthnContext":  false,
		},
	}}
}

// login has python3-saml make its AuthnRequest (HTTP-Redirect), signs the
// user in at the persona with the mock's headless login (QueueUser, then
// Browse follows the redirect and submits the auto-post form to the ACS)
// and returns the posted SAMLResponse and the request's ID.
func (s *sp) login(t *testing.T, email string) (b64, requestID string) {
	t.Helper()
	var lr struct {
		URL       string `json:"url"`
		RequestID string `json:"request_id"`
	}
	if err := s.py.Call(map[string]any{"op": "login", "settings": s.settings}, &lr); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(lr.URL, s.p.SAMLSSOURL()+"?SAMLRequest=") || lr.RequestID == "" {
		t.Fatalf("python3-saml's login URL %q, request ID %q", lr.URL, lr.RequestID)
	}
	if err := s.p.QueueUser(email); err != nil {
		t.Fatal(err)
	}
	resp, err := mockidp.Browse(http.DefaultClient, lr.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != s.acs {
		t.Fatalf("the login ended at %s with %d: %.500s", resp.Request.URL, resp.StatusCode, body)
	}
	return string(body), lr.RequestID
}

// accept hands the response to python3-saml's process_response.
func (s *sp) accept(t *testing.T, b64, requestID string) result {
	t.Helper()
	var r result
	err := s.py.Call(map[string]any{"op": "acs", "settings": s.settings, "acs": s.acs,
		"saml_response": b64, "request_id": requestID}, &r)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r result) ok() bool { return r.Authenticated && len(r.Errors) == 0 }

// The email attribute's name per persona.
var emailAttr = map[string]string{
	"okta":      "email",
	"azure":     "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
	"google":    "email",
	"onelogin":  "User.email",
	"jumpcloud": "email",
}

// knownMockBug lists the personas whose responses python3-saml refuses
// because of a bug in the mock, with the refusal. Each entry is asserted to
// still fail that way: when the mock is fixed the test goes red, and the
// entry must be removed.
// (okta and onelogin were listed, refused by schema validation with "Not
// match the saml-schema-protocol-2.0.xsd", until the mock declared the xs
// prefix of its xsi:type="xs:string".)
var knownMockBug = map[string]string{}

// TestPython3SAMLEveryPersona: python3-saml, strict with schema
// validation, accepts every persona's response to its own AuthnRequest,
// with the user's NameID and email attribute.
func TestPython3SAMLEveryPersona(t *testing.T) {
	t.Parallel()
	py := startPySP(t)
	idp := mockidp.Start(t, mockidp.DefaultConfig())
	for _, p := range idp.Personas() {
		t.Run(p.Name(), func(t *testing.T) {
			attr, ok := emailAttr[p.Name()]
			if !ok {
				t.Fatalf("no email attribute name known for persona %s", p.Name())
			}
			s := newSP(t, py, p)
			u := p.Users()[1]
			b64, id := s.login(t, u.Email)
			r := s.accept(t, b64, id)
			if bug := knownMockBug[p.Name()]; bug != "" {
				if r.ok() || !strings.Contains(r.Reason, bug) {
					t.Fatalf("known mock bug %q no longer shows (python3-saml: %s): remove the knownMockBug entry", bug, r)
				}
				t.Logf("known mock bug: %s", r)
				return
			}
			if !r.ok() {
				t.Fatalf("python3-saml %s\n%s", r, decodeB64(t, b64))
			}
			if r.NameID != u.Email || len(r.Attributes[attr]) != 1 || r.Attributes[attr][0] != u.Email {
				t.Fatalf("NameID %q, attributes %v", r.NameID, r.Attributes)
			}
		})
	}
}

// TestPython3SAMLAttacks arms each of the mock's SAML attacks, logs in
// through python3-saml's own AuthnRequest, and hands the posted response
// to python3-saml. Each attack it claims to handle is refused with its
// reason; comment injection is accepted only with the whole signed NameID
// (the parser drops comments); replay and size are not python3-saml's job,
// and are asserted to be accepted, with the reason.
func TestPython3SAMLAttacks(t *testing.T) {
	t.Parallel()
	const whole = "=whole signed NameID"
	want := []struct {
		attack    mockidp.Fault
		refusal   string // a substring of python3-saml's refusal, or whole
		unhandled string // why python3-saml accepts it: not its job
	}{
		{attack: mockidp.SAMLExpired, refusal: "Could not validate timestamp: expired"},
		{attack: mockidp.SAMLNotYetValid, refusal: "Could not validate timestamp: not yet valid"},
		{attack: mockidp.SAMLWrongAudience, refusal: "is not a valid audience for this Response"},
		{attack: mockidp.SAMLWrongDestination, refusal: "The response was received at"},
		{attack: mockidp.SAMLWrongRecipient, refusal: "A valid SubjectConfirmation was not found"},
		{attack: mockidp.SAMLWrongInResponseTo, refusal: "does not match the ID of the AuthNRequest"},
		{attack: mockidp.SAMLUnsigned, refusal: "No Signature found"},
		{attack: mockidp.SAMLTampered, refusal: "Signature validation failed"},
		{attack: mockidp.SAMLUntrustedCert, refusal: "Signature validation failed"},
		{attack: mockidp.XSW1, refusal: "SAML Response must contain 1 assertion"},
		{attack: mockidp.XSW2, refusal: "SAML Response must contain 1 assertion"},
		{attack: mockidp.XSW3, refusal: "SAML Response must contain 1 assertion"},
		{attack: mockidp.XSW4, refusal: "SAML Response must contain 1 assertion"},
		{attack: mockidp.XSW5, refusal: "SAML Response must contain 1 assertion"},
		{attack: mockidp.XSW6, refusal: "SAML Response must contain 1 assertion"},
		{attack: mockidp.XSW7, refusal: "SAML Response must contain 1 assertion"},
		{attack: mockidp.XSW8, refusal: "SAML Response must contain 1 assertion"},
		{attack: mockidp.SAMLTwoAssertions, refusal: "SAML Response must contain 1 assertion"},
		{attack: mockidp.SAMLCommentInjection, refusal: whole},
		{attack: mockidp.SAMLDoctype, refusal: "DTDForbidden"},
		{attack: mockidp.SAMLReplay, unhandled: "python3-saml keeps no record of the assertions it accepted (no replay cache): " +
			"the response replayed to the request it answered is accepted again; only InResponseTo ties it to a request"},
		{attack: mockidp.SAMLOversized, unhandled: "python3-saml sets no size limit on the SAMLResponse: the application caps the POST body"},
	}
	if n := len(mockidp.SAMLAttacks()); len(want) != n {
		t.Fatalf("the table covers %d attacks, the generator has %d", len(want), n)
	}
	py := startPySP(t)
	idp := mockidp.Start(t, mockidp.DefaultConfig())
	for _, p := range idp.Personas() {
		s := newSP(t, py, p)
		email := p.Users()[0].Email
		for _, w := range want {
			t.Run(p.Name()+"/"+string(w.attack), func(t *testing.T) {
				var honestB64, honestID string
				if w.attack == mockidp.SAMLReplay {
					honestB64, honestID = s.login(t, email) // what is replayed
				}
				if err := p.NextResponse(w.attack); err != nil {
					t.Fatal(err)
				}
				b64, id := s.login(t, email)
				r := s.accept(t, b64, id)
				if bug := knownMockBug[p.Name()]; bug != "" && !r.ok() && strings.Contains(r.Reason, bug) {
					// Until the mock is fixed (TestPython3SAMLEveryPersona
					// goes red then), a refusal for the known bug stands in
					// for the outcome the table expects.
					return
				}
				switch {
				case w.attack == mockidp.SAMLReplay:
					if b64 != honestB64 {
						t.Fatal("the replayed response is not the previous one")
					}
					if r.ok() || !strings.Contains(r.Reason, "does not match the ID of the AuthNRequest") {
						t.Errorf("replay to a new request: python3-saml %s, want the InResponseTo refusal", r)
					}
					if r := s.accept(t, b64, honestID); !r.ok() {
						t.Errorf("python3-saml now refuses a replay to the request it answered (%s): %q no longer holds; make it a refusal", r, w.unhandled)
					}
				case w.unhandled != "":
					if !r.ok() {
						t.Errorf("python3-saml now refuses %s (%s): %q no longer holds; make it a refusal", w.attack, r, w.unhandled)
					}
				case w.refusal == whole:
					if wantID := email + ".evil.test"; !r.ok() || r.NameID != wantID {
						t.Errorf("python3-saml %s; want %q accepted", r, wantID)
					}
				case r.ok():
					t.Errorf("python3-saml accepted %s as %q", w.attack, r.NameID)
				case !strings.Contains(r.Reason, w.refusal):
					t.Errorf("python3-saml refused for another reason: %s (want %q)", r, w.refusal)
				}
			})
		}
	}
}

func decodeB64(t *testing.T, b64 string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
