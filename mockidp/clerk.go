package mockidp

import (
	"net/http"

	"github.com/ssokit/ssokit/mockidp/mockclerk"
)

// The mock Clerk lives in package mockclerk; a Server hosts its instances
// beside the personas. These aliases keep the names a configuration file
// and older callers use.
type (
	// Clerk is a mock Clerk instance of a Server (mockclerk.Clerk).
	Clerk = mockclerk.Clerk
	// ClerkConfig is one mock Clerk instance (mockclerk.Config).
	ClerkConfig = mockclerk.Config
	// ClerkOrgConfig is an organization of an instance (mockclerk.OrgConfig).
	ClerkOrgConfig = mockclerk.OrgConfig
	// ClerkConnectionConfig is an enterprise connection (mockclerk.ConnectionConfig).
	ClerkConnectionConfig = mockclerk.ConnectionConfig
	// ClerkUserConfig is a person known before any sign-in (mockclerk.UserConfig).
	ClerkUserConfig = mockclerk.UserConfig
	// Delivery is one webhook event sent to one endpoint (mockclerk.Delivery).
	Delivery = mockclerk.Delivery
)

// The mock Clerk's faults (Clerk.InjectFault), under their mockidp names.
const (
	ClerkJWKSUnavailable = mockclerk.JWKSUnavailable
	ClerkJWKSSlow        = mockclerk.JWKSSlow
	ClerkKeyRotated      = mockclerk.KeyRotated
	ClerkBAPI429         = mockclerk.BAPI429
	ClerkBAPI500         = mockclerk.BAPI500
	ClerkBAPISlow        = mockclerk.BAPISlow
)

// clerkHost is the Server as the mock Clerk sees it (mockclerk.Host).
type clerkHost struct{ s *Server }

func (h clerkHost) BaseURL() string          { return h.s.baseURL() }
func (h clerkHost) HTTPClient() *http.Client { return h.s.Client() }

func (h clerkHost) IdP(name string) (mockclerk.IdP, bool) {
	p := h.s.Persona(name)
	if p == nil {
		return nil, false
	}
	return clerkIdP{p}, true
}

func (h clerkHost) IdPs() []mockclerk.IdP {
	out := make([]mockclerk.IdP, len(h.s.personas))
	for i, p := range h.s.personas {
		out[i] = clerkIdP{p}
	}
	return out
}

// clerkIdP is a persona as the mock Clerk sees it (mockclerk.IdP).
type clerkIdP struct{ *Persona }

func (p clerkIdP) RegisterServiceProvider(id, entityID, acsURL string) error {
	return p.Persona.RegisterServiceProvider(ServiceProviderConfig{ID: id, EntityID: entityID, ACSURL: acsURL})
}

func (p clerkIdP) RegisterClient(clientID, clientSecret, redirectURI string) error {
	return p.PutClient(ClientConfig{ClientID: clientID, ClientSecret: clientSecret,
		RedirectURIs: []string{redirectURI}, TokenEndpointAuthMethod: "client_secret_post"})
}
