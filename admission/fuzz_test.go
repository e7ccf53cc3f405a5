package admission

import (
	"strings"
	"testing"

	"github.com/ssokit/ssokit/ssoerr"
)

// FuzzNormalizeDomainPattern: an accepted allowed_domains entry is stored
// in a form that normalizes to itself, in lower-case ASCII, never a public
// suffix; a refusal always says why.
func FuzzNormalizeDomainPattern(f *testing.F) {
	for _, seed := range []string{"acme.com", "*.acme.com", "ACME.com.", "bücher.de", "\u0430cme.com", "*.co.uk", "xn--80ak9a.com",
		"ａｃｍｅ.com", "a..b", "*", "localhost", "-acme.com", "acme.com:443", "user@acme.com", "*.*.acme.com"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, p string) {
		n, why := NormalizeDomainPattern(p)
		if why != "" {
			if n != "" {
				t.Fatalf("%q refused (%s) but normalized to %q", p, why, n)
			}
			return
		}
		if again, why := NormalizeDomainPattern(n); why != "" || again != n {
			t.Fatalf("%q -> %q -> %q (%s)", p, n, again, why)
		}
		for _, r := range n {
			if r > 0x7f || ('A' <= r && r <= 'Z') {
				t.Fatalf("%q -> %q: not lower-case ASCII", p, n)
			}
		}
		if strings.Count(n, "*") > 1 || (strings.Contains(n, "*") && !strings.HasPrefix(n, "*.")) {
			t.Fatalf("%q -> %q: a wildcard other than a leading *.", p, n)
		}
	})
}

// FuzzEmailDomain: whatever the address, EmailDomain never panics, and a
// domain it returns is lower-case ASCII that normalizes to itself, which
// DomainAllowed matches exactly against itself and never against a pattern
// that is a proper suffix without the wildcard.
func FuzzEmailDomain(f *testing.F) {
	for _, s := range []string{"alice@acme.com", "Alice@ACME.COM.", "a@bücher.example", "a@аcme.com", "a@acme.com@evil", "<a@b.c>", "a@.x", "a@x..y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, email string) {
		d, ok := EmailDomain(email)
		if !ok {
			return
		}
		for _, r := range d {
			if r > 0x7f || (r >= 'A' && r <= 'Z') {
				t.Fatalf("%q: domain %q is not lower-case ASCII", email, d)
			}
		}
		if again, ok := normalizeDomain(d); !ok || again != d {
			t.Fatalf("%q: domain %q normalizes to %q", email, d, again)
		}
		if !DomainAllowed(d, []string{d}) {
			t.Fatalf("%q: %q not allowed by itself", email, d)
		}
		if i := strings.IndexByte(d, '.'); i > 0 && DomainAllowed(d, []string{d[i+1:]}) {
			t.Fatalf("%q: %q allowed by its parent %q without a wildcard", email, d, d[i+1:])
		}
	})
}

// FuzzCanonicalEmail: whatever the input, CanonicalEmail never panics; an
// accepted address is its own canonical form, within the length limits,
// with exactly one @ and the domain EmailDomain gives; a refusal carries
// one of its two reasons.
func FuzzCanonicalEmail(f *testing.F) {
	for _, s := range []string{"alice@acme.com", "ALICE+x@Acme.Com", "jose\u0301@b\u00fccher.example", "a@acme.com.", "\"a\"@b.c",
		"a@ac\u200bme.com", "a@\uff41cme.com", "a@acme\u3002com", "a..b@c.d", "\u0430lice@acme.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, email string) {
		c, err := CanonicalEmail(email)
		if err != nil {
			if r := ssoerr.ReasonOf(err); c != "" || (r != ssoerr.ReasonDomainNotAllowed && r != ssoerr.ReasonInvalidEmail) {
				t.Fatalf("%q refused as %q with %v", email, c, err)
			}
			return
		}
		if again, err := CanonicalEmail(c); err != nil || again != c {
			t.Fatalf("%q -> %q -> %q, %v", email, c, again, err)
		}
		local, domain, _ := strings.Cut(c, "@")
		if len(c) > MaxEmailLength || len(local) > MaxLocalLength || strings.Count(c, "@") != 1 {
			t.Fatalf("%q -> %q: over the limits", email, c)
		}
		if d, ok := EmailDomain(email); !ok || d != domain {
			t.Fatalf("%q: EmailDomain %q %v, canonical domain %q", email, d, ok, domain)
		}
	})
}
