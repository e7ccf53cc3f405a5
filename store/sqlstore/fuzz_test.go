package sqlstore

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode"
)

// FuzzParseDSN reads arbitrary DSNs, as `ssokit migrate` and Open take
// them from an operator's environment: nothing panics, every refusal wraps
// ErrDSN, and no refusal repeats the password of a postgres URL (errors
// reach logs and terminals).
func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{"sqlite::memory:", "sqlite:./ssokit.db", "sqlite:", "sqlite://x.db", "sqlite:a\x00b",
		"postgres://app:Secr3tPassw0rd@db.internal:5432/ssokit?sslmode=verify-full",
		"postgres://app:Secr3tPassw0rd@db.internal:99999/ssokit", "postgresql://app:Secr3tPassw0rd@[::1/x",
		"postgres://app:Secr3tPassw0rd@db/x?sslmode=bogus", "postgres://app:Secr3tPassw0rd@db/x?connect_timeout=abc",
		"postgres://%zz:Secr3tPassw0rd@db/x", "mysql://root@x", ":", "", "postgres:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		_, err := parseDSN(dsn)
		if err == nil {
			return
		}
		if !errors.Is(err, ErrDSN) {
			t.Fatalf("%q: refusal %v does not wrap ErrDSN", dsn, err)
		}
		u, perr := url.Parse(dsn)
		if perr != nil || u.User == nil {
			return
		}
		pw, ok := u.User.Password()
		if !ok || len(pw) < 8 || strings.Count(dsn, pw) != 1 || !strings.ContainsFunc(pw, unicode.IsDigit) ||
			!strings.ContainsFunc(pw, unicode.IsLetter) {
			return // too short or common to tell an echo from a coincidence
		}
		if strings.Contains(err.Error(), pw) {
			t.Fatalf("%q: the refusal repeats the password: %v", dsn, err)
		}
	})
}

// TestDSNWithAnAtInThePassword: a raw @ in a PostgreSQL password moves the
// rest of it into the host, which a connection error would print; such a
// DSN is refused without the password.
func TestDSNWithAnAtInThePassword(t *testing.T) {
	for _, dsn := range []string{"postgres://bob:Tr0ub4dor@Horse99@127.0.0.1:1/db", "postgres://bob:a@Secr3tPart@h1,h2/db",
		"postgres://bob:Tr0ub@Hor?se99@127.0.0.1/db", "postgres://bob:Tr0ub@Ho:rse99@127.0.0.1:5432/db", "postgres://bob:Tr0ub@Horse99/x@127.0.0.1/db"} {
		_, err := parseDSN(dsn)
		if !errors.Is(err, ErrDSN) || strings.Contains(err.Error(), "Horse99") || strings.Contains(err.Error(), "Secr3tPart") ||
			strings.Contains(err.Error(), "rse99") || strings.Contains(err.Error(), "Hor") || !strings.Contains(err.Error(), "%40") {
			t.Errorf("%q: %v", dsn, err)
		}
	}
	if _, err := parseDSN("postgres://bob:Tr0ub4dor%40Horse99@127.0.0.1:1/db"); err != nil {
		t.Errorf("the password percent-encoded: %v", err)
	}
}
