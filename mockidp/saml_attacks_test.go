package mockidp

import (
	"strings"
	"testing"
)

// TestSAMLAttacksRefused makes every attack shape with the generator and
// hands it to crewjam/saml's own parser. Each must be refused, except XSW7
// (accepted, with the original NameID: the wrapped copy is ignored) and
// comment injection (accepted only with the whole signed NameID). The same
// with gosaml2 and a careful user's checks is peers/interop/saml's
// TestSAMLAttacksRefusedByGosaml2.
func TestSAMLAttacksRefused(t *testing.T) {
	t.Parallel()
	const original, whole = "=original NameID", "=whole signed NameID"
	// attack -> what crewjam answers: a substring of the refusal, or an
	// acceptance with the original / whole signed NameID.
	want := []struct {
		attack  Fault
		crewjam string
	}{
		{SAMLExpired, "IssueInstant expired"},
		{SAMLNotYetValid, "is in the future"},
		{SAMLWrongAudience, "AudienceRestriction does not contain"},
		{SAMLWrongDestination, "`Destination` does not match"},
		{SAMLWrongRecipient, "Recipient is not"},
		{SAMLWrongInResponseTo, "`InResponseTo` does not match"},
		{SAMLUnsigned, "signature element not present"},
		{SAMLTampered, "Signature could not be verified"},
		{SAMLUntrustedCert, "Could not verify certificate against trusted certs"},
		{XSW1, "Missing signature referencing the top-level element"},
		{XSW2, "Missing signature referencing the top-level element"},
		{XSW3, "exactly one Assertion"},
		{XSW4, "signature element not present"},
		{XSW5, "exactly one Assertion"},
		{XSW6, "Signature could not be verified"},
		{XSW7, original},
		{XSW8, "Signature could not be verified"},
		{SAMLTwoAssertions, "exactly one Assertion"},
		{SAMLCommentInjection, whole},
		{SAMLDoctype, "invalid character entity"},
		{SAMLReplay, "already been used"},
		{SAMLOversized, "larger than 1 MiB"},
	}
	if len(want) != countSAMLFaults() {
		t.Fatalf("the table covers %d attacks, the generator has %d", len(want), countSAMLFaults())
	}
	idp := Start(t, DefaultConfig())
	for _, persona := range []string{"okta", "azure"} { // both signed; assertion signed only
		p := idp.Persona(persona)
		cj := newCrewjamSP(t, idp, persona, nil)
		email := p.Users()[0].Email
		for _, w := range want {
			t.Run(persona+"/"+string(w.attack), func(t *testing.T) {
				check := func(b64 string) (string, error) { // NameID accepted, or the refusal
					as, err := cj.parse(b64, "id-request-1")
					if err != nil {
						return "", err
					}
					return as.Subject.NameID.Value, nil
				}
				if w.attack == SAMLReplay {
					// What is replayed is a response the SP has already taken.
					honest, err := p.SAMLResponse(cj.entityID(), email, "id-request-1")
					if err != nil {
						t.Fatal(err)
					}
					if _, err := check(honest); err != nil {
						t.Fatalf("crewjam refused the honest response: %v", err)
					}
				}
				if err := p.NextResponse(w.attack); err != nil {
					t.Fatal(err)
				}
				b64, err := p.SAMLResponse(cj.entityID(), email, "id-request-1")
				if err != nil {
					t.Fatal(err)
				}
				nameID, err := check(b64)
				switch {
				case w.crewjam == original || w.crewjam == whole:
					wantID := email
					if w.crewjam == whole {
						wantID = email + ".evil.test"
					}
					if err != nil || nameID != wantID {
						t.Errorf("crewjam: got NameID %q, err %v; want %q accepted", nameID, err, wantID)
					}
				case err == nil:
					t.Errorf("crewjam accepted %s as %q", w.attack, nameID)
				case !strings.Contains(err.Error(), w.crewjam):
					t.Errorf("crewjam refused for another reason: %v (want %q)", firstLine(err.Error()), w.crewjam)
				}
			})
		}
	}
}

func countSAMLFaults() int {
	n := 0
	for _, f := range faultCatalog {
		if f.Site == string(siteSAML) {
			n++
		}
	}
	return n
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

// SAMLAttacks is every SAML response attack and nothing else.
func TestSAMLAttacksList(t *testing.T) {
	got := map[Fault]bool{}
	for _, f := range SAMLAttacks() {
		got[f.ID] = true
	}
	for _, want := range []Fault{SAMLExpired, XSW1, XSW8, SAMLReplay, SAMLOversized} {
		if !got[want] {
			t.Errorf("%s missing", want)
		}
	}
	for _, not := range []Fault{FaultWrongAudience, FaultJWKSUnavailable} {
		if got[not] {
			t.Errorf("%s is not a SAML response attack", not)
		}
	}
}
