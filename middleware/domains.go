package middleware

import (
	"strings"

	"golang.org/x/net/idna"
)

// emailDomain returns the normalized domain of an email: exactly one @, a
// non-empty local part, the domain IDNA-mapped to its ASCII form (a
// lookalike in another script becomes a different xn-- name), lower case,
// trailing dot removed. ok is false for anything else.
func emailDomain(email string) (string, bool) {
	email = strings.TrimSpace(email)
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || strings.ContainsAny(email, " \t\r\n<>()[],;:\\\"") {
		return "", false
	}
	return normalizeDomain(domain)
}

var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(true), idna.ValidateLabels(true))

func normalizeDomain(d string) (string, bool) {
	d = strings.TrimSuffix(d, ".")
	if d == "" || strings.HasPrefix(d, ".") {
		return "", false
	}
	a, err := idnaProfile.ToASCII(d)
	if err != nil || a == "" {
		return "", false
	}
	return strings.ToLower(a), true
}

// domainAllowed reports whether domain (normalized) is admitted by the
// patterns: exact names, or "*.acme.com" for subdomains of acme.com only
// (never acme.com itself).
func domainAllowed(domain string, patterns []string) bool {
	for _, p := range patterns {
		wild := strings.HasPrefix(p, "*.")
		n, ok := normalizeDomain(strings.TrimPrefix(p, "*."))
		if !ok {
			continue
		}
		if wild {
			if strings.HasSuffix(domain, "."+n) {
				return true
			}
		} else if domain == n {
			return true
		}
	}
	return false
}
