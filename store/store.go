// Package store keeps the control plane's state: organizations with their
// SSO settings, people and API keys (Store), and the state that lives only
// until it expires and that replicas must share (Expiring): session
// revocations, one-time values such as SAML assertion IDs and sign-in
// state nonces (ReplayCache), webhook message IDs (WebhookLog) and login
// counts (RateCounter). Memory, in process memory, implements both; nothing
// in it survives a restart and replicas do not share it. Package storetest
// is the contract suite, split by interface, every implementation must
// pass.
package store

import (
	"context"
	"errors"
	"time"
)

// Precision is the resolution at which every store keeps times: a time
// reads back exactly as it was written, whatever the engine (PostgreSQL
// keeps microseconds).
const Precision = time.Microsecond

// CleanupGrace is how long a shared store keeps an expired revocation,
// one-time value, webhook ID or rate count before deleting it (Redis's
// TTL, the SQL sweeper). Expiry itself is decided by each reader's clock;
// deletion is done by one replica's, so without this a replica whose clock
// runs ahead would delete a revocation or a one-time value while replicas
// with slower clocks still need it, and they would take the revoked
// session or the replayed assertion. Clocks of replicas that disagree by
// less than CleanupGrace do not matter.
const CleanupGrace = 5 * time.Minute

// Stamp is t as a store keeps it: UTC, truncated to Precision. The zero
// time stays zero.
func Stamp(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(Precision)
}

// Errors every implementation returns, matched with errors.Is.
var (
	ErrNotFound = errors.New("store: not found")
	ErrExists   = errors.New("store: already exists")
	// ErrUnavailable: the store cannot answer now (the engine is down, or a
	// replica lost the channel that tells it of other replicas' changes
	// and cannot vouch for what it would read). Callers answer 503 and
	// never treat it as "not found" or "not revoked".
	ErrUnavailable = errors.New("store: unavailable")
)

// GroupRule maps an identity-provider group to an app role.
type GroupRule struct {
	Group string `json:"group"`
	Role  string `json:"role"`
}

// Org is an application organization and its SSO settings.
type Org struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Plan decides whether SSO may be configured (enterprise, growth, ...).
	Plan              string            `json:"plan"`
	ClerkOrgID        string            `json:"clerk_org_id,omitempty"`
	AllowedDomains    []string          `json:"allowed_domains,omitempty"`
	DefaultRole       string            `json:"default_role,omitempty"`
	AutoCreateUsers   bool              `json:"auto_create_users"`
	RequireSSO        bool              `json:"require_sso"`
	DisableAPIKeyAuth bool              `json:"disable_api_key_auth"`
	GroupRoles        []GroupRule       `json:"group_roles,omitempty"`
	ClerkRoleMap      map[string]string `json:"clerk_role_map,omitempty"`
	// Connection is a direct IdP connection (package idp's Connection as
	// JSON), for SSO without Clerk.
	Connection []byte `json:"connection,omitempty"`
	// SSOConfigured is set once SSO settings were saved.
	SSOConfigured bool `json:"sso_configured"`
	// RequireSSOSince is when require_sso was last turned on: password
	// sessions issued before it stop working.
	RequireSSOSince time.Time `json:"require_sso_since,omitempty"`
	LastSSOLogin    time.Time `json:"last_sso_login,omitempty"`
	LastSSOProvider string    `json:"last_sso_provider,omitempty"`
	Created         time.Time `json:"created_at"`
	Updated         time.Time `json:"updated_at"`
}

