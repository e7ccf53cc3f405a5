package controlplane_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
)

// recordingResolver answers every lookup with one group and remembers
// who was looked up and whether app-only.
type recordingResolver struct {
	mu    sync.Mutex
	calls []string
}

func (r *recordingResolver) ResolveGroups(_ context.Context, id *idp.Identity, accessToken string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf("%s app-only=%v", id.Subject, accessToken == ""))
	return []string{"from-graph"}, nil
}

func (r *recordingResolver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// TestAppOnlyGroupsOnlyForListedOrgs: an organization's admins configure
// its SAML connection (IdP certificate included) and the assertion names
// the person, so the control plane's app-only Graph credentials, which
// read anyone's groups in their tenant, serve only the organizations the
// operator listed in Config.AppOnlyGroupOrgs. Another organization's
// Azure SAML login past 150 groups is refused (group_overage) without a
// lookup.
func TestAppOnlyGroupsOnlyForListedOrgs(t *testing.T) {
	t.Parallel()
	for _, listed := range []bool{false, true} {
		t.Run(fmt.Sprint("listed=", listed), func(t *testing.T) {
			res := &recordingResolver{}
			p := newPlaneWith(t, nil, func(c *controlplane.Config) {
				c.IdP.GroupResolver = res
				if listed {
					c.AppOnlyGroupOrgs = []string{"fabrikam"}
				}
			})
			ctx := context.Background()
			az := p.mock.Persona("azure")
			groups := make([]string, 200)
			for i := range groups {
				groups[i] = fmt.Sprintf("g%03d", i)
			}
			if err := az.PutUser(mockidp.UserConfig{Email: "many@contoso.test", Groups: groups}); err != nil {
				t.Fatal(err)
			}
			entity, acs := p.app.URL+"/saml/fabrikam", p.app.URL+"/auth/sso/acs/fabrikam"
			if err := az.RegisterServiceProvider(mockidp.ServiceProviderConfig{EntityID: entity, ACSURL: acs}); err != nil {
				t.Fatal(err)
			}
			if _, err := p.admin.Organizations.Create(ctx, "fabrikam", "Fabrikam", "enterprise"); err != nil {
				t.Fatal(err)
			}
			conn := &idp.Connection{ID: "fabrikam", Protocol: sso.SAML, Vendor: sso.AzureAD,
				SAML: &idp.SAMLSettings{IDPMetadataURL: az.SAMLMetadataURL(), EntityID: entity, ACSURL: acs}}
			if _, err := p.admin.Organizations.ConfigureSSO(ctx, "fabrikam", api.SSOSettings{Connection: rawJSON(t, conn),
				AllowedDomains: []string{"contoso.test"}, DefaultRole: "viewer", AutoCreateUsers: true}); err != nil {
				t.Fatal(err)
			}
			az.QueueUser("many@contoso.test")
			status, body := directSignIn(t, p, "fabrikam")
			if !listed {
				if status == http.StatusOK || res.count() != 0 {
					t.Fatalf("not listed: %d %s, %d lookups", status, body, res.count())
				}
				evs, err := p.admin.Organizations.SSOEvents(ctx, "fabrikam", 1)
				if err != nil || len(evs) != 1 || evs[0].Reason != "group_overage" {
					t.Fatalf("the refusal in the SSO log: %+v %v", evs, err)
				}
				return
			}
			oid, _ := az.UserID("many@contoso.test")
			if status != http.StatusOK || res.count() != 1 || !strings.HasPrefix(res.calls[0], oid+" app-only=true") {
				t.Fatalf("listed: %d %s, lookups %q", status, body, res.calls)
			}
		})
	}
}
