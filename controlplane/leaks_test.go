package controlplane_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/sso"
)

// leakForms are the ways a secret could appear in a body: raw, base64
// (standard and URL, padded or not) and JSON-escaped.
func leakForms(secret string) []string {
	esc, _ := json.Marshal(secret)
	return []string{secret, base64.StdEncoding.EncodeToString([]byte(secret)), base64.RawStdEncoding.EncodeToString([]byte(secret)),
		base64.URLEncoding.EncodeToString([]byte(secret)), base64.RawURLEncoding.EncodeToString([]byte(secret)),
		strings.Trim(string(esc), `"`)}
}

// call sends method path body (JSON) as the platform administrator and
// returns the status and the body.
func (p *plane) call(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, p.app.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readAll(resp)
}

// No answer of any route that returns an organization, nor any other
// route of the organization, holds its OIDC client secret in any
// encoding; the organization says a secret is set instead.
func TestOrgResponsesNeverHoldTheClientSecret(t *testing.T) {
	t.Parallel()
	p := newPlaneWith(t, nil, func(c *controlplane.Config) { c.InsecureAllowLoopbackIdP = true })
	ctx := context.Background()
	// A secret with characters JSON escapes, so the escaped form differs.
	const secret = `s3cr3t-<client>&"secret"/+=`
	azure := p.mock.Persona("azure")
	if _, err := p.admin.Organizations.Create(ctx, "oidcorg", "OIDC Org", "enterprise"); err != nil {
		t.Fatal(err)
	}
	conn := &idp.Connection{ID: "oidcorg", Protocol: sso.OIDC, Vendor: sso.AzureAD, OIDC: &idp.OIDCSettings{Issuer: azure.Issuer(),
		ClientID: "client-id", ClientSecret: secret, RedirectURL: p.app.URL + "/auth/sso/oidc/oidcorg"}}
	settings, _ := json.Marshal(api.SSOSettings{Connection: rawJSON(t, conn), AllowedDomains: []string{"contoso.test"}})

	var bodies []string
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/v1/organizations/oidcorg/sso", string(settings)},
		{"PATCH", "/v1/organizations/oidcorg", `{"require_sso":true}`},
		{"PATCH", "/v1/organizations/oidcorg", `{"name":"Renamed"}`},
		{"GET", "/v1/organizations/oidcorg/sso/status", ""},
		{"POST", "/v1/organizations/oidcorg/sso/test", `{}`},
		{"GET", "/v1/organizations/oidcorg/users", ""},
		{"GET", "/v1/organizations/oidcorg/api-keys", ""},
		{"POST", "/v1/organizations", `{"id":"oidcorg","name":"again"}`},
		{"PUT", "/v1/organizations/oidcorg/sso", `{"allowed_domains":["contoso.test"],"connection":{"id":7}}`},
	} {
		status, body := p.call(t, c.method, c.path, c.body)
		if status >= 500 {
			t.Errorf("%s %s: %d %s", c.method, c.path, status, body)
		}
		bodies = append(bodies, c.method+" "+c.path+": "+body)
	}
	for _, b := range bodies {
		for _, form := range leakForms(secret) {
			if strings.Contains(b, form) {
				t.Errorf("the client secret (as %q) is in %s", form, b)
			}
		}
	}
	// The org answers say a secret is set and still carry the rest.
	var org api.Org
	if err := json.Unmarshal([]byte(strings.SplitN(bodies[0], ": ", 2)[1]), &org); err != nil || org.Connection == nil {
		t.Fatalf("PUT sso: %s", bodies[0])
	}
	var view struct {
		OIDC map[string]any `json:"oidc"`
	}
	if err := json.Unmarshal(org.Connection, &view); err != nil || view.OIDC["client_secret_set"] != true || view.OIDC["client_id"] != "client-id" {
		t.Fatalf("the connection as returned: %s (%v)", org.Connection, err)
	}
	if _, ok := view.OIDC["client_secret"]; ok {
		t.Fatalf("client_secret present: %s", org.Connection)
	}
	// It is stored, and used, all the same.
	stored, _ := p.st.GetOrg(ctx, "oidcorg")
	if !strings.Contains(string(stored.Connection), "s3cr3t") {
		t.Fatal("the stored connection lost its secret")
	}
}

