package mockidp

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/ssokit/ssokit/sso"
	"sigs.k8s.io/yaml"
)

// Config is the whole mock identity platform: its personas and how the
// server runs. The zero value serves no persona; DefaultConfig has one of
// each vendor.
type Config struct {
	// Personas are the mock identity providers, each under /{name}/.
	Personas []PersonaConfig `json:"personas"`

	// Clerk are mock Clerk instances, each under /{name}/, brokering to
	// the personas.
	Clerk []ClerkConfig `json:"clerk,omitempty"`

	// BaseURL is the public URL of the server when its Handler is mounted
	// elsewhere (issuers and endpoints are built from it). NewServer and
	// Start set it from their listener; leave it empty there.
	BaseURL string `json:"-"`

	// AdminToken, when set, is required as a Bearer token on /admin/v1/.
	// Empty leaves the admin API open, which is meant for loopback use.
	AdminToken string `json:"-"`

	// Now is the clock; each persona may add its own offset. Nil means
	// time.Now.
	Now func() time.Time `json:"-"`

	// Logger receives request errors. Nil means silent.
	Logger *slog.Logger `json:"-"`
}

// PersonaConfig configures one mock identity provider.
type PersonaConfig struct {
	// Name is the path prefix and the handle (Server.Persona(name)).
	Name string `json:"name"`
	// Vendor is the product the persona behaves like.
	Vendor sso.Vendor `json:"vendor"`
	// Tenant is the Azure AD tenant ID (a GUID). Zero derives one from Name.
	Tenant string `json:"tenant,omitempty"`
	// GroupsClaim names the group claim. Okta: sent only when the client
	// asks for the "groups" scope, and never when empty. JumpCloud: the
	// admin-named claim, "memberOf" when empty. Other vendors ignore it.
	GroupsClaim string `json:"groups_claim,omitempty"`
	// GroupsFormat is OneLogin's group claim shape: "string" (;-joined, the
	// default) or "array" (OneLogin's multi-value output).
	GroupsFormat string `json:"groups_format,omitempty"`
	// GroupIDs maps Azure AD group names to object IDs; unlisted groups get
	// an ID derived from the tenant and the name.
	GroupIDs map[string]string `json:"group_ids,omitempty"`
	// Interactive shows the login page even when the request carries a
	// login_hint, as a real IdP asks the person to sign in (ssokit demo
	// sets it); queued users (QueueUser) still skip the page. False: a
	// login_hint naming a user signs that user in at once (headless).
	Interactive bool `json:"interactive,omitempty"`
	// ClaimsInUserinfoOnly leaves the scope claims (email, email_verified,
	// names, groups, hd and the users' own claims) out of the ID token,
	// which keeps sub (and Azure's oid and tid) and the protocol claims;
	// the userinfo endpoint answers them, as IdPs with "thin" ID tokens do.
	ClaimsInUserinfoOnly bool `json:"claims_in_userinfo_only,omitempty"`
	// IssParameter advertises authorization_response_iss_parameter_supported
	// in discovery and puts iss, the issuer, on every authorization
	// response, success or error (RFC 9207), as Keycloak and
	// node-oidc-provider do. Of the five vendors, Google puts iss on its
	// redirects (https://accounts.google.com) without advertising it, and
	// so does the Google persona, set or not.
	IssParameter bool `json:"iss_parameter,omitempty"`
	// UserinfoSubject, when set, is the sub the userinfo endpoint names
	// instead of the user's: a misbehaving IdP a relying party must refuse.
	UserinfoSubject string `json:"userinfo_subject,omitempty"`
	// Users can sign in; Clients may ask them to.
	Users   []UserConfig   `json:"users"`
	Clients []ClientConfig `json:"clients"`
	// SAML configures the persona's SAML identity provider.
	SAML SAMLConfig `json:"saml,omitempty"`
}