// User is a person in one organization.
type User struct {
	ID    string `json:"id"`
	OrgID string `json:"org_id"`
	// Email is the canonical address (admission.CanonicalEmail): a store
	// keeps it as given and compares it byte for byte, so (OrgID, Email)
	// is unique exactly when the canonical forms are.
	Email string `json:"email"`
	Role  string `json:"role"`
	// ClerkUserID is the Clerk user the person signs in as through Clerk,
	// bound at their first SSO login there: a later Clerk login with the
	// same email and another Clerk user is refused.
	ClerkUserID string `json:"clerk_user_id,omitempty"`
	// Subject is the identifier a direct connection's identity provider
	// vouches for the person with (the OIDC sub or the SAML NameID), bound
	// at their first SSO login through SubjectIssuer, the IdP's name
	// (okta, azure_ad, ...): a later login from that IdP with the same
	// email and another subject is refused. Empty until then.
	Subject       string `json:"subject,omitempty"`
	SubjectIssuer string `json:"subject_issuer,omitempty"`
	// PasswordHash is empty for SSO-only people.
	PasswordHash string `json:"-"`
	// Source is how the user was created: sso, password, admin.
	Source    string    `json:"source"`
	LastLogin time.Time `json:"last_login,omitempty"`
	// ValidAfter revokes every app session issued before it.
	ValidAfter time.Time `json:"-"`
	Created    time.Time `json:"created_at"`
}

// APIKey is an agent credential; only its hash is kept.
type APIKey struct {
	ID       string    `json:"id"`
	OrgID    string    `json:"org_id"`
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Prefix   string    `json:"prefix"` // the shown start of the key, e.g. ssk_live_AbC1
	Hash     string    `json:"-"`
	Created  time.Time `json:"created_at"`
	Expires  time.Time `json:"expires_at,omitempty"`
	LastUsed time.Time `json:"last_used,omitempty"`
	Revoked  bool      `json:"revoked"`
}

// Orgs stores organizations.
type Orgs interface {
	CreateOrg(ctx context.Context, o Org) error
	GetOrg(ctx context.Context, id string) (Org, error)
	OrgByClerkID(ctx context.Context, clerkOrgID string) (Org, error)
	// UpdateOrg applies fn to the stored org atomically; if fn returns an
	// error nothing is written.
	UpdateOrg(ctx context.Context, id string, fn func(*Org) error) (Org, error)
	ListOrgs(ctx context.Context) ([]Org, error)
}

// Users stores people. Emails are canonical (see User.Email) and
// compared byte for byte.
type Users interface {
	GetUser(ctx context.Context, id string) (User, error)
	UserByEmail(ctx context.Context, orgID, email string) (User, error)
	// CreateUserIfAbsent creates u unless a user with its org and email
	// exists, atomically: concurrent first logins create one user.
	CreateUserIfAbsent(ctx context.Context, u User) (User, bool, error)
	// UpdateUser applies fn to the stored user atomically; if fn returns an
	// error nothing is written. ID, OrgID and Email cannot change.
	UpdateUser(ctx context.Context, id string, fn func(*User) error) (User, error)
	// ChangeRole sets the user's role and revokes every session of theirs
	// issued before revokeBefore (ValidAfter, which never moves back) in
	// one atomic write: both happen or, on any error, neither.
	ChangeRole(ctx context.Context, id, role string, revokeBefore time.Time) (User, error)
	// DeleteUser removes the user. A non-nil allow judges the user as
	// stored, inside the atomic write that removes them: if it returns an
	// error nothing is removed and that error is returned as it is (a
	// caller that may remove only people ranked at most its own is never
	// raced by a promotion between its read and the removal).
	DeleteUser(ctx context.Context, id string, allow func(User) error) error
	ListUsers(ctx context.Context, orgID string) ([]User, error)
}

// APIKeys stores API keys.
type APIKeys interface {
	CreateAPIKey(ctx context.Context, k APIKey) error
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	ListAPIKeys(ctx context.Context, orgID string) ([]APIKey, error)
	RevokeAPIKey(ctx context.Context, orgID, id string) error
	// TouchAPIKeys records last use times in one write (batched).
	TouchAPIKeys(ctx context.Context, used map[string]time.Time) error
}

// Revocations remembers revoked token IDs until they would have expired.
type Revocations interface {
	RevokeToken(ctx context.Context, jti string, until time.Time) error
	IsRevoked(ctx context.Context, jti string) (bool, error)
}

// Versioned is a store that reports a counter which changes whenever
// something that can end a session changes (a revocation, a person's or an
// organization's record, an API key). Callers cache what they checked at a
// version and check again when it moves; a store that cannot tell simply
// does not implement it, and every request is checked in full.
type Versioned interface {
	Version() uint64
}

// Store is everything the control plane keeps.
type Store interface {
	Orgs
	Users
	APIKeys
	Revocations
}
