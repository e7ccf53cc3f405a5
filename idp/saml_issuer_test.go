package idp

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/crewjam/saml"
	"github.com/ssokit/ssokit/sso"
)

// TestSAMLAssertionIssuerReason: an assertion whose Issuer is not the
// IdP's entity ID, in a response whose own Issuer is, is refused for its
// issuer (ReasonIssuer), whichever element is signed. crewjam words that
// refusal "issuer is not ...", where the Response's reads "response
// Issuer does not match ...".
func TestSAMLAssertionIssuerReason(t *testing.T) {
	t.Parallel()
	for _, sign := range []string{"response", "assertion", "both"} {
		t.Run(sign, func(t *testing.T) {
			t.Parallel()
			raw := buildResponse(t, shape{sign: sign, issuer: "https://other.test/entity"})
			id, err := builtConnector(t, sso.Okta, false).consume(context.Background(), raw, []string{builtReqID})
			if id != nil || !errors.Is(err, ErrInvalidResponse) || ReasonOf(err) != ReasonIssuer {
				t.Fatalf("got %+v, %v; want ErrInvalidResponse (%s)", id, err, ReasonIssuer)
			}
		})
	}
}

// TestClassifySAMLBySentinel: a crewjam refusal whose words the table
// does not know is classified by the sentinel it wraps, not reported as a
// bad signature.
func TestClassifySAMLBySentinel(t *testing.T) {
	for _, c := range []struct {
		err    error
		reason string
	}{
		{saml.ErrDecryptionFailed, ReasonDecryption},
		{saml.ErrUntrustedCertificate, ReasonUntrustedCert},
		{saml.ErrAudienceMismatch, ReasonAudience},
		{saml.ErrDestinationMismatch, ReasonDestination},
		{saml.ErrRequestIDMismatch, ReasonInResponseTo},
		{saml.ErrNotYetValid, ReasonNotYetValid},
		{saml.ErrExpired, ReasonExpired},
		{saml.ErrAssertionReplayed, ReasonReplay},
		{saml.ErrMalformedMessage, ReasonMalformed},
		{saml.ErrInvalidSignature, ReasonSignature},
	} {
		err := classifySAML(&saml.InvalidResponseError{PrivateErr: fmt.Errorf("words of a new release: %w", c.err)})
		if ReasonOf(err) != c.reason {
			t.Errorf("%v: reason %s, want %s", c.err, ReasonOf(err), c.reason)
		}
	}
}
