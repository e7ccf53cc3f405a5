package appsession

import (
	"errors"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/internal/clerktest"
	"github.com/ssokit/ssokit/ssoerr"
)

// A signature segment is one spelling of the signature: base64url whose
// unused trailing bits are not zero decodes to the same bytes, but it is
// another token, and only the issued one verifies.
func TestSignatureReencodingRefused(t *testing.T) {
	t.Parallel()
	clk := clerktest.NewClock()
	for name, k := range map[string]Key{"EdDSA": EphemeralKey(), "RS256": {ID: "r", Key: clerktest.Keys()[0]}} {
		m := newManager(t, clk, k)
		tok, _, err := m.Issue(Claims{Subject: "usr_1", OrgID: "acme", Role: "viewer", AuthMethod: "sso"})
		if err != nil {
			t.Fatal(err)
		}
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		last := strings.IndexByte(alphabet, tok[len(tok)-1])
		// 64- and 256-byte signatures leave 4 unused bits in the last
		// character: setting the lowest gives the same bytes.
		other := tok[:len(tok)-1] + string(alphabet[last|1])
		if other == tok {
			t.Fatalf("%s: the last character already has its low bit set", name)
		}
		_, err = m.Verify(other)
		if err == nil {
			t.Errorf("%s: a re-encoded signature verified", name)
			continue
		}
		if !errors.Is(err, ssoerr.ErrInvalidToken) || ssoerr.ReasonOf(err) != ssoerr.ReasonMalformed {
			t.Errorf("%s: %v (reason %q), want malformed", name, err, ssoerr.ReasonOf(err))
		}
	}
}