// internals are what a refusal must never show: Go type and package
// names, struct definitions, internal addresses and file paths.
var internals = regexp.MustCompile(`Go |struct|main\.|controlplane\.|api\.|idp\.|store\.|json: |127\.0\.0\.1:\d+|\[::1\]:\d+|localhost:\d+|\.go:\d+|/work/|/home/|/usr/|/tmp/|goroutine|panic`)

// Bad bodies on every JSON route are refused with a stable code and a
// message in the API's words: never encoding/json's (Go types, struct
// fields), an address or a path.
func TestBadBodiesLeakNothing(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	deep := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	deepArr := `{"allowed_domains":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "}"
	bodies := map[string]string{
		"empty":                 ``,
		"whitespace":            "  \n ",
		"null":                  `null`,
		"array":                 `[]`,
		"string":                `"x"`,
		"number":                `1`,
		"truncated":             `{"name":`,
		"syntax":                `{name: 1}`,
		"trailing data":         `{} {}`,
		"trailing brace":        `{}}`,
		"trailing garbage":      `{}garbage`,
		"unknown field":         `{"nope":1}`,
		"unknown long field":    `{"` + strings.Repeat("x", 5000) + `":1}`,
		"unknown odd field":     `{"<script>\u0000":1}`,
		"string for bool":       `{"require_sso":"yes","auto_create_users":"yes"}`,
		"number for string":     `{"id":1,"name":1,"role":1,"plan":1,"clerk_org_id":1}`,
		"object for string":     `{"name":{},"role":{},"id":{}}`,
		"huge number":           `{"role":1e999999,"id":123456789012345678901234567890,"require_sso":1e400}`,
		"huge exponent time":    `{"name":"k","role":"viewer","expires_at":1e999}`,
		"bad time":              `{"name":"k","role":"viewer","expires_at":"tomorrow"}`,
		"array for map":         `{"allowed_domains":["a.test"],"clerk_role_map":[1],"clerk_org_id":"o"}`,
		"map value wrong":       `{"allowed_domains":["a.test"],"clerk_role_map":{"org:x":5},"clerk_org_id":"o"}`,
		"connection wrong type": `{"allowed_domains":["a.test"],"connection":{"id":7,"oidc":{"scopes":"x"}}}`,
		"connection unknown":    `{"allowed_domains":["a.test"],"connection":{"id":"x","secret_field":1}}`,
		"connection array":      `{"allowed_domains":["a.test"],"connection":[1,2]}`,
		"deep nesting":          deep,
		"deep arrays":           deepArr,
		"invalid UTF-8":         "{\"name\":\"\xff\xfe\",\"id\":\"x\xc0\"}",
		"invalid UTF-8 key":     "{\"\xff\":1}",
		"BOM":                   "\xef\xbb\xbf{}",
		"NUL":                   "{\"name\":\"a\x00\"}",
	}
	routes := []struct{ method, path string }{
		{"POST", "/v1/organizations"},
		{"PATCH", "/v1/organizations/acme"},
		{"PUT", "/v1/organizations/acme/sso"},
		{"POST", "/v1/organizations/acme/sso/test"},
		{"POST", "/v1/organizations/acme/api-keys"},
		{"PATCH", "/v1/organizations/acme/users/u_nobody"},
		{"POST", "/v1/auth/login"},
	}
	for name, body := range bodies {
		for _, rt := range routes {
			status, resp := p.call(t, rt.method, rt.path, body)
			var e api.Error
			if err := json.Unmarshal([]byte(resp), &e); err != nil || status >= 500 {
				t.Errorf("%s %s, %s: %d %s", rt.method, rt.path, name, status, resp)
				continue
			}
			if status >= 300 && e.Code == "" {
				t.Errorf("%s %s, %s: %d without a code: %s", rt.method, rt.path, name, status, resp)
			}
			if m := internals.FindString(resp); m != "" {
				t.Errorf("%s %s, %s: %q in %s", rt.method, rt.path, name, m, resp)
			}
			if len(resp) > 600 {
				t.Errorf("%s %s, %s: a %d-byte refusal echoes the input", rt.method, rt.path, name, len(resp))
			}
		}
	}
}

// Each kind of bad body is refused for its own reason (400 invalid_json),
// and the message names the JSON field path when it is one.
func TestBadBodyMessages(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	for _, tc := range []struct{ body, want string }{
		{``, "empty"},
		{`{"name":`, "truncated"},
		{`{name}`, "not valid JSON"},
		{`{} {}`, "trailing data"},
		{`{}}`, "trailing data"},
		{`[]`, "must be a JSON object"},
		{`{"nope":1}`, `unknown field "nope"`},
		{`{"` + strings.Repeat("x", 100) + `":1}`, "an unknown field"},
		{`{"require_sso":"yes"}`, "require_sso has the wrong type"},
		{"{\"name\":\"\xff\"}", "not UTF-8"},
	} {
		status, resp := p.call(t, "PATCH", "/v1/organizations/acme", tc.body)
		var e api.Error
		json.Unmarshal([]byte(resp), &e)
		if status != 400 || e.Code != "invalid_json" || !strings.Contains(e.Message, tc.want) {
			t.Errorf("%q: %d %s, want a message with %q", tc.body, status, resp, tc.want)
		}
	}
}

// Request-derived values are bounded before they are stored and shown
// again (in pages, logs and URLs): over-long or control-character
// organization IDs, names, plans and key names are refused.
func TestOverlongValuesAreRefused(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	long := strings.Repeat("a", 5000)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/organizations", `{"id":"` + long + `","name":"x"}`},
		{"POST", "/v1/organizations", `{"id":"a%2Fb","name":"x"}`},
		{"POST", "/v1/organizations", `{"id":"a\r\nb","name":"x"}`},
		{"POST", "/v1/organizations", `{"id":".hidden","name":"x"}`},
		{"POST", "/v1/organizations", `{"id":"ok","name":"` + long + `"}`},
		{"POST", "/v1/organizations", `{"id":"ok","name":"a\u0000b"}`},
		{"POST", "/v1/organizations", `{"id":"ok","name":"a\u202eb"}`},
		{"POST", "/v1/organizations", `{"id":"ok","name":"x","plan":"` + long + `"}`},
		{"PATCH", "/v1/organizations/acme", `{"name":"` + long + `"}`},
		{"PATCH", "/v1/organizations/acme", `{"name":""}`},
		{"PATCH", "/v1/organizations/acme", `{"name":"a\nb"}`},
		{"PATCH", "/v1/organizations/acme", `{"plan":"` + long + `"}`},
		{"POST", "/v1/organizations/acme/api-keys", `{"name":"` + long + `","role":"viewer"}`},
		{"POST", "/v1/organizations/acme/api-keys", `{"name":"a\u001bb","role":"viewer"}`},
	} {
		status, resp := p.call(t, c.method, c.path, c.body)
		var e api.Error
		json.Unmarshal([]byte(resp), &e)
		if status != 422 || e.Code != "invalid_settings" || len(resp) > 600 {
			t.Errorf("%s %s %.80s: %d %.200s", c.method, c.path, c.body, status, resp)
		}
	}
	if o, err := p.st.GetOrg(context.Background(), "acme"); err != nil || o.Name != "acme" {
		t.Fatalf("a refused update changed the org: %+v %v", o, err)
	}
	if _, err := p.st.GetOrg(context.Background(), "ok"); err == nil {
		t.Fatal("a refused create created the org")
	}
	// At the limits, accepted.
	if status, resp := p.call(t, "POST", "/v1/organizations", `{"id":"`+strings.Repeat("b", 64)+`","name":"`+strings.Repeat("n", 200)+`"}`); status != 201 {
		t.Fatalf("at the limits: %d %s", status, resp)
	}
}
