package controlplane

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
)

// TestValidateSSOSettings: every refusal of validateSSOSettings, each
// naming its field with 422 invalid_settings, and the normalized form of
// the settings it accepts.
func TestValidateSSOSettings(t *testing.T) {
	t.Parallel()
	pol := rbac.MustDefault()
	base := func(mod func(*api.SSOSettings)) api.SSOSettings {
		s := api.SSOSettings{ClerkOrgID: "org_acme", AllowedDomains: []string{"acme.test"}, DefaultRole: "viewer"}
		mod(&s)
		return s
	}
	domains := func(d ...string) api.SSOSettings { return base(func(s *api.SSOSettings) { s.AllowedDomains = d }) }
	tests := []struct {
		name     string
		in       api.SSOSettings
		refusal  string   // a word the message must hold; "" means accepted
		wantDoms []string // when accepted
	}{
		{"accepted", base(func(*api.SSOSettings) {}), "", []string{"acme.test"}},
		{"direct connection instead of Clerk", base(func(s *api.SSOSettings) {
			s.ClerkOrgID, s.Connection = "", json.RawMessage(`{"id":"initech","protocol":"oidc"}`)
		}), "", []string{"acme.test"}},
		{"no Clerk org and no connection", base(func(s *api.SSOSettings) { s.ClerkOrgID = "" }), "clerk_org_id", nil},
		{"no domains", domains(), "allowed_domains", nil},
		{"unknown default role", base(func(s *api.SSOSettings) { s.DefaultRole = "god" }), "default_role", nil},
		{"empty default role keeps the org's", base(func(s *api.SSOSettings) { s.DefaultRole = "" }), "", []string{"acme.test"}},
		{"group rule without a group", base(func(s *api.SSOSettings) { s.GroupRoles = []api.GroupRule{{Role: "admin"}} }), "group_roles", nil},
		{"group rule to an unknown role", base(func(s *api.SSOSettings) { s.GroupRoles = []api.GroupRule{{Group: "eng", Role: "god"}} }), "group_roles", nil},
		{"group rule accepted", base(func(s *api.SSOSettings) { s.GroupRoles = []api.GroupRule{{Group: "eng", Role: "editor"}} }), "", []string{"acme.test"}},
		{"connection null is no connection", base(func(s *api.SSOSettings) { s.ClerkOrgID, s.Connection = "", json.RawMessage(`null`) }), "clerk_org_id", nil},
		{"connection with an unknown field", base(func(s *api.SSOSettings) { s.Connection = json.RawMessage(`{"id":"x","issuer":"y"}`) }), "connection:", nil},
		{"connection not an object", base(func(s *api.SSOSettings) { s.Connection = json.RawMessage(`"saml"`) }), "connection:", nil},
		{"Clerk role map to an unknown role", base(func(s *api.SSOSettings) { s.ClerkRoleMap = map[string]string{"org:admin": "root"} }), "clerk_role_map", nil},

		// Domains: normalized to the form admission compares.
		{"case and trailing dot", domains("ACME.Test."), "", []string{"acme.test"}},
		{"fullwidth letters map to ASCII", domains("ａｃｍｅ.test"), "", []string{"acme.test"}},
		{"single-script IDN kept as xn--", domains("bücher.de"), "", []string{"xn--bcher-kva.de"}},
		{"whole-script Cyrillic lookalike is its own xn-- name", domains("асе.com"), "", []string{"xn--80ak9a.com"}},
		{"subdomain wildcard", domains("*.Acme.test"), "", []string{"*.acme.test"}},
		{"several", domains("acme.test", "*.eu.acme.test"), "", []string{"acme.test", "*.eu.acme.test"}},
		// Domains: refused.
		{"empty domain", domains(""), "allowed_domains", nil},
		{"invalid UTF-8", domains("0.\xf9"), "allowed_domains", nil},
		{"dot only", domains("."), "allowed_domains", nil},
		{"leading dot", domains(".acme.test"), "allowed_domains", nil},
		{"empty label", domains("acme..test"), "allowed_domains", nil},
		{"mixed-script lookalike (Cyrillic a)", domains("\u0430cme.com"), "mixes scripts", nil},
		{"mixed-script lookalike (Greek o)", domains("g\u03bfogle.com"), "mixes scripts", nil},
		{"invalid punycode", domains("xn--zz.com"), "allowed_domains", nil},
		{"an email, not a domain", domains("ceo@acme.test"), "allowed_domains", nil},
		{"a URL", domains("https://acme.test"), "allowed_domains", nil},
		{"a path", domains("acme.test/login"), "allowed_domains", nil},
		{"a port", domains("acme.test:443"), "allowed_domains", nil},
		{"a space", domains("acme .test"), "allowed_domains", nil},
		{"bare wildcard", domains("*"), "allowed_domains", nil},
		{"wildcard over a TLD", domains("*.com"), "wildcard over a public suffix", nil},
		{"wildcard over a public suffix", domains("*.co.uk"), "wildcard over a public suffix", nil},
		{"public suffix as a domain", domains("co.uk"), "public suffix", nil},
		{"top-level name", domains("localhost"), "top-level", nil},
		{"wildcard inside a label", domains("*acme.test"), "allowed_domains", nil},
		{"wildcard in the middle", domains("eu.*.acme.test"), "allowed_domains", nil},
		{"double wildcard", domains("*.*.acme.test"), "allowed_domains", nil},
		{"one bad among good", domains("acme.test", "*.com"), "public suffix", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := validateSSOSettings(tt.in, pol)
			if tt.refusal == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !slices.Equal(got.AllowedDomains, tt.wantDoms) {
					t.Fatalf("allowed_domains = %q, want %q", got.AllowedDomains, tt.wantDoms)
				}
				return
			}
			var e *apiError
			if !errors.As(err, &e) {
				t.Fatalf("accepted (%q), want a refusal about %q", got.AllowedDomains, tt.refusal)
			}
			status, code := http.StatusUnprocessableEntity, codeInvalidSettings
			if strings.HasPrefix(tt.refusal, "connection:") {
				status, code = http.StatusBadRequest, codeInvalidJSON
			}
			if e.Status != status || e.Code != code || !strings.Contains(e.Message, tt.refusal) {
				t.Fatalf("refusal = %d %s %q, want %d %s naming %q", e.Status, e.Code, e.Message, status, code, tt.refusal)
			}
		})
	}
}

