package mockclerk

import (
	"net/http"

	"github.com/ssokit/ssokit/sso"
)

// Host is what a mock Clerk instance needs from the server that hosts it:
// its public base URL, an HTTP client that reaches it, and the identity
// provider personas that enterprise connections broker to. mockidp.Server
// implements it; a test may implement it with its own fake IdPs.
type Host interface {
	// BaseURL is the server's public URL without a trailing slash; the
	// instance is served under BaseURL()/{name}. It may change when the
	// server starts listening, so it is read on every use.
	BaseURL() string
	// HTTPClient returns a client that reaches BaseURL (trusting its CA).
	HTTPClient() *http.Client
	// IdP returns the persona named name, or false.
	IdP(name string) (IdP, bool)
	// IdPs lists every persona, in configuration order.
	IdPs() []IdP
}

// IdP is an identity provider persona as a mock Clerk instance sees it:
// where its SAML and OIDC endpoints are, and how to register Clerk at it
// as a service provider or an OIDC client.
type IdP interface {
	// Name is the persona's name (ConnectionConfig.Persona).
	Name() string
	// Vendor is the product the persona imitates.
	Vendor() sso.Vendor
	// Issuer is the persona's OIDC issuer.
	Issuer() string
	// SAMLEntityID is its SAML IdP's entity ID.
	SAMLEntityID() string
	// SAMLSSOURL is where its SAML IdP takes AuthnRequests.
	SAMLSSOURL() string
	// SAMLMetadataURL serves its SAML IdP's metadata.
	SAMLMetadataURL() string
	// RegisterServiceProvider trusts a SAML service provider (id names
	// the registration) with its entity ID and ACS URL.
	RegisterServiceProvider(id, entityID, acsURL string) error
	// RegisterClient adds a confidential OIDC client authenticating with
	// client_secret_post and the one redirect URI.
	RegisterClient(clientID, clientSecret, redirectURI string) error
}

// idp returns the persona named name, or nil.
func (c *Clerk) idp(name string) IdP {
	if p, ok := c.host.IdP(name); ok {
		return p
	}
	return nil
}
