package idp

import (
	"context"
	"errors"
	"testing"

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
