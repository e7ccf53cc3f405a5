package admission

import "testing"

func TestDomainAllowed(t *testing.T) {
	t.Parallel()
	allowed := []string{"acme.com", "*.corp.acme.com", "bücher.example"}
	for email, want := range map[string]bool{
		"alice@acme.com":             true,
		"Alice@ACME.COM":             true,
		"alice@acme.com.":            false, // trailing dot: not the canonical form
		"bob@eu.corp.acme.com":       true,  // wildcard subdomain
		"bob@corp.acme.com":          false, // the wildcard's apex is not included
		"alice@sub.acme.com":         false, // exact entries do not cover subdomains
		"alice@acme.com.evil.test":   false,
		"alice@evil-acme.com":        false,
		"user@acme.com@evil.test":    false,
		"alice@аcme.com":             false, // Cyrillic а: a lookalike
		"carl@bücher.example":        true,
		"carl@xn--bcher-kva.example": true, // the same domain in ASCII form
		"":                           false,
		"acme.com":                   false,
		"@acme.com":                  false,
		"alice@":                     false,
		"alice <alice@acme.com>":     false,
		"alice@.acme.com":            false,
		"alice@acme..com":            false, // an empty label
		"alice@acme.com..":           false,
		"alice@\x8facme.com":         false, // not UTF-8: would map to U+FFFD

	} {
		d, ok := EmailDomain(email)
		if got := ok && DomainAllowed(d, allowed); got != want {
			t.Errorf("%q: allowed %v, want %v (domain %q)", email, got, want, d)
		}
	}
}
