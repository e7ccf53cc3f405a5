package appsession

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoerr"
)

// FuzzVerify presents arbitrary strings as session cookies. Only the
// token the manager issued verifies, and it round-trips its claims; any
// other string is a classified refusal (ErrInvalidToken or ErrExpired with
// a reason), and one longer than MaxTokenBytes is refused as too large
// without being decoded.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	m, err := New(Config{Keys: []Key{EphemeralKey()}, Issuer: "https://app.test", Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	want := Claims{Subject: "u1", OrgID: "acme", Role: "admin", AuthMethod: "sso", IdPName: "okta", Email: "a@acme.test"}
	tok, _, err := m.Issue(want)
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	f.Add(tok)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(seg(`{"alg":"none"}`) + "." + parts[1] + ".")
	f.Add(seg(`{"alg":"HS256","kid":"x"}`) + "." + parts[1] + "." + parts[2])
	f.Add(seg(`{"alg":"EdDSA","alg":"RS256"}`) + "." + parts[1] + "." + parts[2])
	f.Add(parts[0] + "." + seg(`{"sub":"u1","SUB":"u2"}`) + "." + parts[2])
	f.Add(parts[0] + "." + parts[1] + "=." + parts[2])
	f.Add(strings.Repeat("A", DefaultMaxTokenBytes+1))
	f.Add("..")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := m.Verify(s)
		if err == nil {
			if s != tok || c.Subject != want.Subject || c.OrgID != want.OrgID || c.Role != want.Role || c.Email != want.Email {
				t.Fatalf("accepted %q as %+v", s, c)
			}
			return
		}
		var e *ssoerr.Error
		if !errors.As(err, &e) || e.Reason == "" || !(errors.Is(err, ssoerr.ErrInvalidToken) || errors.Is(err, ssoerr.ErrExpired)) {
			t.Fatalf("%q: unclassified refusal %v", s, err)
		}
		if len(s) > DefaultMaxTokenBytes && e.Reason != ssoerr.ReasonTooLarge {
			t.Fatalf("%d bytes refused as %s, not unread as too large", len(s), e.Reason)
		}
	})
}
