package admission

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
)

// How a person signed in (whoami's auth_method).
const (
	MethodSSO      = "sso"
	MethodPassword = "password"
	MethodAPIKey   = "api_key"
)

// Defaults for the zero values of Config.
var (
	// DefaultSSOPlans are the plans entitled to SSO.
	DefaultSSOPlans = []string{"enterprise", "growth"}
)

// Default password-login limits.
const (
	DefaultAccountAttempts = 10
	DefaultIPAttempts      = 100
	DefaultAttemptWindow   = 15 * time.Minute
)

// Config configures an Admitter. Store is required.
type Config struct {
	// Store holds organizations and people.
	Store interface {
		store.Orgs
		store.Users
	}
	// Policy ranks roles and maps groups to roles. Nil means
	// rbac.MustDefault().
	Policy *rbac.Policy
	// SSOPlans are the organization plans entitled to SSO. Nil means
	// DefaultSSOPlans.
	SSOPlans []string
	// AccountLimit and IPLimit count password-login attempts per account
	// (org and email) and per client address. Nil means a MemoryLimiter of
	// DefaultAccountAttempts (10) and DefaultIPAttempts (100) per
	// DefaultAttemptWindow (15 minutes).
	AccountLimit, IPLimit Limiter
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Admitter applies an organization's sign-in rules: which organization a
// login belongs to, whether its plan has SSO, whether the email's domain is
// allowed, whether an unknown person is created, which role they get, and
// whether an earlier session or an API key still counts. It decides; it
// writes no HTTP.
type Admitter struct {
	store interface {
		store.Orgs
		store.Users
	}
	policy                *rbac.Policy
	ssoPlans              []string
	accountLimit, ipLimit Limiter
	now                   func() time.Time
}

// New validates cfg and returns an Admitter.
func New(cfg Config) (*Admitter, error) {
	if cfg.Store == nil {
		return nil, errors.New("admission: Config needs a Store")
	}
	a := &Admitter{store: cfg.Store, policy: cfg.Policy, ssoPlans: cfg.SSOPlans, accountLimit: cfg.AccountLimit, ipLimit: cfg.IPLimit, now: cfg.Now}
	if a.policy == nil {
		a.policy = rbac.MustDefault()
	}
	if a.ssoPlans == nil {
		a.ssoPlans = DefaultSSOPlans
	}
	if a.now == nil {
		a.now = time.Now
	}
	var err error
	if a.accountLimit == nil {
		if a.accountLimit, err = NewMemoryLimiter(LimiterConfig{Max: DefaultAccountAttempts, Window: DefaultAttemptWindow, Now: a.now}); err != nil {
			return nil, err
		}
	}
	if a.ipLimit == nil {
		if a.ipLimit, err = NewMemoryLimiter(LimiterConfig{Max: DefaultIPAttempts, Window: DefaultAttemptWindow, Now: a.now}); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Policy is the admitter's RBAC policy.
func (a *Admitter) Policy() *rbac.Policy { return a.policy }

// Login is what an SSO sign-in brings, whatever its path: a Clerk session
// or a direct connection's normalized identity.
type Login struct {
	// OrgID names the app organization (a direct connection); ClerkOrgID
	// maps one (Clerk). One of the two is required.
	OrgID, ClerkOrgID string
	// ClerkRole is the Clerk organization role (org:admin), for
	// clerk_role_map.
	ClerkRole string
	// ClerkUserID and ClerkSessionID identify the Clerk user and session.
	ClerkUserID, ClerkSessionID string
	// Email is the person's address; Groups their IdP groups; IdPName the
	// identity provider (okta, azure_ad, ...).
	Email   string
	Groups  []string
	IdPName string
	// Subject is the identifier the login's issuer vouches for the person
	// with: the Clerk user ID on the Clerk path (ClerkOrgID; ClerkUserID
	// stands in when Subject is empty), the OIDC sub or SAML NameID of a
	// direct connection (OrgID). It is bound to the person at their first
	// login by that path (per IdPName for direct connections); a later
	// login with the same email and another subject, or none, is refused
	// with ssoerr.ReasonSubjectMismatch.
	Subject string
}

// Person is an admitted person: who, in which organization, with which
// role, signed in how.
type Person struct {
	// UserID is the app user's ID.
	UserID string
	// Email is the stored, canonical address (CanonicalEmail).
	Email string
	// OrgID is the app organization; Role the person's role in it.
	OrgID, Role string
	// AuthMethod is MethodSSO or MethodPassword; IdPName the identity
	// provider of an SSO sign-in.
	AuthMethod, IdPName string
	// ClerkUserID and ClerkSessionID come from a sign-in through Clerk.
	ClerkUserID, ClerkSessionID string
}

// Admit applies the organization's rules to an SSO login: the Clerk
// organization maps to exactly one app organization; its plan must be
// entitled to SSO; the email's domain must be allowed; an unknown person is
// created with the default role when auto_create_users is on (concurrent
// first logins create one), refused otherwise; with group_roles the role is
// recomputed from the groups at every login (highest match, else the Clerk
// role through clerk_role_map, else default_role), otherwise the stored
// role stands.
func (a *Admitter) Admit(ctx context.Context, l Login) (*Person, error) {
	var org store.Org
	var err error
	switch {
	case l.OrgID != "":
		org, err = a.store.GetOrg(ctx, l.OrgID)
	case l.ClerkOrgID != "":
		org, err = a.store.OrgByClerkID(ctx, l.ClerkOrgID)
	default:
		return nil, forbid(ssoerr.ReasonOrgNotMapped, "the session has no active Clerk organization")
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, forbid(ssoerr.ReasonOrgNotMapped, "%v", err)
	} else if err != nil {
		return nil, ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	if reason, detail := a.ssoStanding(org, ""); reason != "" {
		return nil, forbid(reason, "%s", detail)
	}
	if l.Email == "" {
		return nil, forbid(ssoerr.ReasonNoEmail, "no email for %s", l.ClerkUserID)
	}
	email, err := CanonicalEmail(l.Email)
	if err != nil {
		return nil, err
	}
	if reason, detail := a.ssoStanding(org, email); reason != "" {
		return nil, forbid(reason, "%s", detail)
	}
	viaClerk := l.OrgID == ""
	subject := l.Subject
	if viaClerk && subject == "" {
		subject = l.ClerkUserID
	}
	u, err := a.store.UserByEmail(ctx, org.ID, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if !org.AutoCreateUsers {
			return nil, forbid(ssoerr.ReasonUserNotProvisioned, "%s has no account in %s and auto_create_users is off", email, org.ID)
		}
		role := org.DefaultRole
		if role == "" {
			role = string(rbac.Viewer)
		}
		u, _, err = a.store.CreateUserIfAbsent(ctx, store.User{ID: "usr_" + randomID(12), OrgID: org.ID, Email: email,
			Role: role, Source: MethodSSO})
		if err != nil {
			return nil, ssoerr.Upstream(ssoerr.ReasonStore, err)
		}
	case err != nil:
		return nil, ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	now := a.now()
	var mismatch error
	u, err = a.store.UpdateUser(ctx, u.ID, func(x *store.User) error {
		// The subject is checked and bound in the same atomic write as the
		// role: two first logins with different subjects bind one.
		if viaClerk {
			if x.ClerkUserID != "" && x.ClerkUserID != subject {
				mismatch = forbid(ssoerr.ReasonSubjectMismatch, "%s is bound to Clerk user %s, not %q", x.ID, x.ClerkUserID, subject)
				return mismatch
			}
			if subject != "" {
				x.ClerkUserID = subject
			}
		} else {
			if x.Subject != "" && x.SubjectIssuer == l.IdPName && x.Subject != subject {
				mismatch = forbid(ssoerr.ReasonSubjectMismatch, "%s is bound to subject %q of %s, not %q", x.ID, x.Subject, l.IdPName, subject)
				return mismatch
			}
			if subject != "" {
				x.Subject, x.SubjectIssuer = subject, l.IdPName
			}
		}
		// The role comes from the row as this write holds it, so an
		// administrator's change that landed since the read above is not
		// written back over.
		role := a.role(org, *x, l)
		if role != x.Role && !a.policy.AtLeast(rbac.Role(role), rbac.Role(x.Role)) {
			// A lower role than the stored one (the person left the
			// IdP group): the sessions issued in earlier seconds carry
			// the higher one and end, as an administrator's change ends
			// them; the one this login starts, in this second, stands.
			revokeUntil(x, now.Truncate(time.Second).Add(-time.Nanosecond))
		}
		x.Role, x.LastLogin = role, now
		return nil
	})
	if mismatch != nil {
		return nil, mismatch
	}
	if err != nil {
		return nil, ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	_, _ = a.store.UpdateOrg(ctx, org.ID, func(o *store.Org) error {
		o.LastSSOLogin, o.LastSSOProvider = now, l.IdPName
		return nil
	})
	return &Person{UserID: u.ID, Email: u.Email, OrgID: org.ID, Role: u.Role, AuthMethod: MethodSSO, IdPName: l.IdPName,
		ClerkUserID: l.ClerkUserID, ClerkSessionID: l.ClerkSessionID}, nil
}

// role is the person's role after this login: with group_roles, the
// highest group match, else the Clerk role through clerk_role_map, else
// default_role; without, the stored role. A role the policy does not know
// becomes viewer.
func (a *Admitter) role(org store.Org, u store.User, l Login) string {
	role := u.Role
	if len(org.GroupRoles) > 0 {
		rules := make([]rbac.GroupRule, len(org.GroupRoles))
		for i, g := range org.GroupRoles {
			rules[i] = rbac.GroupRule{Group: g.Group, Role: rbac.Role(g.Role)}
		}
		if r, err := a.policy.RoleFromGroups(rules, l.Groups); err == nil {
			role = string(r)
		} else if mapped, ok := org.ClerkRoleMap[l.ClerkRole]; ok && l.ClerkRole != "" {
			role = mapped
		} else {
			role = org.DefaultRole
		}
	}
	if !a.policy.Has(rbac.Role(role)) {
		role = string(rbac.Viewer)
	}
	return role
}

// Lookup finds the app person behind a Clerk session without admitting
// anyone: the organization mapped to clerkOrgID and the person with the
// canonical form of email in it. ok is false when either is unknown or
// the email has no canonical form. A person bound to another Clerk user
// than clerkUserID is refused (ssoerr.ReasonSubjectMismatch), and so is
// a known person whom a sign-in would now refuse because the
// organization's plan is no longer entitled to SSO
// (ssoerr.ReasonPlanNotEntitled) or the address's domain is no longer
// allowed (ssoerr.ReasonDomainNotAllowed); a store failure is
// ssoerr.ErrUpstream, never "unknown".
func (a *Admitter) Lookup(ctx context.Context, clerkOrgID, email, clerkUserID string) (p *Person, ok bool, err error) {
	canon, err := CanonicalEmail(email)
	if err != nil {
		return nil, false, nil
	}
	org, err := a.store.OrgByClerkID(ctx, clerkOrgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	u, err := a.store.UserByEmail(ctx, org.ID, canon)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	if u.ClerkUserID != "" && u.ClerkUserID != clerkUserID {
		return nil, false, forbid(ssoerr.ReasonSubjectMismatch, "%s is bound to Clerk user %s, not %q", u.ID, u.ClerkUserID, clerkUserID)
	}
	// What a sign-in checks of the organization holds for every request
	// a Clerk session makes: a person whose domain an administrator
	// removed, or whose organization lost SSO, is refused as a sign-in
	// would be, not carried by a Clerk session that outlives the change.
	if reason, detail := a.ssoStanding(org, canon); reason != "" {
		return nil, false, forbid(reason, "%s", detail)
	}
	return &Person{UserID: u.ID, Email: u.Email, OrgID: org.ID, Role: u.Role, AuthMethod: MethodSSO, ClerkUserID: u.ClerkUserID}, true, nil
}

// PasswordLogin checks an email and password for an organization. The
// same refusal answers an unknown organization, an unknown person, an
// address with no canonical form and a wrong password, after the same
// bcrypt work; attempts are limited per account (organization and
// canonical email) and per client address (ClientKey of clientIP);
// require_sso refuses every login of the organization with the same
// answer, whatever the address and password. A store failure is
// ssoerr.ErrUpstream, never a wrong password.
func (a *Admitter) PasswordLogin(ctx context.Context, orgID, email, password, clientIP string) (*Person, error) {
	canon, cerr := CanonicalEmail(email)
	if cerr == nil {
		email = canon
	}
	for _, c := range []struct {
		l   Limiter
		key string
	}{{a.accountLimit, orgID + "\x00" + email}, {a.ipLimit, ClientKey(clientIP)}} {
		ok, err := c.l.Allow(ctx, c.key)
		if err != nil {
			return nil, ssoerr.Upstream(ssoerr.ReasonStore, err)
		}
		if !ok {
			return nil, ssoerr.New(ssoerr.ErrRateLimited, ssoerr.ReasonRateLimited, "login attempts")
		}
	}
	org, err := a.store.GetOrg(ctx, orgID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	if err != nil {
		checkPassword("", password)
		return nil, badPassword("no organization %s", orgID)
	}
	if org.RequireSSO {
		// Every address and password gets this answer, after the same
		// bcrypt work: were the password checked first, sso_required
		// would tell a right password from a wrong one.
		checkPassword("", password)
		return nil, forbid(ssoerr.ReasonSSORequired, "%s requires SSO", orgID)
	}
	if cerr != nil {
		checkPassword("", password)
		return nil, badPassword("%v", cerr)
	}
	u, err := a.store.UserByEmail(ctx, orgID, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	if err != nil {
		checkPassword("", password)
		return nil, badPassword("no user %s", email)
	}
	if !checkPassword(u.PasswordHash, password) {
		return nil, badPassword("wrong password for %s", email)
	}
	_, _ = a.store.UpdateUser(ctx, u.ID, func(x *store.User) error { x.LastLogin = a.now(); return nil })
	return &Person{UserID: u.ID, Email: u.Email, OrgID: org.ID, Role: u.Role, AuthMethod: MethodPassword}, nil
}

// Session is what CheckSession needs to know of an app session.
type Session struct {
	UserID, OrgID, AuthMethod string
	IssuedAt                  time.Time
}

// CheckSession applies what can end a valid app session early: the person
// or the organization removed or their sessions revoked (ValidAfter); for
// an SSO session, the organization's plan no longer entitled to SSO or the
// person's domain no longer allowed; for a password session, require_sso
// on. Revocation of the one session (its jti) is the
// session manager's.
func (a *Admitter) CheckSession(ctx context.Context, s Session) error {
	u, err := a.store.GetUser(ctx, s.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return ended(ssoerr.ReasonSessionRevoked, "user %s removed", s.UserID)
	} else if err != nil {
		return ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	// iat has second precision: a session issued in the same second as
	// revoke-all counts as revoked.
	if !u.ValidAfter.IsZero() && s.IssuedAt.Before(u.ValidAfter.Truncate(time.Second).Add(time.Second)) {
		return ended(ssoerr.ReasonSessionRevoked, "sessions of %s revoked", s.UserID)
	}
	if s.AuthMethod != MethodPassword && s.AuthMethod != MethodSSO {
		return nil
	}
	org, err := a.store.GetOrg(ctx, s.OrgID)
	if errors.Is(err, store.ErrNotFound) {
		return ended(ssoerr.ReasonSessionRevoked, "organization %s gone", s.OrgID)
	} else if err != nil {
		return ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	if s.AuthMethod == MethodSSO {
		// An SSO session ends once a sign-in would be refused for the
		// organization's reasons: its plan no longer entitled to SSO, or
		// the person's domain no longer allowed.
		if reason, detail := a.ssoStanding(org, u.Email); reason != "" {
			return ended(reason, "%s", detail)
		}
		return nil
	}
	// While require_sso is on, no password session is issued, so any
	// that exists ends: one opened before, and one whose login read the
	// organization just before require_sso was turned on and finished
	// after (its iat can be later than RequireSSOSince).
	if org.RequireSSO {
		return ended(ssoerr.ReasonSSORequired, "%s requires SSO since %s", s.OrgID, org.RequireSSOSince.Format(time.RFC3339))
	}
	return nil
}

// CheckAPIKey applies the key's organization's rules: the organization
// still exists and accepts API keys.
func (a *Admitter) CheckAPIKey(ctx context.Context, k store.APIKey) error {
	org, err := a.store.GetOrg(ctx, k.OrgID)
	if errors.Is(err, store.ErrNotFound) {
		return ended(ssoerr.ReasonSessionRevoked, "organization %s gone", k.OrgID)
	} else if err != nil {
		return ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	if org.DisableAPIKeyAuth {
		return forbid(ssoerr.ReasonAPIKeyDisabled, "%s disables API keys", org.ID)
	}
	return nil
}

// ChangeRole sets a person's role and ends every app session of theirs
// issued until now (sessions carry the old role), in one atomic store
// write: on any error neither happened. An unknown person is
// store.ErrNotFound; any other store failure is ssoerr.ErrUpstream.
func (a *Admitter) ChangeRole(ctx context.Context, userID, role string) (store.User, error) {
	if !a.policy.Has(rbac.Role(role)) {
		return store.User{}, fmt.Errorf("admission: role %q is not defined by the policy", role)
	}
	u, err := a.store.ChangeRole(ctx, userID, role, a.now())
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, err
	} else if err != nil {
		return store.User{}, ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	return u, nil
}

// ChangeRoleIf is ChangeRole for a caller that may change the person only
// as they are stored (an administrator who may not change a person ranked
// above them): allow judges the person inside the atomic write that
// changes them, so a change another request or replica made since the
// caller read them (a promotion) is judged, never written over. allow's
// error is returned as it is, and then nothing is written.
func (a *Admitter) ChangeRoleIf(ctx context.Context, userID, role string, allow func(store.User) error) (store.User, error) {
	if !a.policy.Has(rbac.Role(role)) {
		return store.User{}, fmt.Errorf("admission: role %q is not defined by the policy", role)
	}
	now := store.Stamp(a.now())
	var refused error
	u, err := a.store.UpdateUser(ctx, userID, func(x *store.User) error {
		if allow != nil {
			if refused = allow(*x); refused != nil {
				return refused
			}
		}
		x.Role = role
		revokeUntil(x, now)
		return nil
	})
	switch {
	case refused != nil:
		return store.User{}, refused
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, err
	case err != nil:
		return store.User{}, ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	return u, nil
}

// RevokeUser ends every app session of a person issued until now.
func (a *Admitter) RevokeUser(ctx context.Context, userID string) error {
	now := a.now()
	_, err := a.store.UpdateUser(ctx, userID, func(u *store.User) error { revokeUntil(u, now); return nil })
	if errors.Is(err, store.ErrNotFound) {
		return err
	} else if err != nil {
		return ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	return nil
}

// revokeUntil ends u's sessions issued until t: ValidAfter only ever
// moves forward, so a replica whose clock is behind never revives sessions
// another one ended.
func revokeUntil(u *store.User, t time.Time) {
	if t.After(u.ValidAfter) {
		u.ValidAfter = t
	}
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// forbid is a refusal by the organization's rules (403).
func forbid(r ssoerr.Reason, format string, args ...any) error {
	return ssoerr.Newf(ssoerr.ErrForbidden, r, format, args...)
}

// ended is a session or key that no longer counts (401).
func ended(r ssoerr.Reason, format string, args ...any) error {
	return ssoerr.Newf(ssoerr.ErrInvalidToken, r, format, args...)
}

// badPassword is a failed email-and-password check (401), whatever failed.
func badPassword(format string, args ...any) error {
	return ssoerr.Newf(ssoerr.ErrInvalidCredentials, ssoerr.ReasonInvalidCredentials, format, args...)
}

// ssoStanding is what an SSO sign-in, and every later request of its
// sessions, checks of the organization: its plan entitled to SSO and
// email's domain allowed (email "" checks the plan alone). It returns the
// refusal's reason and detail, or "" for none.
func (a *Admitter) ssoStanding(org store.Org, email string) (ssoerr.Reason, string) {
	if !slices.Contains(a.ssoPlans, org.Plan) {
		return ssoerr.ReasonPlanNotEntitled, fmt.Sprintf("plan %q of %s is not entitled to SSO", org.Plan, org.ID)
	}
	if email == "" {
		return "", ""
	}
	if at := strings.LastIndexByte(email, '@'); at < 0 || !DomainAllowed(email[at+1:], org.AllowedDomains) {
		return ssoerr.ReasonDomainNotAllowed, fmt.Sprintf("%q is not an allowed domain of %s", email, org.ID)
	}
	return "", ""
}
