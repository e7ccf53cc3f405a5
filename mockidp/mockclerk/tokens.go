package mockclerk

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ssokit/ssokit/mockidp/internal/jwtkeys"
)

// sessionTTL is how long a mock Clerk session lives; tokens live 60 s.
const (
	sessionTTL      = 7 * 24 * time.Hour
	sessionTokenTTL = 60 * time.Second
)

// newSession starts a session for the user in the organization (may be
// empty) and announces it.
func (c *Clerk) newSession(userID, orgID, azp, idpName, clientID string) *cSession {
	now := c.now()
	if clientID == "" {
		clientID = newID("client")
	}
	s := &cSession{ID: newID("sess"), UserID: userID, ClientID: clientID, Status: "active", OrgID: orgID,
		Azp: azp, IdP: idpName, Created: now.UnixMilli(), Updated: now.UnixMilli(), Expire: now.Add(sessionTTL).UnixMilli()}
	c.mu.Lock()
	c.sessions[s.ID] = s
	body := c.sessionJSONLocked(s)
	c.mu.Unlock()
	c.emit("session.created", body)
	return s
}

var errSessionNotActive = errors.New("session is not active")

// sessionDefaultClaims are Clerk's own claims of a session token besides
// the registered ones, which a session token template cannot override
// (clerk.com/docs/guides/sessions/session-tokens, "Default claims").
var sessionDefaultClaims = map[string]bool{"sid": true, "v": true, "o": true, "fva": true, "fea": true, "pla": true, "sts": true}

// mintToken signs a session token for an active session; azp "" is the
// session's own authorized party (its sign-in's redirect origin).
func (c *Clerk) mintToken(sid, azp string, ttl time.Duration) (string, error) {
	if hasFault(c.takeFaults(siteToken), KeyRotated) {
		if _, err := c.keys.Rotate(); err != nil {
			return "", err
		}
	}
	key, err := c.keys.Active()
	if err != nil {
		return "", err
	}
	now := c.now()
	c.mu.Lock()
	s, ok := c.sessions[sid]
	if !ok || s.Status != "active" || now.UnixMilli() > s.Expire {
		c.mu.Unlock()
		return "", errSessionNotActive
	}
	u := c.users[s.UserID]
	if azp == "" {
		azp = s.Azp
	}
	// fva is the minutes since the first and the second factor were
	// verified: the first at the session's sign-in, no second factor (-1).
	firstFactorAge := max(now.UnixMilli()-s.Created, 0) / time.Minute.Milliseconds()
	claims := map[string]any{
		"iss": c.FrontendAPIURL(), "sub": s.UserID, "sid": s.ID, "azp": azp,
		"iat": now.Unix(), "nbf": now.Add(-10 * time.Second).Unix(), "exp": now.Add(ttl).Unix(),
		"jti": strings.ToLower(newID("jti")[4:24]), "fva": []int64{firstFactorAge, -1},
	}
	tmpl := c.cfg.Claims
	if tmpl == nil {
		tmpl = defaultClaims
	}
	for name, code := range tmpl {
		if protectedClaims[name] || sessionDefaultClaims[name] {
			continue
		}
		if v, ok := c.shortcodeLocked(code, u, c.orgs[s.OrgID], s); ok {
			claims[name] = v
		}
	}
	if org := c.orgs[s.OrgID]; org != nil {
		if m := c.memberships[org.ID][s.UserID]; m != nil {
			role := strings.TrimPrefix(m.Role, "org:")
			mask := "1"
			if role == "admin" {
				mask = "3"
			}
			if c.cfg.TokenVersion == 1 {
				perms := []string{"org:sso:read"}
				if mask == "3" {
					perms = append(perms, "org:sso:manage")
				}
				claims["org_id"], claims["org_slug"], claims["org_role"], claims["org_permissions"] = org.ID, org.Slug, m.Role, perms
			} else {
				claims["o"] = map[string]any{"id": org.ID, "slg": org.Slug, "rol": role, "per": "read,manage", "fpm": mask}
				claims["fea"] = "o:sso"
			}
		}
	}
	if c.cfg.TokenVersion != 1 {
		claims["v"] = 2
	}
	c.mu.Unlock()
	// The header is a session token's as Clerk writes it: cat names the
	// session category (a JWT template's token carries another).
	return jwtkeys.Sign(key, map[string]any{"alg": "RS256", "cat": "cl_B7d4PD111AAA", "kid": key.KID, "typ": "JWT"}, claims)
}

