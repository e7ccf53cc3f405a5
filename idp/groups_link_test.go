package idp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/ssokit/ssokit/sso"
)

// azureAssertion is an Azure AD assertion's attribute statement with the
// given tenantid, objectidentifier and groups.link values (nil: absent).
func azureAssertion(tenant, oid string, link ...string) *saml.Assertion {
	var attrs []saml.Attribute
	add := func(name string, vs ...string) {
		a := saml.Attribute{Name: name}
		for _, v := range vs {
			a.Values = append(a.Values, saml.AttributeValue{Value: v})
		}
		attrs = append(attrs, a)
	}
	if tenant != "" {
		add("http://schemas.microsoft.com/identity/claims/tenantid", tenant)
	}
	if oid != "" {
		add(azureObjectID, oid)
	}
	add("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "many@contoso.test")
	if link != nil {
		add(azureGroupsLink, link...)
	}
	return &saml.Assertion{Subject: &saml.Subject{NameID: &saml.NameID{Value: "many@contoso.test"}},
		AttributeStatements: []saml.AttributeStatement{{Attributes: attrs}}}
}

// TestSAMLGroupsLinkChecked: groups.link is attacker-influenced input. Only
// Entra's shape naming the assertion's own tenantid and objectidentifier
// reaches the resolver (with that object ID, never the link); any other
// link is refused with ReasonGroupsLink before anything is requested.
func TestSAMLGroupsLinkChecked(t *testing.T) {
	t.Parallel()
	const tenant, oid = "7d2f3c1a-5b8e-4f6a-9c0d-1e2f3a4b5c6d", "0f1e2d3c-4b5a-4987-8654-3210fedcba98"
	good := "https://graph.windows.net/" + tenant + "/users/" + oid + "/getMemberObjects"
	conn := Connection{ID: "c", Protocol: sso.SAML, Vendor: sso.AzureAD}
	var asked []string
	resolve := func(id *Identity) ([]string, error) {
		asked = append(asked, id.Subject)
		return []string{"g1", "g2"}, nil
	}
	for _, ok := range []*saml.Assertion{
		azureAssertion(tenant, oid, good),
		azureAssertion(strings.ToUpper(tenant), oid, good),
		azureAssertion(tenant, oid, "https://graph.microsoftazure.us/"+tenant+"/users/"+oid+"/getMemberObjects"),
	} {
		asked = nil
		id, err := samlIdentityResolving(conn, ok, resolve)
		if err != nil || strings.Join(id.Groups, ",") != "g1,g2" || len(asked) != 1 || asked[0] != oid || id.Subject != oid {
			t.Fatalf("%v: %v %v, asked %v", ok.AttributeStatements[0].Attributes, id, err, asked)
		}
	}
	other := "00000000-0000-4000-8000-000000000000"
	for name, as := range map[string]*saml.Assertion{
		"another tenant":           azureAssertion(tenant, oid, "https://graph.windows.net/"+other+"/users/"+oid+"/getMemberObjects"),
		"another user":             azureAssertion(tenant, oid, "https://graph.windows.net/"+tenant+"/users/"+other+"/getMemberObjects"),
		"no tenantid":              azureAssertion("", oid, good),
		"no objectidentifier":      azureAssertion(tenant, "", good),
		"two links":                azureAssertion(tenant, oid, good, good),
		"http":                     azureAssertion(tenant, oid, "http://graph.windows.net/"+tenant+"/users/"+oid+"/getMemberObjects"),
		"Microsoft Graph shape":    azureAssertion(tenant, oid, "https://graph.microsoft.com/v1.0/users/"+oid+"/getMemberObjects"),
		"extra segment":            azureAssertion(tenant, oid, "https://graph.windows.net/"+tenant+"/users/"+oid+"/getMemberObjects/x"),
		"another method":           azureAssertion(tenant, oid, "https://graph.windows.net/"+tenant+"/users/"+oid+"/memberOf"),
		"query":                    azureAssertion(tenant, oid, good+"?api-version=1.6"),
		"escaped path":             azureAssertion(tenant, oid, "https://graph.windows.net/"+tenant+"/users/"+oid+"%2F..%2Fx/getMemberObjects"),
		"credentials in the link":  azureAssertion(tenant, oid, "https://u:p@graph.windows.net/"+tenant+"/users/"+oid+"/getMemberObjects"),
		"relative link":            azureAssertion(tenant, oid, "/"+tenant+"/users/"+oid+"/getMemberObjects"),
		"tenant and oid swapped":   azureAssertion(tenant, oid, "https://graph.windows.net/"+oid+"/users/"+tenant+"/getMemberObjects"),
		"not a URL":                azureAssertion(tenant, oid, "https://graph.windows.net/%zz"),
		"a UPN for the object":     azureAssertion(tenant, "ceo@victim.test", "https://graph.windows.net/"+tenant+"/users/ceo@victim.test/getMemberObjects"),
		"a domain for the tenant":  azureAssertion("victim.onmicrosoft.com", oid, "https://graph.windows.net/victim.onmicrosoft.com/users/"+oid+"/getMemberObjects"),
		"a GUID without dashes":    azureAssertion(tenant, strings.ReplaceAll(oid, "-", ""), "https://graph.windows.net/"+tenant+"/users/"+strings.ReplaceAll(oid, "-", "")+"/getMemberObjects"),
		"the other tenant's claim": azureAssertion(other, oid, good),
	} {
		asked = nil
		id, err := samlIdentityResolving(conn, as, resolve)
		var le *LoginError
		if !errors.As(err, &le) || le.Reason != ReasonGroupsLink || !errors.Is(err, ErrInvalidResponse) || id != nil || asked != nil {
			t.Errorf("%s: %v %v, asked %v", name, id, err, asked)
		}
	}
	// Without a resolver: refused as an overage, after the link's check.
	if _, err := samlIdentity(conn, azureAssertion(tenant, oid, good)); !errors.Is(err, ErrGroupOverage) {
		t.Fatalf("no resolver: %v", err)
	}
	// A blank groups.link is absent.
	if id, err := samlIdentityResolving(conn, azureAssertion(tenant, oid, " "), resolve); err != nil || len(id.Groups) != 0 {
		t.Fatalf("blank link: %v %v", id, err)
	}
}

// TestClientCredentialsToken: the app-only token is asked for with the
// client credentials grant (body or Basic credentials, Graph's .default
// scope by default), cached until shortly before it expires (one request
// for concurrent logins), dropped when Graph refuses it, and a malformed
// token response is an error.
func TestClientCredentialsToken(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	var mu sync.Mutex
	var last *http.Request
	lastReq := func() *http.Request {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
	answer := `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"tok-%d"}`
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		r.ParseForm()
		mu.Lock()
		last = r
		a := answer
		mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, a, n)
	}))
	t.Cleanup(ts.Close)
	c := &ClientCredentials{TokenURL: ts.URL, ClientID: "app", ClientSecret: "s+cret/"}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if tok, err := c.get(context.Background(), ts.Client(), "https://graph.microsoft.us"); err != nil || tok != "tok-1" {
				t.Errorf("%q %v", tok, err)
			}
		})
	}
	wg.Wait()
	if n := requests.Load(); n != 1 {
		t.Fatalf("%d token requests for 20 concurrent logins", n)
	}
	if f := lastReq().PostForm; f.Get("grant_type") != "client_credentials" || f.Get("scope") != "https://graph.microsoft.us/.default" ||
		f.Get("client_id") != "app" || f.Get("client_secret") != "s+cret/" {
		t.Fatalf("form %v", f)
	}
	if !c.expires.After(time.Now().Add(50*time.Minute)) || c.expires.After(time.Now().Add(56*time.Minute)) {
		t.Fatalf("cached until %s", c.expires)
	}
	c.forget("tok-1")
	if tok, _ := c.get(context.Background(), ts.Client(), DefaultGraphURL); tok != "tok-2" {
		t.Fatalf("after forget: %q", tok)
	}
	c.expires = time.Now().Add(-time.Second)
	if tok, _ := c.get(context.Background(), ts.Client(), DefaultGraphURL); tok != "tok-3" {
		t.Fatalf("after expiry: %q", tok)
	}
	// A short life is halved; a long one capped.
	for _, tc := range []struct {
		in   int
		want time.Duration
	}{{60, 30 * time.Second}, {86400, appTokenMaxAge - appTokenMargin}} {
		mu.Lock()
		answer = `{"token_type":"Bearer","expires_in":` + fmt.Sprint(tc.in) + `,"access_token":"tok-%d"}`
		mu.Unlock()
		c := &ClientCredentials{TokenURL: ts.URL, ClientID: "app", ClientSecret: "s", AuthMethod: "client_secret_basic", Scope: "api://x/.default"}
		if _, err := c.get(context.Background(), ts.Client(), DefaultGraphURL); err != nil {
			t.Fatal(err)
		}
		if d := time.Until(c.expires); d > tc.want || d < tc.want-5*time.Second {
			t.Errorf("expires_in %d cached for %s, want %s", tc.in, d, tc.want)
		}
		r := lastReq()
		if id, secret, _ := r.BasicAuth(); id != "app" || secret != "s" || r.PostForm.Get("client_secret") != "" || r.PostForm.Get("scope") != "api://x/.default" {
			t.Errorf("Basic %q %q, form %v", id, secret, r.PostForm)
		}
	}
	for _, bad := range []string{`{"token_type":"Bearer","expires_in":3599}`, `{"token_type":"mac","expires_in":3599,"access_token":"t"}`,
		`{"token_type":"Bearer","access_token":"t"}`, `not json`} {
		mu.Lock()
		answer = strings.ReplaceAll(bad, "%", "%%")
		mu.Unlock()
		c := &ClientCredentials{TokenURL: ts.URL, ClientID: "app", ClientSecret: "s"}
		if tok, err := c.get(context.Background(), ts.Client(), DefaultGraphURL); err == nil || c.token != "" {
			t.Errorf("%s: %q %v", bad, tok, err)
		}
	}
}