// SAMLConfig configures a persona's SAML 2.0 identity provider. The zero
// value gives the vendor's defaults.
type SAMLConfig struct {
	// EntityID is the IdP entity ID and Issuer. Zero derives the vendor's
	// shape: Okta http://www.okta.com/exk..., Azure
	// https://sts.windows.net/{tenant}/, Google
	// https://accounts.google.com/o/saml2?idpid=..., OneLogin
	// https://app.onelogin.com/saml/metadata/{id}, JumpCloud "JumpCloud".
	EntityID string `json:"entity_id,omitempty"`
	// Sign is what responses sign: response, assertion or both. Zero means
	// the vendor's default (Okta both, OneLogin response, others assertion).
	Sign string `json:"sign,omitempty"`
	// Attributes renames attributes: the keys email, first_name, last_name,
	// display_name and groups map to the attribute names sent.
	Attributes map[string]string `json:"attributes,omitempty"`
	// TrustAnySP accepts an AuthnRequest from an unregistered service
	// provider, answering on the request's own ACS URL only.
	TrustAnySP bool `json:"trust_any_sp,omitempty"`
	// SessionAgeSeconds, when set, puts the AuthnInstant this long before
	// the response, as for an IdP session that began earlier (Entra's
	// "stay signed in"); an AuthnRequest with ForceAuthn="true" gets a
	// fresh authentication.
	SessionAgeSeconds int `json:"session_age_seconds,omitempty"`
	// IgnoreForceAuthn keeps SessionAgeSeconds' old AuthnInstant even when
	// the AuthnRequest asks for ForceAuthn: an IdP that does not honour it.
	IgnoreForceAuthn bool `json:"ignore_force_authn,omitempty"`
	// AssertionLifetimeSeconds, when set, replaces the vendor's validity:
	// the Conditions' and SubjectConfirmationData's NotOnOrAfter are this
	// long after the response.
	AssertionLifetimeSeconds int `json:"assertion_lifetime_seconds,omitempty"`
	// ServiceProviders are registered at start.
	ServiceProviders []ServiceProviderConfig `json:"service_providers,omitempty"`
}

// ServiceProviderConfig registers a SAML service provider with a persona:
// by metadata (XML or a URL to fetch), or by entity ID and ACS URL.
type ServiceProviderConfig struct {
	// ID names the registration; zero means the entity ID.
	ID          string `json:"id,omitempty"`
	MetadataXML string `json:"metadata_xml,omitempty"`
	MetadataURL string `json:"metadata_url,omitempty"`
	EntityID    string `json:"entity_id,omitempty"`
	ACSURL      string `json:"acs_url,omitempty"`
	// Sign overrides the persona's Sign for this service provider.
	Sign string `json:"sign,omitempty"`
	// SignatureAlgorithm is rsa-sha256 or rsa-sha1 (digests to match).
	// Zero is what a new app of the vendor signs with: rsa-sha1 for
	// OneLogin (both of its captures in crewjam/saml's and gosaml2's
	// testdata), rsa-sha256 for the others.
	SignatureAlgorithm string `json:"signature_algorithm,omitempty"`
	// EncryptAssertions encrypts assertions to the encryption key in the
	// service provider's metadata.
	EncryptAssertions bool `json:"encrypt_assertions,omitempty"`
	// NameIDFormat overrides the vendor's NameID format.
	NameIDFormat string `json:"name_id_format,omitempty"`
	// DefaultUser signs in without a page when no user is queued.
	DefaultUser string `json:"default_user,omitempty"`
	// Attributes renames attributes for this service provider, over the
	// persona's SAMLConfig.Attributes.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// UserConfig is a person known to a persona.
type UserConfig struct {
	// Email is the sign-in name and the user's handle (case-insensitive).
	Email string `json:"email"`
	// ID is the vendor's user ID (Okta 00u..., Azure object ID, ...).
	// Zero derives a vendor-shaped ID from the email.
	ID         string   `json:"id,omitempty"`
	GivenName  string   `json:"given_name,omitempty"`
	FamilyName string   `json:"family_name,omitempty"`
	Groups     []string `json:"groups,omitempty"`
	// Roles are Azure AD app roles (the roles claim).
	Roles []string `json:"roles,omitempty"`
	// Claims are added as they are to ID tokens and userinfo.
	Claims map[string]any `json:"claims,omitempty"`
}

// ClientConfig is a registered relying party.
type ClientConfig struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	// RedirectURIs are matched exactly, except that a loopback http URI
	// registered without a port matches any port (RFC 8252 section 7.3).
	RedirectURIs []string `json:"redirect_uris"`
	// TokenEndpointAuthMethod is client_secret_basic, client_secret_post
	// or none (public client, PKCE required). Zero means the vendor's
	// default.
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method,omitempty"`
	// PostLogoutRedirectURIs are where end-session may send the browser
	// (so may RedirectURIs). Except at Azure, only with an ID token
	// issued to this client as id_token_hint, as the vendors ask.
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	// ApplicationPermissions (Azure only) are the Microsoft Graph
	// application permissions an administrator granted the client, as
	// the roles of its client-credentials tokens: GroupMember.Read.All
	// (or Group.Read.All, Directory.Read.All) lets it read any user's
	// groups through the Graph imitation.
	ApplicationPermissions []string `json:"application_permissions,omitempty"`
}