// TestCheckSSOPlan: only entitled plans may save SSO settings.
func TestCheckSSOPlan(t *testing.T) {
	t.Parallel()
	for plan, entitled := range map[string]bool{"enterprise": true, "growth": true, "free": false, "": false, "Enterprise": false} {
		err := checkSSOPlan(admission.DefaultSSOPlans, plan)
		var e *apiError
		switch {
		case entitled && err != nil:
			t.Errorf("plan %q refused: %v", plan, err)
		case !entitled && (!errors.As(err, &e) || e.Status != http.StatusForbidden || e.Code != codePlanNotEntitled):
			t.Errorf("plan %q: %v, want 403 %s", plan, err, codePlanNotEntitled)
		}
	}
}

// TestSSOSettingsFollowConfiguredPlans: saving SSO settings is held to the
// plans Config.SSOPlans entitles, the list sign-ins are held to, not to the
// default one: a plan the host left out cannot configure SSO, and a plan it
// added can.
func TestSSOSettingsFollowConfiguredPlans(t *testing.T) {
	t.Parallel()
	a, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true,
		BootstrapAdminKey: testAdminKey, SSOPlans: []string{"enterprise", "pro"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct{ id, plan string }{{"grow", "growth"}, {"prof", "pro"}} {
		if err := a.st.CreateOrg(t.Context(), store.Org{ID: o.id, Name: o.id, Plan: o.plan, DefaultRole: "viewer"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		org    string
		status int
		code   string
	}{{"grow", http.StatusForbidden, codePlanNotEntitled}, {"prof", http.StatusOK, ""}} {
		w := serve(a, "PUT", "/v1/organizations/"+c.org+"/sso", `{"clerk_org_id":"org_`+c.org+`","allowed_domains":["`+c.org+`.test"]}`, asAdmin)
		if w.Code != c.status || errorCode(w) != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.org, w.Code, w.Body, c.status, c.code)
		}
	}
	if o, _ := a.st.GetOrg(t.Context(), "grow"); o.SSOConfigured || o.ClerkOrgID != "" {
		t.Errorf("the growth organization's settings were saved: %+v", o)
	}
}
