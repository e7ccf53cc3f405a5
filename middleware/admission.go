package middleware

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	clerkuser "github.com/clerk/clerk-sdk-go/v2/user"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
)

// DefaultSSOPlans are the plans entitled to SSO.
var defaultSSOPlans = []string{"enterprise", "growth"}

// ClerkUsers fetches a Clerk user's primary email through the Backend API
// (GET /v1/users/{id}), for tokens that carry no email; answers are cached.
type ClerkUsers struct {
	client *clerkuser.Client
	mu     sync.Mutex
	cache  map[string]cachedEmail
	now    func() time.Time
}

type cachedEmail struct {
	email string
	until time.Time
}

// NewClerkUsers returns a lookup through the Backend API at apiURL (with
// /v1; zero means Clerk's) with the secret key.
func NewClerkUsers(apiURL, secretKey string, client *http.Client, now func() time.Time) *ClerkUsers {
	if apiURL == "" {
		apiURL = DefaultClerkAPIURL
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	return &ClerkUsers{client: clerkuser.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
		HTTPClient: client, URL: &apiURL, Key: &secretKey}}), cache: map[string]cachedEmail{}, now: now}
}

// Email returns the user's primary email address.
func (c *ClerkUsers) Email(ctx context.Context, userID string) (string, error) {
	now := c.now()
	c.mu.Lock()
	if e, ok := c.cache[userID]; ok && now.Before(e.until) {
		c.mu.Unlock()
		return e.email, nil
	}
	c.mu.Unlock()
	u, err := c.client.Get(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("%w: Clerk user %s: %v", ErrUpstream, userID, err)
	}
	email := ""
	for _, e := range u.EmailAddresses {
		if u.PrimaryEmailAddressID != nil && e.ID == *u.PrimaryEmailAddressID || email == "" {
			email = e.EmailAddress
		}
	}
	c.mu.Lock()
	if len(c.cache) > 10_000 {
		c.cache = map[string]cachedEmail{}
	}
	c.cache[userID] = cachedEmail{email: email, until: now.Add(10 * time.Minute)}
	c.mu.Unlock()
	return email, nil
}

// SSOLogin is what an SSO login brings, whatever its path (a Clerk token,
// or a direct IdP connection's Identity).
type SSOLogin struct {
	// OrgID is the app organization (direct SSO); ClerkOrgID maps one
	// (Clerk). One of the two is required.
	OrgID, ClerkOrgID string
	ClerkRole         string // e.g. org:admin
	ClerkUserID       string
	ClerkSessionID    string
	Email             string
	Groups            []string
	IdPName           string
}

// ClerkLogin reads an SSOLogin from a verified Clerk principal: email,
// groups and IdP from the token's claims (names configurable), the email
// through the Backend API when the token has none.
func (a *Authenticator) ClerkLogin(ctx context.Context, p *Principal) (SSOLogin, error) {
	l := SSOLogin{ClerkOrgID: p.ClerkOrg.ID, ClerkRole: p.ClerkOrg.Role, ClerkUserID: p.UserID, ClerkSessionID: p.SessionID, Email: p.Email}
	var groups []string
	if ok, err := p.Claim(a.groupsClaim, &groups); ok && err == nil {
		l.Groups = groups
	} else if ok {
		var one string // OneLogin-style ;-joined string
		if p.Claim(a.groupsClaim, &one); one != "" {
			l.Groups = strings.Split(one, ";")
		}
	}
	p.Claim(a.idpClaim, &l.IdPName)
	if l.Email == "" && a.clerkUsers != nil {
		e, err := a.clerkUsers.Email(ctx, p.UserID)
		if err != nil {
			return SSOLogin{}, err
		}
		l.Email = e
	}
	return l, nil
}

// IdentityLogin is the SSOLogin of a direct IdP connection's Identity.
func IdentityLogin(orgID string, id *idp.Identity) SSOLogin {
	return SSOLogin{OrgID: orgID, Email: id.Email, Groups: id.Groups, IdPName: string(id.IdP)}
}

