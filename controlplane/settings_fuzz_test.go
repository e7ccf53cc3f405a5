package controlplane

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/rbac"
)

// FuzzSSOSettings feeds PUT .../sso bodies through the handler's decoding
// and validateSSOSettings. Whatever the input: no panic; an accepted body's
// domains are in stored form (lower-case ASCII, no trailing dot, at most a
// leading "*." wildcard) and normalizing them again changes nothing; its
// roles are defined by the policy.
func FuzzSSOSettings(f *testing.F) {
	for _, seed := range []string{
		`{"clerk_org_id":"org_1","allowed_domains":["acme.com","*.eu.acme.com"],"default_role":"viewer"}`,
		`{"clerk_org_id":"org_1","allowed_domains":["ＡＣＭＥ.com.","bücher.de"],"group_roles":[{"group":"g","role":"admin"}]}`,
		`{"allowed_domains":["acme.test"],"connection":{"id":"x","protocol":"saml","saml":{"entity_id":"e","acs_url":"a"}}}`,
		`{"clerk_org_id":"org_1","allowed_domains":["*.co.uk","\u0430cme.com","a..b","*"]}`,
		`{"clerk_org_id":"o","allowed_domains":["x.test"],"clerk_role_map":{"org:admin":"admin"},"connection":null}`,
	} {
		f.Add([]byte(seed))
	}
	pol := rbac.MustDefault()
	f.Fuzz(func(t *testing.T, body []byte) {
		var in api.SSOSettings
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if dec.Decode(&in) != nil {
			return
		}
		s, err := validateSSOSettings(in, pol)
		if err != nil {
			if _, ok := err.(*apiError); !ok {
				t.Fatalf("refusal %T %v is not an *apiError", err, err)
			}
			return
		}
		if len(s.AllowedDomains) == 0 || (s.ClerkOrgID == "" && s.Connection == nil) {
			t.Fatalf("accepted without domains or an SSO path: %+v", s)
		}
		for _, d := range s.AllowedDomains {
			again, why := admission.NormalizeDomainPattern(d)
			if why != "" || again != d {
				t.Fatalf("stored domain %q normalizes to %q (%s)", d, again, why)
			}
			host := strings.TrimPrefix(d, "*.")
			if host != strings.ToLower(host) || strings.ContainsAny(host, "*/@: ") || strings.HasSuffix(host, ".") {
				t.Fatalf("stored domain %q is not in stored form", d)
			}
			for _, r := range host {
				if r > 0x7f {
					t.Fatalf("stored domain %q is not ASCII", d)
				}
			}
		}
		if s.DefaultRole != "" && !pol.Has(rbac.Role(s.DefaultRole)) {
			t.Fatalf("accepted default role %q", s.DefaultRole)
		}
		for _, g := range s.GroupRoles {
			if g.Group == "" || !pol.Has(rbac.Role(g.Role)) {
				t.Fatalf("accepted group rule %+v", g)
			}
		}
		for _, role := range s.ClerkRoleMap {
			if !pol.Has(rbac.Role(role)) {
				t.Fatalf("accepted Clerk role mapping to %q", role)
			}
		}
	})
}
