package middleware

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/appsession"
)

// ClerkLogin reads an admission.Login from a verified Clerk principal:
// the Clerk user as its Subject; email, groups and IdP from the token's
// claims (names configurable; groups as an array, or as one string that is
// one group unless AuthenticatorConfig.JoinedGroups names the token's IdP
// and the separator it joins them with), the email through the Backend API
// (AuthenticatorConfig.ClerkUsers) when the token has none.
func (a *Authenticator) ClerkLogin(ctx context.Context, p *Principal) (admission.Login, error) {
	s := p.Clerk
	if s == nil {
		return admission.Login{}, errors.New("middleware: ClerkLogin needs a Clerk-session principal")
	}
	l := admission.Login{ClerkOrgID: s.Org.ID, ClerkRole: s.Org.Role, ClerkUserID: s.UserID, ClerkSessionID: s.SessionID, Email: s.Email,
		Subject: s.UserID}
	l.IdPName, _ = claimString(s, a.idpClaim)
	var groups []string
	if ok, err := s.Claim(a.groupsClaim, &groups); ok && err == nil {
		l.Groups = groups
	} else if ok {
		var joined string
		if _, err := s.Claim(a.groupsClaim, &joined); err == nil && joined != "" {
			if sep := a.joinedGroups[l.IdPName]; sep != "" && l.IdPName != "" {
				l.Groups = strings.Split(joined, sep)
			} else {
				l.Groups = []string{joined}
			}
		}
	}
	if l.Email == "" && a.clerkUsers != nil {
		e, err := a.clerkUsers.Email(ctx, s.UserID)
		if err != nil {
			return admission.Login{}, err
		}
		l.Email = e
	}
	return l, nil
}

// StartSession issues the app session of an admitted person and sets its
// cookie. It returns the session's claims.
func (a *Authenticator) StartSession(w http.ResponseWriter, person *admission.Person) (*appsession.Claims, error) {
	if a.sessions == nil {
		return nil, errors.New("middleware: StartSession needs AuthenticatorConfig.Sessions")
	}
	c := appsession.Claims{Subject: person.UserID, OrgID: person.OrgID, Role: person.Role, AuthMethod: person.AuthMethod,
		IdPName: person.IdPName, Email: person.Email, ClerkSID: person.ClerkSessionID}
	tok, exp, err := a.sessions.Issue(c)
	if err != nil {
		return nil, err
	}
	a.sessions.SetCookie(w, tok, exp)
	return a.sessions.Verify(tok)
}

// Logout clears the app session cookie and, for an app session, revokes it
// (by jti, until it would have expired). Other credentials are not
// sessions of this app: only the cookie is cleared.
func (a *Authenticator) Logout(ctx context.Context, w http.ResponseWriter, p *Principal) error {
	if a.sessions == nil {
		return nil
	}
	a.sessions.ClearCookie(w)
	if p != nil && p.App != nil {
		return a.sessions.Revoke(ctx, p.App)
	}
	return nil
}