// TestAppOnlyLookupScope: an app-only lookup asks Graph only about a GUID
// object of ClientCredentials.TenantID; anything else is ErrAppOnlyTenant
// before a token is asked for.
func TestAppOnlyLookupScope(t *testing.T) {
	const tenant, oid = "7d2f3c1a-5b8e-4f6a-9c0d-1e2f3a4b5c6d", "0f1e2d3c-4b5a-4987-8654-3210fedcba98"
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/token") {
			io.WriteString(w, `{"access_token":"app","token_type":"Bearer","expires_in":3600}`)
			return
		}
		io.WriteString(w, `{"value":["g1"]}`)
	}))
	defer ts.Close()
	g := GraphGroupResolver{BaseURL: ts.URL, HTTPClient: ts.Client(),
		AppCredentials: &ClientCredentials{TenantID: strings.ToUpper(tenant), TokenURL: ts.URL + "/token", ClientID: "app", ClientSecret: "s"}}
	for name, id := range map[string]*Identity{
		"another tenant":      {TenantID: "00000000-0000-4000-8000-000000000000", Subject: oid},
		"no tenant":           {Subject: oid},
		"a UPN as the object": {TenantID: tenant, Subject: "ceo@victim.test"},
	} {
		if _, err := g.ResolveGroups(context.Background(), id, ""); !errors.Is(err, ErrAppOnlyTenant) {
			t.Errorf("%s: %v, want ErrAppOnlyTenant", name, err)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d calls before any lookup in scope", n)
	}
	if groups, err := g.ResolveGroups(context.Background(), &Identity{TenantID: tenant, Subject: oid}, ""); err != nil || len(groups) != 1 {
		t.Fatalf("the tenant's own person: %v %v", groups, err)
	}
	// A user's own access token (OIDC) is Graph's to judge: no tenant
	// check applies.
	if _, err := g.ResolveGroups(context.Background(), &Identity{TenantID: "00000000-0000-4000-8000-000000000000", Subject: oid}, "user-token"); err != nil {
		t.Fatalf("delegated lookup: %v", err)
	}
}
