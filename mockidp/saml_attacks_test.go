package mockidp

import (
	"strings"
	"testing"
)

// TestSAMLAttacksRefused makes every attack shape with the generator and
// hands it to both service providers: crewjam/saml's own parser, and
// gosaml2 with a careful user's checks. Each must refuse, except XSW7
// (accepted, with the original NameID: the wrapped copy is ignored) and
// comment injection (accepted only with the whole signed NameID).
func TestSAMLAttacksRefused(t *testing.T) {
	t.Parallel()
	const original, whole = "=original NameID", "=whole signed NameID"
	// attack -> what crewjam and careful gosaml2 answer: a substring of the
	// refusal, or an acceptance with the original / whole signed NameID.
	want := []struct {
		attack           Fault
		crewjam, gosaml2 string
	}{
		{SAMLExpired, "IssueInstant expired", "Expired NotOnOrAfter"},
		{SAMLNotYetValid, "is in the future", "outside its validity window"},
		{SAMLWrongAudience, "AudienceRestriction does not contain", "not addressed to this service provider"},
		{SAMLWrongDestination, "`Destination` does not match", "Unrecognized Destination"},
		{SAMLWrongRecipient, "Recipient is not", "Unrecognized Recipient"},
		{SAMLWrongInResponseTo, "`InResponseTo` does not match", "is not the request"},
		{SAMLUnsigned, "signature element not present", "Missing signature referencing the top-level element"},
		{SAMLTampered, "Signature could not be verified", "Signature could not be verified"},
		{SAMLUntrustedCert, "Could not verify certificate against trusted certs", "Could not verify certificate against trusted certs"},
		{XSW1, "Missing signature referencing the top-level element", "unexpected parent element: Response"},
		{XSW2, "Missing signature referencing the top-level element", "unexpected parent element: Response"},
		{XSW3, "exactly one Assertion", "Missing signature referencing the top-level element"},
		{XSW4, "signature element not present", "Missing signature referencing the top-level element"},
		{XSW5, "exactly one Assertion", "Signature could not be verified"},
		{XSW6, "Signature could not be verified", "Signature could not be verified"},
		{XSW7, original, "unexpected parent element: Extensions"},
		{XSW8, "Signature could not be verified", "Signature could not be verified"},
		{SAMLTwoAssertions, "exactly one Assertion", "Missing signature referencing the top-level element"},
		{SAMLCommentInjection, whole, whole},
		{SAMLDoctype, "invalid character entity", "DOCTYPE refused"},
		{SAMLReplay, "already been used", "replayed"},
		{SAMLOversized, "larger than 1 MiB", "larger than 1 MiB"},
	}
	if len(want) != countSAMLFaults() {
		t.Fatalf("the table covers %d attacks, the generator has %d", len(want), countSAMLFaults())
	}
	idp := Start(t, DefaultConfig())
	for _, persona := range []string{"okta", "azure"} { // both signed; assertion signed only
		p := idp.Persona(persona)
		cj := newCrewjamSP(t, idp, persona, nil)
		const gEntity, gACS = "https://gosaml2.sp.test/metadata", "https://gosaml2.sp.test/acs"
		if err := p.RegisterServiceProvider(ServiceProviderConfig{EntityID: gEntity, ACSURL: gACS}); err != nil {
			t.Fatal(err)
		}
		gs := newGosaml2(t, p, gEntity, gACS)
		email := p.Users()[0].Email
		for _, w := range want {
			t.Run(persona+"/"+string(w.attack), func(t *testing.T) {
				for _, sp := range []struct {
					name, entity, want string
					check              func(b64 string) (string, error) // NameID accepted, or the refusal
				}{
					{"crewjam", cj.entityID(), w.crewjam, func(b64 string) (string, error) {
						as, err := cj.parse(b64, "id-request-1")
						if err != nil {
							return "", err
						}
						return as.Subject.NameID.Value, nil
					}},
					{"gosaml2", gEntity, w.gosaml2, func(b64 string) (string, error) {
						info, err := gs.accept(b64, "id-request-1")
						if err != nil {
							return "", err
						}
						return info.NameID, nil
					}},
				} {
					if w.attack == SAMLReplay {
						// What is replayed is a response the SP has already taken.
						honest, err := p.SAMLResponse(sp.entity, email, "id-request-1")
						if err != nil {
							t.Fatal(err)
						}
						if _, err := sp.check(honest); err != nil {
							t.Fatalf("%s refused the honest response: %v", sp.name, err)
						}
					}
					if err := p.NextResponse(w.attack); err != nil {
						t.Fatal(err)
					}
					b64, err := p.SAMLResponse(sp.entity, email, "id-request-1")
					if err != nil {
						t.Fatal(err)
					}
					nameID, err := sp.check(b64)
					switch {
					case sp.want == original || sp.want == whole:
						wantID := email
						if sp.want == whole {
							wantID = email + ".evil.test"
						}
						if err != nil || nameID != wantID {
							t.Errorf("%s: got NameID %q, err %v; want %q accepted", sp.name, nameID, err, wantID)
						}
					case err == nil:
						t.Errorf("%s accepted %s as %q", sp.name, w.attack, nameID)
					case !strings.Contains(err.Error(), sp.want):
						t.Errorf("%s refused for another reason: %v (want %q)", sp.name, firstLine(err.Error()), sp.want)
					}
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
