package controlplane

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/middleware"
)

// Codes of the Clerk sign-in path.
const (
	codeClerkSignedOut   = "clerk_signed_out"  // 401: the Clerk sign-in came back without a session
	codeInvalidParameter = "invalid_parameter" // 400: a query parameter is malformed or over its length limit
	codeNotClerkSession  = "not_clerk_session" // 401: the exchange takes a Clerk session token as Bearer, nothing else
)

// The SSO state cookie: __Host- prefixed (Secure, Path=/, no Domain: a
// sibling subdomain cannot set or shadow it) when the app is served over
// https with Secure cookies; on plain http the prefix is not available.
const (
	stateCookieName     = "ssokit_sso_state"
	hostStateCookieName = "__Host-ssokit_sso_state"
)

// maxEmailHint bounds the email a sign-in start forwards to the IdP or
// Clerk (RFC 5321 allows 254 octets in a path).
const maxEmailHint = 320

// hostCookies reports whether the state cookie takes the __Host- prefix.
func (a *API) hostCookies() bool {
	return strings.HasPrefix(a.cfg.AppURL, "https://") && a.sessions.SecureCookie()
}

func (a *API) stateCookie() (name, path string) {
	if a.hostCookies() {
		return hostStateCookieName, "/"
	}
	return stateCookieName, "/auth/sso/"
}

func (a *API) setStateCookie(w http.ResponseWriter, nonce string) {
	name, path := a.stateCookie()
	http.SetCookie(w, &http.Cookie{Name: name, Value: nonce, Path: path, HttpOnly: true, Secure: a.sessions.SecureCookie(),
		SameSite: http.SameSiteLaxMode, MaxAge: int(a.state.TTL() / time.Second)})
}

func (a *API) clearStateCookie(w http.ResponseWriter) {
	name, path := a.stateCookie()
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, HttpOnly: true, Secure: a.sessions.SecureCookie(),
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// stateNonce is the state cookie's value; dup reports a name sent twice
// (a cookie tossed from a sibling subdomain beside the real one).
func (a *API) stateNonce(r *http.Request) (nonce string, dup bool) {
	name, _ := a.stateCookie()
	cs := r.CookiesNamed(name)
	if len(cs) > 1 {
		return "", true
	}
	if len(cs) == 1 {
		return cs[0].Value, false
	}
	return "", false
}

// handshakeParts builds the Clerk handshake when Clerk is configured with
// a publishable key (the handshake needs the Frontend API it names).
func (a *API) handshakeParts() error {
	if a.clerk == nil || a.cfg.Clerk.PublishableKey == "" {
		return nil
	}
	app, err := url.Parse(a.cfg.AppURL)
	if err != nil {
		return err
	}
	u := app.Scheme + "://" + app.Host
	hs, err := clerkauth.NewHandshake(clerkauth.HandshakeConfig{
		Verifier: a.clerk, PublishableKey: a.cfg.Clerk.PublishableKey, InsecureHTTPLoopback: a.cfg.Clerk.InsecureHTTPLoopback,
		AppURL: u, SecretKey: a.cfg.Clerk.SecretKey, APIURL: a.cfg.Clerk.APIURL, HTTPClient: a.cfg.HTTPClient,
		Now: a.cfg.Now, Logger: a.log,
	})
	if err != nil {
		return err
	}
	a.hs = hs
	return nil
}

// Handshake wraps page routes that opt in to Clerk's handshake: a page
// load that carries no app session cookie and no Authorization header is
// resolved as Clerk's backend SDK does (the __session cookie when fresh,
// else a handshake redirect through the Frontend API) and reaches next
// authenticated by its Clerk session token, which next's Authenticator
// then verifies as any Bearer token. A development instance's payload,
// which arrives in the URL, is applied and the browser sent back to the
// same URL without it. Requests that are not page loads, and browsers
// without a Clerk session, reach next unchanged (it decides what an
// unauthenticated request gets). Without a Clerk publishable key it is
// next itself.
func (a *API) Handshake(next http.Handler) http.Handler {
	if a.hs == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || len(r.CookiesNamed(a.sessions.CookieName())) > 0 {
			next.ServeHTTP(w, r)
			return
		}
		res := a.hs.Authenticate(w, r)
		switch res.Status {
		case clerkauth.Redirect:
			res.WriteRedirect(w)
			return
		case clerkauth.SignedIn:
			if q := r.URL.Query(); !a.hs.Production() && (q.Has(clerkauth.CookieHandshake) || q.Has(clerkauth.CookieHandshakeNonce)) {
				// Development: the payload came in the URL; its
				// directives are set, so the clean URL signs in locally.
				clerkauth.HandshakeResult{Location: clerkauth.CleanURL(r)}.WriteRedirect(w)
				return
			}
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+res.Token)
		}
		next.ServeHTTP(w, r)
	})
}

// exchange is POST /v1/auth/session: an SPA whose pages get Clerk session
// tokens from clerk-js (getToken()) sends one as a Bearer token and gets
// the app's own HTTP-only session cookie, after the same mapping,
// admission and roles as the SSO callback. Only a Clerk session token is
// taken (not an app session or an API key).
func (a *API) exchange(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if a.clerk == nil {
		fail(w, http.StatusBadRequest, codeSSOUnavailable, "Clerk is not configured")
		return
	}
	p, err := a.auth.Authenticate(r)
	if err != nil {
		a.refuse(w, r, err)
		return
	}
	if p.Credential != middleware.CredentialClerkSession || !bearerScheme(r) {
		fail(w, http.StatusUnauthorized, codeNotClerkSession, "send a Clerk session token as Authorization: Bearer")
		return
	}
	l, err := a.auth.ClerkLogin(r.Context(), p)
	if err != nil {
		a.refuse(w, r, err)
		return
	}
	person, err := a.admit.Admit(r.Context(), l)
	if err != nil {
		a.refuse(w, r, err)
		return
	}
	if _, err := a.auth.StartSession(w, person); err != nil {
		fail(w, http.StatusInternalServerError, codeSessionError, "could not start the session")
		return
	}
	writeJSON(w, http.StatusOK, personOut(person))
}

// bearerScheme reports whether r's Authorization header is a Bearer
// token: a Clerk principal with any other (a Basic header riding along)
// came from the __session cookie, which the exchange does not take.
func bearerScheme(r *http.Request) bool {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "Bearer") && strings.TrimLeft(tok, " ") != ""
}

// clearClerkCookies deletes Clerk's cookies on the app's host at logout,
// plain and suffixed, so the next page load does not find the old session
// token.
func (a *API) clearClerkCookies(w http.ResponseWriter) {
	names := []string{clerkauth.CookieSession, clerkauth.CookieClientUAT}
	if a.hs != nil {
		sfx := "_" + a.hs.CookieSuffix()
		names = append(names, clerkauth.CookieSession+sfx, clerkauth.CookieClientUAT+sfx)
	}
	for _, n := range names {
		http.SetCookie(w, &http.Cookie{Name: n, Value: "", Path: "/", MaxAge: -1, Secure: a.sessions.SecureCookie(), SameSite: http.SameSiteLaxMode})
	}
}
