package mockidp

import (
	"strings"
	"testing"

	"github.com/ssokit/ssokit/sso"
)

// The email attribute's name per persona, and the groups attribute's.
var samlAttrNames = map[string][2]string{
	"okta":      {"email", "groups"},
	"azure":     {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"},
	"google":    {"email", ""},
	"onelogin":  {"User.email", "memberOf"},
	"jumpcloud": {"email", "memberOf"},
}

// TestSAMLEveryPersonaWithCrewjamSP signs in to crewjam/saml's samlsp
// middleware through every persona. The same with gosaml2 as the service
// provider is peers/interop/saml's TestSAMLEveryPersonaWithGosaml2.
func TestSAMLEveryPersonaWithCrewjamSP(t *testing.T) {
	t.Parallel()
	idp := Start(t, DefaultConfig())
	for _, p := range idp.Personas() {
		t.Run(p.Name(), func(t *testing.T) {
			sp := newCrewjamSP(t, idp, p.Name(), nil)
			u := p.Users()[0]
			if err := p.QueueUser(u.Email); err != nil {
				t.Fatal(err)
			}
			status, body := sp.login(t, idp)
			if status != 200 || !strings.Contains(body, "nameid="+u.Email) {
				t.Fatalf("status %d body:\n%s", status, body)
			}
			names := samlAttrNames[p.Name()]
			if !strings.Contains(body, names[0]+"=["+u.Email+"]") {
				t.Errorf("email attribute %s missing:\n%s", names[0], body)
			}
			if names[1] != "" {
				want := strings.Join(u.Groups, " ")
				if p.Vendor() == sso.AzureAD {
					want = strings.Join(p.GroupIDs(u.Groups...), " ")
				}
				if !strings.Contains(body, names[1]+"=["+want+"]") {
					t.Errorf("groups attribute %s=[%s] missing:\n%s", names[1], want, body)
				}
			}
		})
	}
}
