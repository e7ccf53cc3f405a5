// Package sso holds the vocabulary every ssokit package shares about
// identity providers: which vendor a connection or a mock persona is, and
// which protocol it speaks. It imports only the standard library, so the
// connectors (idp), the mock platform (mockidp), the control plane and the
// control-plane client can all name a vendor without importing each other.
package sso

// Vendor names an identity-provider product. A connector uses it to pick the
// profile that knows where the vendor puts the identity; a mock persona uses
// it to pick the behaviour it reproduces. The values are the stable names
// reported as idp_name.
type Vendor string

// The vendors ssokit knows.
const (
	Okta            Vendor = "okta"
	AzureAD         Vendor = "azure_ad"
	GoogleWorkspace Vendor = "google_workspace"
	OneLogin        Vendor = "onelogin"
	JumpCloud       Vendor = "jumpcloud"
	// Generic is no vendor in particular: a connector reads standard claim
	// and attribute names. No mock persona behaves as Generic.
	Generic Vendor = "generic"
)

// Vendors lists the named vendors (every one but Generic), in a stable order.
func Vendors() []Vendor {
	return []Vendor{Okta, AzureAD, GoogleWorkspace, OneLogin, JumpCloud}
}

// Known reports whether v is one of the named vendors or Generic.
func (v Vendor) Known() bool {
	switch v {
	case Okta, AzureAD, GoogleWorkspace, OneLogin, JumpCloud, Generic:
		return true
	}
	return false
}

// Protocol is how a connection talks to its identity provider.
type Protocol string

// The protocols.
const (
	SAML Protocol = "saml"
	OIDC Protocol = "oidc"
)