// Admit applies the organization's rules to an SSO login and returns the
// app principal: the Clerk organization maps to exactly one app
// organization; its plan must be entitled to SSO; the email's domain must
// be allowed; an unknown person is created with the default role when
// auto_create_users is on (concurrent first logins create one), refused
// otherwise; with group_roles the role is recomputed from the groups at
// every login (highest match, else the Clerk role through clerk_role_map,
// else default_role), otherwise the stored role stands.
func (a *Authenticator) Admit(ctx context.Context, l SSOLogin) (*Principal, error) {
	if a.store == nil {
		return nil, errors.New("ssokit: Admit needs AuthenticatorConfig.Store")
	}
	var org store.Org
	var err error
	switch {
	case l.OrgID != "":
		org, err = a.store.GetOrg(ctx, l.OrgID)
	case l.ClerkOrgID != "":
		org, err = a.store.OrgByClerkID(ctx, l.ClerkOrgID)
	default:
		return nil, forbid(CodeOrgNotMapped, "the session has no active Clerk organization")
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, forbid(CodeOrgNotMapped, "%v", err)
	} else if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUpstream, err)
	}
	if !slices.Contains(a.ssoPlans, org.Plan) {
		return nil, forbid(CodePlanNotEntitled, "plan %q of %s is not entitled to SSO", org.Plan, org.ID)
	}
	if l.Email == "" {
		return nil, forbid(CodeNoEmail, "no email for %s", l.ClerkUserID)
	}
	domain, ok := emailDomain(l.Email)
	if !ok || !domainAllowed(domain, org.AllowedDomains) {
		return nil, forbid(CodeDomainNotAllowed, "%q is not an allowed domain of %s", l.Email, org.ID)
	}
	email := strings.ToLower(strings.TrimSpace(l.Email))
	u, err := a.store.UserByEmail(ctx, org.ID, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if !org.AutoCreateUsers {
			return nil, forbid(CodeUserNotProvisioned, "%s has no account in %s and auto_create_users is off", email, org.ID)
		}
		role := org.DefaultRole
		if role == "" {
			role = string(rbac.Viewer)
		}
		u, _, err = a.store.CreateUserIfAbsent(ctx, store.User{ID: "usr_" + randomID(12), OrgID: org.ID, Email: email,
			Role: role, ClerkUserID: l.ClerkUserID, Source: MethodSSO})
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUpstream, err)
		}
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrUpstream, err)
	}
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
	now := a.now()
	u, err = a.store.UpdateUser(ctx, u.ID, func(x *store.User) error {
		x.Role, x.LastLogin = role, now
		if l.ClerkUserID != "" {
			x.ClerkUserID = l.ClerkUserID
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUpstream, err)
	}
	_, _ = a.store.UpdateOrg(ctx, org.ID, func(o *store.Org) error {
		o.LastSSOLogin, o.LastSSOProvider = now, l.IdPName
		return nil
	})
	return &Principal{Credential: CredentialAppSession, UserID: u.ID, Email: u.Email, OrgID: org.ID, Role: u.Role,
		AuthMethod: MethodSSO, IdPName: l.IdPName, SessionID: l.ClerkSessionID}, nil
}

