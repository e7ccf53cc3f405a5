package admission

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// EmailDomain returns the domain of an email address in the form
// CanonicalEmail gives it: lower-case ASCII (IDNA A-labels). ok is false
// for any address CanonicalEmail refuses.
func EmailDomain(email string) (domain string, ok bool) {
	c, err := CanonicalEmail(email)
	if err != nil {
		return "", false
	}
	return c[strings.LastIndexByte(c, '@')+1:], true
}

// idnaProfile is the lookup profile with the strict checks on: a name that
// does not survive them is no domain anyone can own.
var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(true), idna.ValidateLabels(true))

func normalizeDomain(d string) (string, bool) {
	d = strings.TrimSuffix(d, ".")
	if d == "" || strings.HasPrefix(d, ".") {
		return "", false
	}
	if !utf8.ValidString(d) {
		return "", false // the IDNA mapping would turn bad bytes into U+FFFD, a name no one owns
	}
	a, err := idnaProfile.ToASCII(d)
	if err != nil || a == "" {
		return "", false
	}
	a = strings.ToLower(a)
	if slices.Contains(strings.Split(a, "."), "") {
		return "", false // "acme..com", "acme.com.." : an empty label (the profile lets some through)
	}
	// The ASCII form must be its own normal form: one that is not names no
	// domain anyone can register.
	if again, err := idnaProfile.ToASCII(a); err != nil || again != a {
		return "", false
	}
	return a, true
}

// NormalizeDomainPattern returns an allowed_domains entry in its stored
// form: "acme.com" or "*.acme.com" (subdomains only, never the apex),
// IDNA-mapped to lower-case ASCII, trailing dot removed. why is non-empty
// when the entry is refused:
//   - not a host name (empty, spaces, "@", "/", a port, a "*" anywhere but
//     a leading "*." label, invalid IDNA);
//   - a public suffix ("com", "co.uk") or a wildcard over one ("*.com"):
//     that would admit every organization under it;
//   - a label mixing scripts (Latin "a" beside Cyrillic "а"), the shape of
//     a lookalike of another name; single-script IDNs are kept in their
//     xn-- form, which differs from any lookalike's.
func NormalizeDomainPattern(p string) (normalized, why string) {
	wild := strings.HasPrefix(p, "*.")
	host := strings.TrimSuffix(strings.TrimPrefix(p, "*."), ".")
	if host == "" || strings.HasPrefix(host, ".") {
		return "", "is not a domain name"
	}
	if !utf8.ValidString(host) {
		return "", "is not a domain name" // IDNA would map the bad bytes to U+FFFD
	}
	ascii, err := idnaProfile.ToASCII(host)
	if err != nil || ascii == "" {
		return "", "is not a domain name"
	}
	ascii = strings.ToLower(ascii)
	if again, err := idnaProfile.ToASCII(ascii); err != nil || again != ascii {
		return "", "is not a domain name" // the stored form must normalize to itself
	}
	if slices.Contains(strings.Split(ascii, "."), "") {
		return "", "is not a domain name" // the IDNA profile lets "acme..com" through
	}
	if suffix, _ := publicsuffix.PublicSuffix(ascii); suffix == ascii {
		switch {
		case wild:
			return "", "is a wildcard over a public suffix"
		case !strings.Contains(ascii, "."):
			return "", "is a top-level name, not an organization's domain"
		}
		return "", "is a public suffix, not an organization's domain"
	}
	if uni, err := idnaProfile.ToUnicode(ascii); err == nil {
		for label := range strings.SplitSeq(uni, ".") {
			if mixedScripts(label) {
				return "", "mixes scripts in one label (a lookalike of another name?)"
			}
		}
	}
	if wild {
		return "*." + ascii, ""
	}
	return ascii, ""
}

// lookalikeScripts are the scripts whose letters pass for one another.
var lookalikeScripts = map[string]*unicode.RangeTable{
	"Latin": unicode.Latin, "Cyrillic": unicode.Cyrillic, "Greek": unicode.Greek, "Armenian": unicode.Armenian,
	"Cherokee": unicode.Cherokee, "Georgian": unicode.Georgian,
}

// mixedScripts reports whether a label holds letters of more than one of
// lookalikeScripts (the homograph pattern browsers also refuse to show in
// Unicode form).
func mixedScripts(label string) bool {
	seen := ""
	for _, r := range label {
		for name, table := range lookalikeScripts {
			if unicode.Is(table, r) {
				if seen != "" && seen != name {
					return true
				}
				seen = name
			}
		}
	}
	return false
}

// DomainAllowed reports whether domain (as EmailDomain returns it) is
// admitted by patterns: exact names, or "*.acme.com" for subdomains of
// acme.com only, never acme.com itself. Patterns are normalized here too,
// so a pattern stored before normalization existed still matches exactly.
func DomainAllowed(domain string, patterns []string) bool {
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
