package idp_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
)

// onlyHost is a transport that lets requests reach one host (the mock's)
// and fails the test on any other, counting the requests by path.
type onlyHost struct {
	t     *testing.T
	host  string
	next  http.RoundTripper
	mu    sync.Mutex
	paths map[string]int
}

func (o *onlyHost) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != o.host {
		o.t.Errorf("request to %s, only %s may be called", r.URL, o.host)
		return nil, fmt.Errorf("host %s refused by the test", r.URL.Host)
	}
	o.mu.Lock()
	o.paths[r.URL.Path]++
	o.mu.Unlock()
	return o.next.RoundTrip(r)
}

func (o *onlyHost) count(suffix string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for p, c := range o.paths {
		if strings.HasSuffix(p, suffix) {
			n += c
		}
	}
	return n
}

// TestSAMLGroupOverage: an Azure SAML login of a person in 200 groups
// (groups.link instead of the groups) gets its groups from the configured
// Graph with an app-only token from the client credentials grant, cached
// across logins; the link's host (graph.windows.net) is never requested.
// Without a resolver, or without app credentials, the login is refused
// with ErrGroupOverage; a Graph or token endpoint failure is ErrUpstream.
func TestSAMLGroupOverage(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	p := srv.Persona("azure")
	groups := make([]string, 200)
	for i := range groups {
		groups[i] = fmt.Sprintf("g%03d", i)
	}
	if err := p.PutUser(mockidp.UserConfig{Email: "many@contoso.test", Groups: groups}); err != nil {
		t.Fatal(err)
	}
	oid, _ := p.UserID("many@contoso.test")
	cl := p.Clients()[0] // the default client, granted GroupMember.Read.All
	basic := mockidp.ClientConfig{ClientID: "55555555-2222-4333-8444-555555555555", ClientSecret: "b:asic/+ secret", TokenEndpointAuthMethod: "client_secret_basic",
		RedirectURIs: []string{"http://127.0.0.1/callback"}, ApplicationPermissions: []string{"GroupMember.Read.All"}}
	if err := p.PutClient(basic); err != nil {
		t.Fatal(err)
	}
	tokenURL := strings.TrimSuffix(p.Issuer(), "/v2.0") + "/oauth2/v2.0/token"
	graphHost, _ := url.Parse(p.GraphURL())
	next := srv.Client().Transport
	if next == nil {
		next = http.DefaultTransport
	}
	guard := &onlyHost{t: t, host: graphHost.Host, next: next, paths: map[string]int{}}
	hc := &http.Client{Transport: guard}

	login := func(t *testing.T, resolver idp.GroupResolver) result {
		t.Helper()
		a := newApp(t)
		a.conn = connect(t, srv, samlConn(t, p, a, sso.AzureAD, nil), idp.Options{GroupResolver: resolver})
		a.hint = "many@contoso.test"
		return browse(t, browser(srv), a.srv.URL+"/login")
	}

	t.Run("no resolver", func(t *testing.T) {
		wantRefusal(t, login(t, nil), idp.ErrGroupOverage, idp.ReasonGroupOverage)
	})
	t.Run("no app credentials", func(t *testing.T) {
		r := login(t, idp.GraphGroupResolver{BaseURL: p.GraphURL(), HTTPClient: hc})
		wantRefusal(t, r, idp.ErrGroupOverage, idp.ReasonGroupOverage)
		if !strings.Contains(r.Error, "AppCredentials") || !strings.Contains(r.Error, "GroupMember.Read.All") {
			t.Fatalf("the refusal does not say what to configure: %s", r.Error)
		}
	})
	t.Run("resolved", func(t *testing.T) {
		creds := &idp.ClientCredentials{TenantID: p.Tenant(), TokenURL: tokenURL, ClientID: cl.ClientID, ClientSecret: cl.ClientSecret,
			Scope: "https://graph.microsoft.com/.default"}
		resolver := idp.GraphGroupResolver{BaseURL: p.GraphURL(), HTTPClient: hc, AppCredentials: creds}
		before := guard.count("/oauth2/v2.0/token")
		for range 2 {
			r := login(t, resolver)
			if r.Identity == nil {
				t.Fatalf("refused: %s", r.Error)
			}
			if r.Identity.Subject != oid || r.Identity.TenantID != p.Tenant() ||
				strings.Join(r.Identity.Groups, ",") != strings.Join(p.GroupIDs(groups...), ",") {
				t.Fatalf("identity %s %s, %d groups", r.Identity.Subject, r.Identity.TenantID, len(r.Identity.Groups))
			}
		}
		if n := guard.count("/oauth2/v2.0/token") - before; n != 1 {
			t.Fatalf("%d token requests for two logins; the app token is not cached", n)
		}
		if n := guard.count("/getMemberObjects"); n < 2 {
			t.Fatalf("%d Graph calls", n)
		}
	})
	t.Run("basic auth", func(t *testing.T) {
		creds := &idp.ClientCredentials{TenantID: p.Tenant(), TokenURL: tokenURL, ClientID: basic.ClientID, ClientSecret: basic.ClientSecret,
			AuthMethod: "client_secret_basic", Scope: "https://graph.microsoft.com/.default"}
		r := login(t, idp.GraphGroupResolver{BaseURL: p.GraphURL(), HTTPClient: hc, AppCredentials: creds})
		if r.Identity == nil || len(r.Identity.Groups) != 200 {
			t.Fatalf("refused or wrong groups: %v %s", r.Identity, r.Error)
		}
	})
	t.Run("a person of another tenant", func(t *testing.T) {
		// Credentials for another tenant (or none named) read nobody's
		// groups here: the assertion names the person, and only the
		// tenant the credentials are for may be asked about.
		for _, tenant := range []string{"0f0e0d0c-0b0a-4909-8807-060504030201", "", "contoso.onmicrosoft.com"} {
			creds := &idp.ClientCredentials{TenantID: tenant, TokenURL: tokenURL, ClientID: cl.ClientID, ClientSecret: cl.ClientSecret}
			before := guard.count("/getMemberObjects") + guard.count("/oauth2/v2.0/token")
			r := login(t, idp.GraphGroupResolver{BaseURL: p.GraphURL(), HTTPClient: hc, AppCredentials: creds})
			wantRefusal(t, r, idp.ErrNotAllowed, idp.ReasonTenant)
			if n := guard.count("/getMemberObjects") + guard.count("/oauth2/v2.0/token") - before; n != 0 {
				t.Fatalf("TenantID %q: %d calls to Graph or the token endpoint", tenant, n)
			}
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		creds := &idp.ClientCredentials{TenantID: p.Tenant(), TokenURL: tokenURL, ClientID: cl.ClientID, ClientSecret: "wrong", Scope: "https://graph.microsoft.com/.default"}
		r := login(t, idp.GraphGroupResolver{BaseURL: p.GraphURL(), HTTPClient: hc, AppCredentials: creds})
		wantRefusal(t, r, idp.ErrUpstream, idp.ReasonGroupOverage)
		if !strings.Contains(r.Error, "invalid_client") || strings.Contains(r.Error, "wrong") {
			t.Fatalf("error %q", r.Error)
		}
	})
	t.Run("app without the permission", func(t *testing.T) {
		bare := mockidp.ClientConfig{ClientID: "66666666-2222-4333-8444-555555555555", ClientSecret: "s", TokenEndpointAuthMethod: "client_secret_post",
			RedirectURIs: []string{"http://127.0.0.1/callback"}}
		if err := p.PutClient(bare); err != nil {
			t.Fatal(err)
		}
		creds := &idp.ClientCredentials{TenantID: p.Tenant(), TokenURL: tokenURL, ClientID: bare.ClientID, ClientSecret: bare.ClientSecret, Scope: "https://graph.microsoft.com/.default"}
		r := login(t, idp.GraphGroupResolver{BaseURL: p.GraphURL(), HTTPClient: hc, AppCredentials: creds})
		wantRefusal(t, r, idp.ErrUpstream, idp.ReasonGroupOverage)
		if !strings.Contains(r.Error, "403 Authorization_RequestDenied") {
			t.Fatalf("error %q", r.Error)
		}
	})
	// guard failed the test on any request to another host than the
	// mock's: the link's graph.windows.net was never asked.
}
