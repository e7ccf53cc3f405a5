package mockidp

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"golang.org/x/oauth2"
)

// TestAzureSAMLGroupsLink: past 150 groups the Azure SAML assertion carries
// Entra's overage indicator instead of the groups, in Entra's shape (the
// legacy Azure AD Graph URL with the tenant ID, Microsoft's "SAML token
// claims reference"); at 150 it still carries the groups.
func TestAzureSAMLGroupsLink(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	p := srv.Persona("azure")
	sp := ServiceProviderConfig{EntityID: "https://app.example.test/saml/metadata", ACSURL: "https://app.example.test/saml/acs"}
	if err := p.RegisterServiceProvider(sp); err != nil {
		t.Fatal(err)
	}
	const linkName = "http://schemas.microsoft.com/claims/groups.link"
	const groupsName = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
	for _, n := range []int{150, 151, 300} {
		email := fmt.Sprintf("many%d@contoso.test", n)
		groups := make([]string, n)
		for i := range groups {
			groups[i] = fmt.Sprintf("g%03d", i)
		}
		if err := p.PutUser(UserConfig{Email: email, Groups: groups}); err != nil {
			t.Fatal(err)
		}
		oid, _ := p.UserID(email)
		b64, err := p.SAMLResponse(sp.EntityID, email, "id-req")
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatal(err)
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			t.Fatal(err)
		}
		attrs := map[string][]string{}
		for _, a := range doc.FindElements("//Attribute") {
			for _, v := range a.SelectElements("AttributeValue") {
				attrs[a.SelectAttrValue("Name", "")] = append(attrs[a.SelectAttrValue("Name", "")], v.Text())
			}
		}
		if n <= 150 {
			if _, ok := attrs[linkName]; ok || len(attrs[groupsName]) != n {
				t.Fatalf("%d groups: link %v, %d group values", n, attrs[linkName], len(attrs[groupsName]))
			}
			continue
		}
		want := "https://graph.windows.net/" + p.Tenant() + "/users/" + oid + "/getMemberObjects"
		if !reflect.DeepEqual(attrs[linkName], []string{want}) {
			t.Fatalf("%d groups: groups.link %q, want %q", n, attrs[linkName], want)
		}
		if _, ok := attrs[groupsName]; ok {
			t.Fatalf("%d groups: the groups claim rides along the overage indicator", n)
		}
	}
}

// appTokenRequest asks an Azure persona's token endpoint for a client credentials
// token as cl, with the credentials in the body or in Basic.
func appTokenRequest(t *testing.T, srv *Server, tokenURL string, cl ClientConfig, basic bool, form url.Values) (int, map[string]any) {
	t.Helper()
	form = with(form, "grant_type", "client_credentials")
	if basic {
		status, body, _ := tokenRequest(t, srv, tokenURL, form, cl.ClientID, cl.ClientSecret)
		return status, body
	}
	form = with(form, "client_id", cl.ClientID)
	if cl.ClientSecret != "" {
		form = with(form, "client_secret", cl.ClientSecret)
	}
	status, body, _ := tokenRequest(t, srv, tokenURL, form, "", "")
	return status, body
}

// jwtPayload decodes a JWT's claims without verifying them.
func jwtPayload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

var graphScope = url.Values{"scope": {"https://graph.microsoft.com/.default"}}