// PasswordLogin checks an email and password for an organization. The
// same error answers an unknown person and a wrong password; attempts are
// limited per account and per client IP; require_sso refuses it.
func (a *Authenticator) PasswordLogin(ctx context.Context, orgID, email, password, clientIP string) (*Principal, error) {
	if a.store == nil {
		return nil, errors.New("ssokit: PasswordLogin needs AuthenticatorConfig.Store")
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if !a.accountLimit.allow(orgID+"\x00"+email) || !a.ipLimit.allow(clientIP) {
		return nil, &PolicyError{Code: CodeRateLimited, Status: http.StatusTooManyRequests, Detail: "login attempts", Err: ErrForbidden}
	}
	org, err := a.store.GetOrg(ctx, orgID)
	if err != nil {
		checkPassword("", password)
		return nil, unauthorized(CodeInvalidCredentials, "no organization %s", orgID)
	}
	u, err := a.store.UserByEmail(ctx, orgID, email)
	if err != nil {
		checkPassword("", password)
		return nil, unauthorized(CodeInvalidCredentials, "no user %s", email)
	}
	if !checkPassword(u.PasswordHash, password) {
		return nil, unauthorized(CodeInvalidCredentials, "wrong password for %s", email)
	}
	if org.RequireSSO {
		return nil, forbid(CodeSSORequired, "%s requires SSO", orgID)
	}
	_, _ = a.store.UpdateUser(ctx, u.ID, func(x *store.User) error { x.LastLogin = a.now(); return nil })
	return &Principal{Credential: CredentialAppSession, UserID: u.ID, Email: u.Email, OrgID: org.ID, Role: u.Role, AuthMethod: MethodPassword}, nil
}

// StartSession issues the app session for an admitted principal and sets
// its cookie.
func (a *Authenticator) StartSession(w http.ResponseWriter, p *Principal) error {
	if a.sessions == nil {
		return errors.New("ssokit: StartSession needs AuthenticatorConfig.Sessions")
	}
	csid := ""
	if p.AuthMethod == MethodSSO {
		csid = p.SessionID
	}
	tok, exp, err := a.sessions.Issue(AppClaims{Subject: p.UserID, OrgID: p.OrgID, Role: p.Role, AuthMethod: p.AuthMethod,
		IdPName: p.IdPName, Email: p.Email, ClerkSID: csid})
	if err != nil {
		return err
	}
	a.sessions.SetCookie(w, tok, exp)
	return nil
}

// Logout revokes the principal's app session (by jti, until it would have
// expired) and clears the cookie.
func (a *Authenticator) Logout(ctx context.Context, w http.ResponseWriter, p *Principal) error {
	if a.sessions != nil {
		a.sessions.ClearCookie(w)
	}
	if p.Credential == CredentialAppSession && a.store != nil && p.app != nil {
		return a.store.RevokeToken(ctx, p.app.ID, time.Unix(p.app.Expires, 0))
	}
	return nil
}

// RevokeUser ends every app session of a person issued until now.
func (a *Authenticator) RevokeUser(ctx context.Context, userID string) error {
	now := a.now()
	_, err := a.store.UpdateUser(ctx, userID, func(u *store.User) error { u.ValidAfter = now; return nil })
	return err
}

// checkAppSession applies what can end a valid app session early: its
// jti revoked, the person's sessions revoked or removed, or require_sso
// turned on after a password session began.
//
// With a Versioned store the result is remembered with the principal (shared
// through the token cache) and the checks run again only once the store's
// version has moved: any revocation or change to a person or an
// organization moves it.
func (a *Authenticator) checkAppSession(ctx context.Context, p *Principal) error {
	if a.store == nil {
		return nil
	}
	vs, versioned := a.store.(store.Versioned)
	if !versioned || p.checked == nil {
		return a.checkAppSessionFull(ctx, p)
	}
	ver := vs.Version() + 1
	if p.checked.Load() == ver {
		return nil
	}
	if err := a.checkAppSessionFull(ctx, p); err != nil {
		return err
	}
	p.checked.Store(ver)
	return nil
}

func (a *Authenticator) checkAppSessionFull(ctx context.Context, p *Principal) error {
	if revoked, err := a.store.IsRevoked(ctx, p.app.ID); err != nil {
		return fmt.Errorf("%w: %v", ErrUpstream, err)
	} else if revoked {
		return unauthorized(CodeSessionRevoked, "session %s revoked", p.app.ID)
	}
	u, err := a.store.GetUser(ctx, p.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return unauthorized(CodeSessionRevoked, "user %s removed", p.UserID)
	} else if err != nil {
		return fmt.Errorf("%w: %v", ErrUpstream, err)
	}
	if !u.ValidAfter.IsZero() && p.IssuedAt.Before(u.ValidAfter.Truncate(time.Second).Add(time.Second)) {
		return unauthorized(CodeSessionRevoked, "sessions of %s revoked", p.UserID)
	}
	if p.AuthMethod == MethodPassword {
		org, err := a.store.GetOrg(ctx, p.OrgID)
		if err != nil {
			return unauthorized(CodeSessionRevoked, "organization %s gone", p.OrgID)
		}
		if org.RequireSSO && !p.IssuedAt.After(org.RequireSSOSince) {
			return unauthorized(CodeSSORequired, "%s requires SSO since %s", p.OrgID, org.RequireSSOSince)
		}
	}
	return nil
}

// checkAPIKey applies the organization's disable_api_key_auth.
func (a *Authenticator) checkAPIKey(ctx context.Context, k store.APIKey) (*Principal, error) {
	org, err := a.store.GetOrg(ctx, k.OrgID)
	if err != nil {
		return nil, unauthorized(CodeSessionRevoked, "organization %s gone", k.OrgID)
	}
	if org.DisableAPIKeyAuth {
		return nil, forbid(CodeAPIKeyDisabled, "%s disables API keys", org.ID)
	}
	return &Principal{Credential: CredentialAPIKey, UserID: k.ID, APIKeyID: k.ID, OrgID: k.OrgID, Role: k.Role, AuthMethod: MethodAPIKey}, nil
}

// RequireRole returns middleware answering 403 insufficient_scope unless
// the request's principal (set by Handler) has at least role r in the
// policy's ranking.
func (a *Authenticator) RequireRole(r rbac.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			p, ok := PrincipalFrom(req.Context())
			if !ok || !a.policy.AtLeast(rbac.Role(p.Role), r) {
				a.refuse(w, req, fmt.Errorf("%w: role %q is below %q", ErrForbidden, roleOf(p), r))
				return
			}
			next.ServeHTTP(w, req)
		})
	}
}

// RequirePermission returns middleware answering 403 insufficient_scope
// unless the principal's role grants perm.
func (a *Authenticator) RequirePermission(perm rbac.Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			p, ok := PrincipalFrom(req.Context())
			if !ok || !a.policy.Allowed(rbac.Role(p.Role), perm) {
				a.refuse(w, req, fmt.Errorf("%w: role %q lacks %q", ErrForbidden, roleOf(p), perm))
				return
			}
			next.ServeHTTP(w, req)
		})
	}
}

func roleOf(p *Principal) string {
	if p == nil {
		return ""
	}
	return p.Role
}

// Policy is the authenticator's RBAC policy.
func (a *Authenticator) Policy() *rbac.Policy { return a.policy }

// Sessions is the authenticator's app session manager (nil if none).
func (a *Authenticator) Sessions() *Sessions { return a.sessions }

// APIKeys is the authenticator's API key manager (nil if none).
func (a *Authenticator) APIKeys() *APIKeys { return a.apiKeys }

// Store is the authenticator's store (nil if none).
func (a *Authenticator) Store() store.Store { return a.store }

// Clerk is the authenticator's Clerk verifier (nil if none).
func (a *Authenticator) Clerk() *ClerkVerifier { return a.clerk }
