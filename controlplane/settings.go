package controlplane

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// ssoSettings are SSO settings as validateSSOSettings accepts them, in the
// store's types.
type ssoSettings struct {
	ClerkOrgID      string
	AllowedDomains  []string
	DefaultRole     string
	AutoCreateUsers bool
	RequireSSO      bool
	GroupRoles      []store.GroupRule
	ClerkRoleMap    map[string]string
	// Connection is nil for SSO through Clerk.
	Connection *idp.Connection
}

// validateSSOSettings checks the body of PUT /v1/organizations/{org}/sso
// against the role policy and returns it normalized (allowed domains in the
// lower-case ASCII form admission compares against), or an *apiError: 422
// invalid_settings whose message names the field, or 400 invalid_json when
// the connection is not an idp.Connection. It is pure: no store, no
// network. The direct connection's own validation (metadata, discovery)
// and the plan (checkSSOPlan) are checked apart, because they need the
// network and the stored organization.
func validateSSOSettings(in api.SSOSettings, pol *rbac.Policy) (ssoSettings, error) {
	invalid := func(format string, args ...any) (ssoSettings, error) {
		return ssoSettings{}, &apiError{Status: http.StatusUnprocessableEntity, Code: codeInvalidSettings, Message: fmt.Sprintf(format, args...)}
	}
	s := ssoSettings{ClerkOrgID: in.ClerkOrgID, DefaultRole: in.DefaultRole, AutoCreateUsers: in.AutoCreateUsers,
		RequireSSO: in.RequireSSO, GroupRoles: groupRulesIn(in.GroupRoles), ClerkRoleMap: in.ClerkRoleMap}
	if len(in.Connection) > 0 && string(in.Connection) != "null" {
		dec := json.NewDecoder(bytes.NewReader(in.Connection))
		dec.DisallowUnknownFields()
		s.Connection = new(idp.Connection)
		if err := dec.Decode(s.Connection); err != nil {
			return ssoSettings{}, &apiError{Status: http.StatusBadRequest, Code: codeInvalidJSON, Message: "connection: " + err.Error()}
		}
	}
	switch {
	case s.ClerkOrgID == "" && s.Connection == nil:
		return invalid("give clerk_org_id or a direct connection")
	case len(in.AllowedDomains) == 0:
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
	s.AllowedDomains = make([]string, 0, len(in.AllowedDomains))
	for _, d := range in.AllowedDomains {
		n, why := normalizeDomainPattern(d)
		if why != "" {
			return invalid("allowed_domains: %q %s", d, why)
		}
		s.AllowedDomains = append(s.AllowedDomains, n)
	}
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
	if !utf8.ValidString(host) {
		return "", "is not a domain name" // IDNA would map the bad bytes to U+FFFD
	}
	ascii, err := domainProfile.ToASCII(host)
	if err != nil || ascii == "" {
		return "", "is not a domain name"
	}
	ascii = strings.ToLower(ascii)
	if again, err := domainProfile.ToASCII(ascii); err != nil || again != ascii {
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