//go:embed default.yaml
var defaultYAML []byte

// DefaultConfigYAML returns the embedded default configuration, which also
// documents the schema.
func DefaultConfigYAML() []byte { return append([]byte(nil), defaultYAML...) }

// DefaultConfig returns the embedded default: personas okta, azure, google,
// onelogin and jumpcloud, each with a few users and one client.
func DefaultConfig() Config {
	cfg, err := ParseConfig(defaultYAML)
	if err != nil {
		panic("mockidp: embedded default configuration: " + err.Error())
	}
	return cfg
}

// ParseConfig reads a configuration in YAML or JSON, refusing unknown
// fields, and validates it.
func ParseConfig(data []byte) (Config, error) {
	var cfg Config
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return Config{}, fmt.Errorf("mockidp: config: %w", err)
	}
	return cfg, cfg.Validate()
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// Validate reports the first problem with the configuration, in words an
// operator can act on.
func (c *Config) Validate() error {
	seen := map[string]bool{}
	for i := range c.Personas {
		p := &c.Personas[i]
		if !nameRE.MatchString(p.Name) || reservedNames[p.Name] {
			return fmt.Errorf("mockidp: persona %d: name %q must be letters, digits, - or _ and not one of admin, clerk, static", i, p.Name)
		}
		if seen[p.Name] {
			return fmt.Errorf("mockidp: persona name %q is used twice", p.Name)
		}
		seen[p.Name] = true
		if _, ok := profiles[p.Vendor]; !ok {
			return fmt.Errorf("mockidp: persona %s: vendor %q is not one of okta, azure_ad, google_workspace, onelogin, jumpcloud", p.Name, p.Vendor)
		}
		if p.Tenant != "" && !guidRE.MatchString(p.Tenant) {
			return fmt.Errorf("mockidp: persona %s: tenant %q is not a lower-case GUID", p.Name, p.Tenant)
		}
		if p.GroupsFormat != "" && p.GroupsFormat != "string" && p.GroupsFormat != "array" {
			return fmt.Errorf("mockidp: persona %s: groups_format %q is not string or array", p.Name, p.GroupsFormat)
		}
		for _, u := range p.Users {
			if err := u.validate(); err != nil {
				return fmt.Errorf("mockidp: persona %s: %w", p.Name, err)
			}
		}
		for _, cl := range p.Clients {
			if err := cl.validate(); err != nil {
				return fmt.Errorf("mockidp: persona %s: %w", p.Name, err)
			}
		}
		if err := validSign(p.SAML.Sign); err != nil {
			return fmt.Errorf("mockidp: persona %s: saml: %w", p.Name, err)
		}
		for _, sp := range p.SAML.ServiceProviders {
			if err := sp.validate(); err != nil {
				return fmt.Errorf("mockidp: persona %s: saml: %w", p.Name, err)
			}
			// Metadata given inline must be usable now: a server that
			// starts without the service provider only logs why.
			if sp.MetadataXML != "" {
				if _, err := parseSPMetadata([]byte(sp.MetadataXML)); err != nil {
					return fmt.Errorf("mockidp: persona %s: saml: metadata_xml: %w", p.Name, err)
				}
			}
		}
	}
	byName := map[string]PersonaConfig{}
	for _, p := range c.Personas {
		byName[p.Name] = p
	}
	for i := range c.Clerk {
		if seen[c.Clerk[i].Name] {
			return fmt.Errorf("mockidp: name %q is used twice (personas and Clerk instances share the path space)", c.Clerk[i].Name)
		}
		seen[c.Clerk[i].Name] = true
		if reservedNames[c.Clerk[i].Name] && c.Clerk[i].Name != "clerk" {
			return fmt.Errorf("mockidp: Clerk instance name %q is reserved", c.Clerk[i].Name)
		}
		if err := c.Clerk[i].Validate(func(name string) bool { _, ok := byName[name]; return ok }); err != nil {
			return err
		}
	}
	return nil
}

