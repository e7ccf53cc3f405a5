package apikey

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoerr"
)

// FuzzVerify presents arbitrary strings as API keys to a manager that
// knows one: only that exact key is accepted, every other string is a
// classified refusal (never an upstream error or a success), and a string
// longer than maxKeyBytes is refused as malformed before the store is
// asked.
func FuzzVerify(f *testing.F) {
	m, _, _ := newManager(f)
	ctx := context.Background()
	plain, _, err := m.Create(ctx, "acme", "ci", "viewer", time.Time{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(plain)
	f.Add(plain + "x")
	f.Add(strings.ToUpper(plain))
	f.Add(plain[:len(plain)-1])
	f.Add("ssk_live_")
	f.Add("ssk_live_" + strings.Repeat("A", 300))
	f.Add("ssk_test_" + plain[9:])
	f.Add(" " + plain)
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := m.Verify(ctx, s)
		if err == nil {
			if s != plain || k.OrgID != "acme" {
				t.Fatalf("accepted %q as %+v", s, k)
			}
			return
		}
		var e *ssoerr.Error
		if !errors.As(err, &e) || !errors.Is(err, ssoerr.ErrInvalidToken) {
			t.Fatalf("%q: unclassified refusal %v", s, err)
		}
		if len(s) > maxKeyBytes && e.Reason != ssoerr.ReasonMalformed {
			t.Fatalf("%d bytes refused as %s, not unread as malformed", len(s), e.Reason)
		}
	})
}