// MintSessionToken signs a session token for a user of the instance in an
// organization (its ID or slug; "" for none) without the sign-in flow,
// creating the user and the membership (role admin or member) as needed.
// azp is the authorized party, e.g. the app's origin.
func (c *Clerk) MintSessionToken(email, org, role, azp string) (string, error) {
	now := c.now().UnixMilli()
	c.mu.Lock()
	u := c.userLocked(email, "", "", now)
	orgID := ""
	if org != "" {
		o := c.orgLocked(org)
		if o == nil {
			c.mu.Unlock()
			return "", errors.New("mockclerk: no organization " + org)
		}
		orgID = o.ID
		if c.memberships[o.ID][u.ID] == nil {
			c.memberships[o.ID][u.ID] = &cMembership{ID: newID("orgmem"), Role: clerkRole(role), Created: now, Updated: now,
				PublicMetadata: map[string]any{}, PrivateMetadata: map[string]any{}}
		} else if role != "" {
			c.memberships[o.ID][u.ID].Role = clerkRole(role)
		}
	}
	c.mu.Unlock()
	s := c.newSession(u.ID, orgID, azp, "", "")
	return c.mintToken(s.ID, "", sessionTokenTTL)
}

// RevokeSession revokes a session: no further tokens are issued for it.
func (c *Clerk) RevokeSession(sid string) error {
	c.mu.Lock()
	s, ok := c.sessions[sid]
	if !ok {
		c.mu.Unlock()
		return errors.New("mockclerk: no session " + sid)
	}
	s.Status, s.Updated = "revoked", c.now().UnixMilli()
	body := c.sessionJSONLocked(s)
	c.mu.Unlock()
	c.emit("session.revoked", body)
	return nil
}

func (c *Clerk) serveJWKS(w http.ResponseWriter, r *http.Request) {
	for _, f := range c.takeFaults(siteJWKS) {
		switch f {
		case JWKSUnavailable:
			http.Error(w, "service unavailable", http.StatusServiceUnavailable)
			return
		case JWKSSlow:
			if !sleepCtx(r, slowFaultDelay) {
				return
			}
		}
	}
	set, err := c.keys.JWKS()
	if err != nil {
		http.Error(w, "key generation failed", http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, set)
}

// shortcodeLocked resolves a session token template value; false drops the
// claim (an unknown shortcode or a missing value).
func (c *Clerk) shortcodeLocked(code string, u *cUser, o *cOrg, s *cSession) (any, bool) {
	key, open := strings.CutPrefix(code, "{{")
	key, closed := strings.CutSuffix(key, "}}")
	if !open || !closed {
		return code, true // a literal
	}
	key = strings.TrimSpace(key)
	switch {
	case u != nil && key == "user.primary_email_address":
		return u.Email, true
	case u != nil && key == "user.first_name":
		return u.FirstName, true
	case u != nil && key == "user.last_name":
		return u.LastName, true
	case key == "session.idp":
		return s.IdP, s.IdP != ""
	case o != nil && key == "org.slug":
		return o.Slug, true
	case u != nil && strings.HasPrefix(key, "user.public_metadata."):
		v, ok := u.PublicMetadata[strings.TrimPrefix(key, "user.public_metadata.")]
		if !ok && key == "user.public_metadata.groups" {
			return []any{}, true
		}
		return v, ok
	case o != nil && strings.HasPrefix(key, "org.public_metadata."):
		v, ok := o.PublicMetadata[strings.TrimPrefix(key, "org.public_metadata.")]
		return v, ok
	}
	return nil, false
}

// UserID returns the ID of the user with the email address, if any.
func (c *Clerk) UserID(email string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u, ok := c.userByEmailLocked(email); ok {
		return u.ID, true
	}
	return "", false
}
