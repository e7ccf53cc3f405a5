package api

import (
	"encoding/json"
	"time"
)

// TimePrecision is the precision of every time the API returns: the server
// truncates times to it (and to UTC) before writing them.
const TimePrecision = time.Microsecond

// Time returns t as the API writes it: UTC, truncated to TimePrecision,
// without a monotonic clock reading. The zero time stays zero.
func Time(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(TimePrecision)
}

// TimePtr is Time as a pointer: nil for the zero time, for fields where an
// unset time is null.
func TimePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = Time(t)
	return &t
}

// Error is the body of every refusal: a stable machine-readable code and a
// human message. The code is the contract; the message may change.
type Error struct {
	// Code is the stable code, e.g. "plan_not_entitled", "not_found",
	// "invalid_token" (the README lists every code).
	Code string `json:"error"`
	// Message explains the refusal to a person; never parse it.
	Message string `json:"message"`
}

// GroupRule maps an identity-provider group to a role.
type GroupRule struct {
	// Group is the group's name or ID as the IdP sends it (Azure AD sends
	// object IDs).
	Group string `json:"group"`
	// Role is the role given to members of Group.
	Role string `json:"role"`
}

// Org is an organization as the API returns it, with its SSO settings.
type Org struct {
	// ID is the organization's ID, chosen at creation.
	ID string `json:"id"`
	// Name is the display name.
	Name string `json:"name"`
	// Plan decides whether SSO may be configured (by default "enterprise"
	// and "growth" may).
	Plan string `json:"plan"`
	// ClerkOrgID is the Clerk organization mapped to this one; empty when
	// none.
	ClerkOrgID string `json:"clerk_org_id,omitempty"`
	// AllowedDomains are the email domains that may sign in with SSO, in
	// normalized form ("acme.com", "*.acme.com" for subdomains only).
	AllowedDomains []string `json:"allowed_domains,omitempty"`
	// DefaultRole is the role of people created by their first SSO login.
	DefaultRole string `json:"default_role,omitempty"`
	// AutoCreateUsers creates people at their first SSO login; false
	// refuses people not already known.
	AutoCreateUsers bool `json:"auto_create_users"`
	// RequireSSO refuses password login for the organization's people.
	RequireSSO bool `json:"require_sso"`
	// DisableAPIKeyAuth refuses the organization's API keys.
	DisableAPIKeyAuth bool `json:"disable_api_key_auth"`
	// GroupRoles recompute a person's role at every SSO login.
	GroupRoles []GroupRule `json:"group_roles,omitempty"`
	// ClerkRoleMap maps Clerk organization roles ("org:admin") to app
	// roles.
	ClerkRoleMap map[string]string `json:"clerk_role_map,omitempty"`
	// Connection is the organization's direct IdP connection (package
	// idp's Connection as JSON), absent when SSO goes through Clerk. The
	// server never returns the OIDC client secret: "oidc" has no
	// "client_secret" and has "client_secret_set" (true when one is
	// stored) instead.
	Connection json.RawMessage `json:"connection,omitempty"`
	// SSOConfigured is true once SSO settings were saved.
	SSOConfigured bool `json:"sso_configured"`
	// RequireSSOSince is when RequireSSO was last turned on (password
	// sessions issued before it stopped working); absent when never.
	RequireSSOSince time.Time `json:"require_sso_since,omitzero"`
	// LastSSOLogin is the time of the latest SSO login; absent when none.
	LastSSOLogin time.Time `json:"last_sso_login,omitzero"`
	// LastSSOProvider is the IdP of the latest SSO login ("okta",
	// "azure_ad", ...); absent when none.
	LastSSOProvider string `json:"last_sso_provider,omitempty"`
	// CreatedAt and UpdatedAt are when the organization was created and
	// last changed. The server always sets them; like every time, they are
	// absent rather than year 1 when unset.
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// CreateOrgRequest is POST /v1/organizations's body (platform
// administrators only).
type CreateOrgRequest struct {
	// ID is the new organization's ID: required, no spaces or slashes.
	ID string `json:"id"`
	// Name is required.
	Name string `json:"name"`
	// Plan is the organization's plan; empty means "free".
	Plan string `json:"plan,omitempty"`
}

// UpdateOrgRequest is PATCH /v1/organizations/{org}'s body: each non-nil
// field is set, nil fields are left as they are.
type UpdateOrgRequest struct {
	// RequireSSO turns password login off (true) or on (false).
	RequireSSO *bool `json:"require_sso,omitempty"`
	// DisableAPIKeyAuth refuses (true) or admits (false) the
	// organization's API keys.
	DisableAPIKeyAuth *bool `json:"disable_api_key_auth,omitempty"`
	// Plan sets the plan (platform administrators only).
	Plan *string `json:"plan,omitempty"`
	// Name renames the organization.
	Name *string `json:"name,omitempty"`
}

// SSOSettings is PUT /v1/organizations/{org}/sso's body: the whole SSO
// configuration, replacing the previous one.
type SSOSettings struct {
	// ClerkOrgID maps a Clerk organization to this one. Either it or
	// Connection is required. Only the platform administrator links a
	// Clerk organization; an organization admin sends the stored one or
	// none (otherwise 403 clerk_org_link).
	ClerkOrgID string `json:"clerk_org_id,omitempty"`
	// AllowedDomains are the email domains that may sign in with SSO: at
	// least one; exact names, or "*.acme.com" for subdomains only. The
	// server stores them IDNA-normalized and refuses public suffixes and
	// mixed-script lookalikes.
	AllowedDomains []string `json:"allowed_domains"`
	// DefaultRole is the role of people created by SSO; empty keeps the
	// organization's.
	DefaultRole string `json:"default_role,omitempty"`
	// AutoCreateUsers creates people at their first SSO login.
	AutoCreateUsers bool `json:"auto_create_users"`
	// RequireSSO refuses password login for the organization's people.
	RequireSSO bool `json:"require_sso"`
	// GroupRoles, when present, recompute the role at every SSO login.
	GroupRoles []GroupRule `json:"group_roles,omitempty"`
	// ClerkRoleMap maps Clerk organization roles to app roles.
	ClerkRoleMap map[string]string `json:"clerk_role_map,omitempty"`
	// Connection is a direct IdP connection (package idp's Connection as
	// JSON), for SSO without Clerk.
	Connection json.RawMessage `json:"connection,omitempty"`
}

// The values of SSOStatus.ConnectionState.
const (
	// ConnectionNotConfigured: no Clerk organization and no direct
	// connection.
	ConnectionNotConfigured = "not_configured"
	// ConnectionActive: SSO can be used.
	ConnectionActive = "active"
	// ConnectionInactive: a Clerk organization is mapped but SSO settings
	// were never saved.
	ConnectionInactive = "inactive"
	// ConnectionError: the direct connection does not build (bad
	// metadata, discovery unreachable).
	ConnectionError = "error"
)

// SSOStatus is GET /v1/organizations/{org}/sso/status's answer.
type SSOStatus struct {
	// SSOEnabled is true when SSO settings are saved with a Clerk
	// organization or a direct connection.
	SSOEnabled bool `json:"sso_enabled"`
	// Provider is the configured connection's IdP ("okta", "azure_ad",
	// ...): the direct connection's vendor, else the IdP of the latest
	// Clerk SSO login; empty when neither is known.
	Provider string `json:"provider"`
	// ConnectionState is one of the Connection* constants.
	ConnectionState string `json:"connection_state"`
	// LastLogin is the latest SSO login; null when none.
	LastLogin *time.Time `json:"last_login"`
	// TotalSSOUsers counts the people created by SSO.
	TotalSSOUsers int `json:"total_sso_users"`
}

// SSOEvent is one sign-in attempt of an organization, as
// GET /v1/organizations/{org}/sso/events lists it for the organization's
// administrators: who (when the identity provider said), through which
// IdP, the outcome and, for a refusal, its stable reason and the check
// that failed in words. It never holds a token or an assertion.
type SSOEvent struct {
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Email    string    `json:"email,omitempty"`
	UserID   string    `json:"user_id,omitempty"`
	IdPName  string    `json:"idp_name,omitempty"`
	Protocol string    `json:"protocol,omitempty"`
	// Outcome is accepted, refused or unavailable.
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	Check   string `json:"check,omitempty"`
	// Unverified marks a refusal of an answer the identity provider did
	// not vouch for (a bad signature, a junk code): anyone could have
	// sent it, by starting a sign-in and posting it. The log keeps these
	// apart, in a smaller share, so they never push out the others.
	Unverified bool `json:"unverified,omitempty"`
}

// SSOEvents is GET /v1/organizations/{org}/sso/events's answer: the
// organization's latest sign-in attempts, newest first.
type SSOEvents struct {
	Events []SSOEvent `json:"events"`
}

// SSOTestRequest is POST /v1/organizations/{org}/sso/test's body. It has
// no fields today: send {}. (The check signs no one in, so it takes no
// account to test with.)
type SSOTestRequest struct{}

// SSOTestStep is one step of a connection check.
type SSOTestStep struct {
	// Name names the step ("configuration", "metadata", "discovery",
	// ...).
	Name string `json:"name"`
	// OK reports whether the step passed.
	OK bool `json:"ok"`
	// Detail says what was found, or why the step failed.
	Detail string `json:"detail"`
}

// SSOTestReport is POST /v1/organizations/{org}/sso/test's answer: the
// server's check of the organization's direct connection against what the
// identity provider publishes (SAML metadata and certificates, OIDC
// discovery, keys and client credentials). It signs no one in.
type SSOTestReport struct {
	// OK reports whether every step passed.
	OK bool `json:"ok"`
	// Steps are the steps run, in order.
	Steps []SSOTestStep `json:"steps"`
	// Identity is the normalized identity of a test sign-in, for answers
	// that include one; absent from the server-side check.
	Identity *Identity `json:"identity,omitempty"`
}

// Identity is a sign-in normalized across identity providers.
type Identity struct {
	// Subject is the IdP's stable ID of the person.
	Subject string `json:"subject"`
	// Email and whether the IdP vouches for it.
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	// FirstName and LastName, when the IdP sends them.
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	// Groups as the IdP sends them (Azure AD: object IDs).
	Groups []string `json:"groups,omitempty"`
	// IdP is the vendor ("okta", "azure_ad", ...), Protocol "saml" or
	// "oidc", ConnectionID the connection's ID.
	IdP          string `json:"idp"`
	Protocol     string `json:"protocol"`
	ConnectionID string `json:"connection_id,omitempty"`
	// TenantID is Azure AD's tid; HostedDomain Google Workspace's hd.
	TenantID     string `json:"tenant_id,omitempty"`
	HostedDomain string `json:"hosted_domain,omitempty"`
}

// User is a person of an organization.
type User struct {
	// ID is the app's ID of the person: the one whoami's user_id gives and
	// the users routes take.
	ID string `json:"id"`
	// OrgID is the person's organization.
	OrgID string `json:"org_id"`
	// Email is the person's email address.
	Email string `json:"email"`
	// Role is the person's role.
	Role string `json:"role"`
	// ClerkUserID is the person's Clerk user, when they came through Clerk.
	ClerkUserID string `json:"clerk_user_id,omitempty"`
	// Source is how the person was created: "sso", "password" or "admin".
	Source string `json:"source"`
	// LastLogin is the person's latest login; absent when none.
	LastLogin time.Time `json:"last_login,omitzero"`
	// CreatedAt is when the person was created.
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// UpdateUserRequest is PATCH /v1/organizations/{org}/users/{id}'s body.
// The person's sessions end, since they carry the old role.
type UpdateUserRequest struct {
	// Role is the new role; it must be defined by the policy.
	Role string `json:"role"`
}

// APIKey is an agent credential as listed: never its secret.
type APIKey struct {
	// ID names the key in the API-key routes.
	ID string `json:"id"`
	// OrgID is the key's organization.
	OrgID string `json:"org_id"`
	// Name is the label given at creation.
	Name string `json:"name"`
	// Role is the role the key acts with.
	Role string `json:"role"`
	// Prefix is the shown start of the key (e.g. "ssk_live_AbC1").
	Prefix string `json:"prefix"`
	// CreatedAt is when the key was created.
	CreatedAt time.Time `json:"created_at,omitzero"`
	// ExpiresAt is when the key stops working; absent when it does not
	// expire.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// LastUsed is the key's latest use; absent when never used.
	LastUsed time.Time `json:"last_used,omitzero"`
	// Revoked is true once the key was revoked.
	Revoked bool `json:"revoked"`
}

// NewAPIKey is POST /v1/organizations/{org}/api-keys's answer: the key's
// record and its secret, which is shown this once.
type NewAPIKey struct {
	APIKey
	// Key is the secret to send as "Authorization: Bearer <key>".
	Key string `json:"key"`
}

// CreateAPIKeyRequest is POST /v1/organizations/{org}/api-keys's body.
type CreateAPIKeyRequest struct {
	// Name labels the key; required.
	Name string `json:"name"`
	// Role is the role the key acts with; it must be defined by the
	// policy.
	Role string `json:"role"`
	// ExpiresAt, when set, must be in the future; nil means the key does
	// not expire.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// LoginRequest is POST /v1/auth/login's body: password sign-in.
type LoginRequest struct {
	// Org is the organization's ID.
	Org string `json:"org"`
	// Email and Password identify the person.
	Email    string `json:"email"`
	Password string `json:"password"`
}

// The values of Whoami.AuthMethod.
const (
	AuthMethodSSO      = "sso"
	AuthMethodPassword = "password"
	AuthMethodAPIKey   = "api_key"
)

// Whoami is the caller as the API sees it: GET /v1/auth/whoami's answer,
// and POST /v1/auth/login's.
type Whoami struct {
	// UserID is always the app's ID of the person (User.ID), whatever the
	// credential: session cookie, Clerk token or password login. It is
	// empty for an API key, which is no person.
	UserID string `json:"user_id"`
	// ClerkUserID is the Clerk user (a Clerk token's sub) when the caller
	// came through Clerk; absent otherwise.
	ClerkUserID string `json:"clerk_user_id,omitempty"`
	// APIKeyID is the key's ID when the caller is an API key; absent
	// otherwise.
	APIKeyID string `json:"api_key_id,omitempty"`
	// Email is the person's email; empty for an API key.
	Email string `json:"email"`
	// OrgID is the caller's organization.
	OrgID string `json:"org_id"`
	// Role is the caller's role.
	Role string `json:"role"`
	// AuthMethod is one of the AuthMethod* constants.
	AuthMethod string `json:"auth_method"`
	// IdPName is the IdP of an SSO login ("okta", "azure_ad",
	// "google_workspace", "onelogin", "jumpcloud"); empty otherwise.
	IdPName string `json:"idp_name"`
}

// WebhookDuplicate is WebhookAck.Status for a webhook whose svix-id was
// already applied: acknowledged, and not applied again.
const WebhookDuplicate = "duplicate"

// WebhookAck is POST /webhooks/clerk's 200 answer to a redelivery (or a
// replay) of an event already applied. A first delivery that is applied
// or ignored is answered 204 with no body.
type WebhookAck struct {
	// Status is WebhookDuplicate.
	Status string `json:"status"`
}
