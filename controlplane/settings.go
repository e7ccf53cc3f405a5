package controlplane

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// SSOSettings is PUT /v1/organizations/{org}/sso's body.
type SSOSettings struct {
	ClerkOrgID      string            `json:"clerk_org_id"`
	AllowedDomains  []string          `json:"allowed_domains"`
	DefaultRole     string            `json:"default_role"`
	AutoCreateUsers bool              `json:"auto_create_users"`
	RequireSSO      bool              `json:"require_sso"`
	GroupRoles      []store.GroupRule `json:"group_roles,omitempty"`
	ClerkRoleMap    map[string]string `json:"clerk_role_map,omitempty"`
	Connection      *idp.Connection   `json:"connection,omitempty"`
}

// validateSSOSettings checks SSO settings against the role policy and
// returns them normalized (allowed domains in the lower-case ASCII form
// admission compares against), or an *apiError 422 invalid_settings whose
// message names the field. It is pure: no store, no network. The direct
// connection's own validation (metadata, discovery) and the plan
// (checkSSOPlan) are checked apart, because they need the network and the
// stored organization.
func validateSSOSettings(s SSOSettings, pol *rbac.Policy) (SSOSettings, error) {
	invalid := func(format string, args ...any) (SSOSettings, error) {
		return SSOSettings{}, &apiError{Status: http.StatusUnprocessableEntity, Code: codeInvalidSettings, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case s.ClerkOrgID == "" && s.Connection == nil:
		return invalid("give clerk_org_id or a direct connection")
	case len(s.AllowedDomains) == 0:
		return invalid("allowed_domains must name at least one domain")
	case s.DefaultRole != "" && !pol.Has(rbac.Role(s.DefaultRole)):
		return invalid("default_role is not a defined role")
	}
	for _, g := range s.GroupRoles {
		if g.Group == "" || !pol.Has(rbac.Role(g.Role)) {
			return invalid("group_roles need a group and a defined role")
		}
	}
	for _, role := range s.ClerkRoleMap {
		if !pol.Has(rbac.Role(role)) {
			return invalid("clerk_role_map maps to an undefined role")
		}
	}
	domains := make([]string, 0, len(s.AllowedDomains))
	for _, d := range s.AllowedDomains {
		n, why := normalizeDomainPattern(d)
		if why != "" {
			return invalid("allowed_domains: %q %s", d, why)
		}
		domains = append(domains, n)
	}
	s.AllowedDomains = domains
	return s, nil
}

// domainProfile is the IDNA profile admission uses for email domains
// (UTS #46 lookup mapping, bidi rule, STD3 host names), so a saved pattern
// is compared in the same form as a signing-in person's domain.
var domainProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(true), idna.ValidateLabels(true))

// normalizeDomainPattern returns an allowed_domains entry in its stored
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
func normalizeDomainPattern(p string) (normalized, why string) {
	wild := strings.HasPrefix(p, "*.")
	host := strings.TrimSuffix(strings.TrimPrefix(p, "*."), ".")
	if host == "" || strings.HasPrefix(host, ".") {
		return "", "is not a domain name"
	}
	ascii, err := domainProfile.ToASCII(host)
	if err != nil || ascii == "" {
		return "", "is not a domain name"
	}
	ascii = strings.ToLower(ascii)
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
	if uni, err := domainProfile.ToUnicode(ascii); err == nil {
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