var reservedNames = map[string]bool{"admin": true, "clerk": true, "static": true}

func (u *UserConfig) validate() error {
	a, err := mail.ParseAddress(u.Email)
	if err != nil || a.Address != u.Email || a.Name != "" {
		return fmt.Errorf("user email %q is not a bare address", u.Email)
	}
	return nil
}

func (c *ClientConfig) validate() error {
	if c.ClientID == "" || strings.ContainsAny(c.ClientID, " \t\r\n") {
		return fmt.Errorf("client_id %q is empty or has white space", c.ClientID)
	}
	switch c.TokenEndpointAuthMethod {
	case "", "client_secret_basic", "client_secret_post":
		if c.ClientSecret == "" {
			return fmt.Errorf("client %s: a confidential client needs client_secret", c.ClientID)
		}
	case "none":
	default:
		return fmt.Errorf("client %s: token_endpoint_auth_method %q is not client_secret_basic, client_secret_post or none", c.ClientID, c.TokenEndpointAuthMethod)
	}
	if len(c.RedirectURIs) == 0 {
		return fmt.Errorf("client %s: needs at least one redirect_uri", c.ClientID)
	}
	for _, r := range append(append([]string(nil), c.RedirectURIs...), c.PostLogoutRedirectURIs...) {
		u, err := url.Parse(r)
		if err != nil || u.Scheme == "" || u.Host == "" || u.Fragment != "" {
			return fmt.Errorf("client %s: redirect URI %q is not an absolute URL without a fragment", c.ClientID, r)
		}
	}
	return nil
}

func validSign(s string) error {
	switch s {
	case "", "response", "assertion", "both":
		return nil
	}
	return fmt.Errorf("sign %q is not response, assertion or both", s)
}

func (sp *ServiceProviderConfig) validate() error {
	n := 0
	for _, set := range []bool{sp.MetadataXML != "", sp.MetadataURL != "", sp.EntityID != "" || sp.ACSURL != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("a service provider needs exactly one of metadata_xml, metadata_url, or entity_id with acs_url")
	}
	if (sp.EntityID != "") != (sp.ACSURL != "") {
		return errors.New("entity_id and acs_url go together")
	}
	if sp.MetadataURL != "" {
		if u, err := url.Parse(sp.MetadataURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("metadata_url %q is not an http(s) URL", sp.MetadataURL)
		}
	}
	if sp.ACSURL != "" {
		if u, err := url.Parse(sp.ACSURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("acs_url %q is not an http(s) URL", sp.ACSURL)
		}
	}
	if err := validSign(sp.Sign); err != nil {
		return err
	}
	switch sp.SignatureAlgorithm {
	case "", "rsa-sha256", "rsa-sha1":
	default:
		return fmt.Errorf("signature_algorithm %q is not rsa-sha256 or rsa-sha1", sp.SignatureAlgorithm)
	}
	return nil
}