// TestAzureClientCredentials: the Azure persona issues app-only Graph
// tokens to its confidential clients (body or Basic credentials) in
// Entra's response shape, and refuses public, unknown and wrongly
// authenticated clients, scopes that are not Graph's .default and the
// common endpoint; the other personas refuse the grant.
func TestAzureClientCredentials(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	p := srv.Persona("azure")
	tokenURL := newRP(t, srv, "azure").oauth.Endpoint.TokenURL
	if tokenURL != p.Issuer()[:len(p.Issuer())-len("/v2.0")]+"/oauth2/v2.0/token" {
		t.Fatalf("token URL %s", tokenURL)
	}
	post := p.Clients()[0]
	basic := ClientConfig{ClientID: "11111111-2222-4333-8444-555555555555", ClientSecret: "b:asic/+ secret", TokenEndpointAuthMethod: "client_secret_basic",
		RedirectURIs: []string{"http://127.0.0.1/callback"}, ApplicationPermissions: []string{"Directory.Read.All"}}
	public := ClientConfig{ClientID: "22222222-2222-4333-8444-555555555555", TokenEndpointAuthMethod: "none", RedirectURIs: []string{"http://127.0.0.1/callback"}}
	for _, c := range []ClientConfig{basic, public} {
		if err := p.PutClient(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		cl    ClientConfig
		basic bool
		roles []any
	}{{post, false, []any{"GroupMember.Read.All"}}, {basic, true, []any{"Directory.Read.All"}}} {
		status, body := appTokenRequest(t, srv, tokenURL, tc.cl, tc.basic, graphScope)
		if status != 200 {
			t.Fatalf("%s: %d %v", tc.cl.ClientID, status, body)
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range body {
				if !yield(k) {
					return
				}
			}
		})
		if !reflect.DeepEqual(keys, []string{"access_token", "expires_in", "ext_expires_in", "token_type"}) ||
			body["token_type"] != "Bearer" || body["expires_in"] != float64(3599) || body["ext_expires_in"] != float64(3599) {
			t.Fatalf("token response %v", body)
		}
		c := jwtPayload(t, body["access_token"].(string))
		for k, want := range map[string]any{"idtyp": "app", "appid": tc.cl.ClientID, "tid": p.Tenant(), "aud": "https://graph.microsoft.com",
			"iss": "https://sts.windows.net/" + p.Tenant() + "/", "ver": "1.0"} {
			if c[k] != want {
				t.Errorf("%s = %v, want %v", k, c[k], want)
			}
		}
		if !reflect.DeepEqual(c["roles"], tc.roles) {
			t.Errorf("roles %v, want %v", c["roles"], tc.roles)
		}
		for _, k := range []string{"scp", "upn", "email", "name", "unique_name"} {
			if _, ok := c[k]; ok {
				t.Errorf("app-only token carries %s", k)
			}
		}
		if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(fmt.Sprint(c["oid"])) || c["sub"] != c["oid"] {
			t.Errorf("oid %v sub %v", c["oid"], c["sub"])
		}
		for _, u := range p.Users() {
			if id, _ := p.UserID(u.Email); id == c["oid"] {
				t.Errorf("the service principal's oid is %s's", u.Email)
			}
		}
	}
	wrong := post
	wrong.ClientSecret = "wrong"
	unknown := post
	unknown.ClientID = "33333333-2222-4333-8444-555555555555"
	common := strings.Replace(tokenURL, p.Tenant(), "common", 1)
	for _, tc := range []struct {
		name   string
		url    string
		cl     ClientConfig
		basic  bool
		form   url.Values
		status int
		code   string
	}{
		{"public client", tokenURL, public, false, graphScope, 401, "invalid_client"},
		{"unknown client", tokenURL, unknown, false, graphScope, 401, "invalid_client"},
		{"wrong secret", tokenURL, wrong, false, graphScope, 401, "invalid_client"},
		{"basic client in the body", tokenURL, basic, false, graphScope, 401, "invalid_client"},
		{"no scope", tokenURL, post, false, nil, 400, "invalid_request"},
		{"delegated scope", tokenURL, post, false, url.Values{"scope": {"https://graph.microsoft.com/User.Read"}}, 400, "invalid_scope"},
		{"openid and .default", tokenURL, post, false, url.Values{"scope": {"openid https://graph.microsoft.com/.default"}}, 400, "invalid_scope"},
		{"another resource", tokenURL, post, false, url.Values{"scope": {"https://api.example.test/.default"}}, 400, "invalid_resource"},
		{"common endpoint", common, post, false, graphScope, 400, "invalid_request"},
	} {
		if status, body := appTokenRequest(t, srv, tc.url, tc.cl, tc.basic, tc.form); status != tc.status || body["error"] != tc.code || body["access_token"] != nil {
			t.Errorf("%s: %d %v, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}
	if status, body := appTokenRequest(t, srv, tokenURL, post, false, url.Values{"scope": {graphAppID + "/.default"}}); status != 200 || jwtPayload(t, body["access_token"].(string))["aud"] != graphAppID {
		t.Errorf("Graph's app ID as the resource: %d %v", status, body)
	}
	// The other vendors' token endpoints refuse the grant for their own
	// confidential clients.
	for _, name := range []string{"okta", "google", "onelogin", "jumpcloud"} {
		r := newRP(t, srv, name)
		cl := srv.Persona(name).Clients()[0]
		status, body := appTokenRequest(t, srv, r.oauth.Endpoint.TokenURL, cl, r.oauth.Endpoint.AuthStyle == oauth2.AuthStyleInHeader, url.Values{"scope": {"openid"}})
		if status != 400 || body["error"] != "unsupported_grant_type" {
			t.Errorf("%s: client_credentials answered %d %v", name, status, body)
		}
	}
}

// graphCall posts getMemberObjects for oid with token ("" sends none).
func graphCall(t *testing.T, srv *Server, p *Persona, oid, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", p.GraphURL()+"/v1.0/users/"+oid+"/getMemberObjects", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestAzureGraphMemberObjects: the Graph imitation answers an app-only
// token carrying a membership permission for any user of the tenant, a
// delegated token for its own user only, and errors in Graph's shape.
func TestAzureGraphMemberObjects(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	p := srv.Persona("azure")
	r := newRP(t, srv, "azure")
	tokenURL := r.oauth.Endpoint.TokenURL
	_, body := appTokenRequest(t, srv, tokenURL, p.Clients()[0], false, graphScope)
	app, _ := body["access_token"].(string)
	noPerm := ClientConfig{ClientID: "44444444-2222-4333-8444-555555555555", ClientSecret: "s", TokenEndpointAuthMethod: "client_secret_post", RedirectURIs: []string{"http://127.0.0.1/callback"}}
	if err := p.PutClient(noPerm); err != nil {
		t.Fatal(err)
	}
	_, body = appTokenRequest(t, srv, tokenURL, noPerm, false, graphScope)
	unprivileged, _ := body["access_token"].(string)
	if app == "" || unprivileged == "" {
		t.Fatal("no app tokens")
	}
	if _, ok := jwtPayload(t, unprivileged)["roles"]; ok {
		t.Fatal("a client without application permissions got roles")
	}
	tok, _, err := r.login("alice@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := p.UserID("alice@contoso.test")
	bob, _ := p.UserID("bob@contoso.test")
	const q = `{"securityEnabledOnly":false}`
	for _, tc := range []struct {
		name, oid, token, body string
		status                 int
		code                   string
		groups                 []string
	}{
		{"app token, alice", alice, app, q, 200, "", p.GroupIDs("admins", "engineering")},
		{"app token, bob", bob, app, q, 200, "", p.GroupIDs("engineering")},
		{"app token, unknown user", "00000000-0000-4000-8000-000000000000", app, q, 404, "Request_ResourceNotFound", nil},
		{"app token without the permission", alice, unprivileged, q, 403, "Authorization_RequestDenied", nil},
		{"delegated, own user", alice, tok.AccessToken, q, 200, "", p.GroupIDs("admins", "engineering")},
		{"delegated, another user", bob, tok.AccessToken, q, 403, "Authorization_RequestDenied", nil},
		{"no token", alice, "", q, 401, "InvalidAuthenticationToken", nil},
		{"unknown token", alice, "not-a-token", q, 401, "InvalidAuthenticationToken", nil},
		{"no securityEnabledOnly", alice, app, `{}`, 400, "Request_BadRequest", nil},
	} {
		status, out := graphCall(t, srv, p, tc.oid, tc.token, tc.body)
		if status != tc.status {
			t.Errorf("%s: %d %v, want %d", tc.name, status, out, tc.status)
			continue
		}
		if tc.code == "" {
			if got := fmt.Sprint(out["value"]); got != fmt.Sprint(tc.groups) {
				t.Errorf("%s: value %s, want %v", tc.name, got, tc.groups)
			}
			continue
		}
		e, _ := out["error"].(map[string]any)
		inner, _ := e["innerError"].(map[string]any)
		if e["code"] != tc.code || e["message"] == "" || inner["request-id"] == nil || inner["date"] == nil || out["value"] != nil {
			t.Errorf("%s: %v, want Graph's error %s", tc.name, out, tc.code)
		}
	}
}
