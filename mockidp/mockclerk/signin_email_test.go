package mockclerk_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
)

// identityConnector answers every sign-in with one identity.
type identityConnector struct {
	idp.Connector
	id   *idp.Identity
	back string
}

func (f identityConnector) Finish(http.ResponseWriter, *http.Request) (*idp.Identity, string, error) {
	return f.id, f.back, nil
}

// TestSignInNeedsAnEmailInTheConnectionsDomains: an identity provider
// that returns no email address, or one without a domain, signs nobody in
// through the hosted sign-in (403 domain_mismatch, no user made): the
// domain check has nothing to hold, and every such identity would become
// one user with an empty address. An address in the connection's domains
// signs in.
func TestSignInNeedsAnEmailInTheConnectionsDomains(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	c := srv.Clerk("clerk")
	back := "/?" + url.Values{"redirect_url": {"http://127.0.0.1/auth/sso/callback"}}.Encode()
	acs := c.FrontendAPIURL() + "/v1/saml/acs/samlc_acme_okta"
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	users := func() int {
		t.Helper()
		req, _ := http.NewRequest("GET", c.BackendAPIURL()+"/users?limit=500", nil)
		req.Header.Set("Authorization", "Bearer "+c.SecretKey())
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list []map[string]any
		if err := jsonDecode(resp, &list); err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	before := users()
	for _, email := range []string{"", "pat", "pat@"} {
		c.SetConnector("samlc_acme_okta", identityConnector{id: &idp.Identity{Subject: "s-" + email, Email: email, EmailVerified: true}, back: back})
		resp, err := client.PostForm(acs, url.Values{"SAMLResponse": {"x"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("email %q: %d, want 403", email, resp.StatusCode)
		}
	}
	if n := users(); n != before {
		t.Errorf("%d users made from identities without an address", n-before)
	}
	c.SetConnector("samlc_acme_okta", identityConnector{id: &idp.Identity{Subject: "s-pat", Email: "pat@acme.test", EmailVerified: true}, back: back})
	resp, err := client.PostForm(acs, url.Values{"SAMLResponse": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("an address in the connection's domains: %d, want 302", resp.StatusCode)
	}
}
