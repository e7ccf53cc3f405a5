package idp

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ssokit/ssokit/internal/state"
)

// A browser carries each flow's state (login or single logout) in a cookie
// named after the flow's handle, the RelayState or OAuth state parameter
// that comes back with the IdP's answer. The value is signed by
// internal/state and bound to the handle as its nonce: the answer is only
// accepted in the browser that started the flow, with the parameter the
// flow was started with, before it expires, and once (the cookie is
// cleared when read).
const (
	stateCookiePrefix = "ssokit_sso_"
	hostCookiePrefix  = "__Host-"
	stateTTL          = 10 * time.Minute
	maxHandle         = 64
)

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// stateCodec sets and takes the state cookies of one connection.
type stateCodec struct {
	codec  *state.Codec
	secure bool // cookies only over https
	path   string
}

func newStateCodec(opts Options, secure bool) (stateCodec, error) {
	codec, err := state.New(state.Config{Key: opts.StateKey, PreviousKeys: opts.PreviousStateKeys, TTL: stateTTL, Now: opts.Now})
	if err != nil {
		return stateCodec{}, fmt.Errorf("%w: StateKey: %v", ErrConfig, err)
	}
	return stateCodec{codec: codec, secure: secure, path: opts.CookiePath}, nil
}

// cookieName is the state cookie of handle. Over https with the path "/"
// it carries the __Host- prefix: a browser takes such a cookie only from
// this exact host, over https, without a Domain, so a sibling subdomain
// cannot toss its own state (an attacker's login) into this site
// (RFC 6265bis section 4.1.3.2).
func (c stateCodec) cookieName(handle string) string {
	if c.secure && c.cookiePath() == "/" {
		return hostCookiePrefix + stateCookiePrefix + handle
	}
	return stateCookiePrefix + handle
}

func (c stateCodec) cookiePath() string {
	if c.path == "" {
		return "/"
	}
	return c.path
}

// set stores p under handle, which becomes its nonce.
func (c stateCodec) set(w http.ResponseWriter, handle string, p state.Payload) error {
	p.Nonce = handle
	v, err := c.codec.Encode(p)
	if err != nil {
		return fmt.Errorf("%w: state: %v", ErrConfig, err)
	}
	ck := &http.Cookie{Name: c.cookieName(handle), Value: v, Path: c.cookiePath(), HttpOnly: true,
		MaxAge: int(stateTTL / time.Second), Secure: c.secure, SameSite: http.SameSiteLaxMode}
	if c.secure {
		ck.SameSite = http.SameSiteNoneMode // the SAML response is a cross-site POST
	}
	http.SetCookie(w, ck)
	return nil
}

// take reads and clears the state for handle; false when it is missing,
// sent twice, forged, bound to another handle, for another connection, or expired.
func (c stateCodec) take(w http.ResponseWriter, r *http.Request, handle, conn string) (state.Payload, bool) {
	if handle == "" || len(handle) > maxHandle || strings.ContainsAny(handle, "=;, \t\r\n\"") {
		return state.Payload{}, false
	}
	cks := r.CookiesNamed(c.cookieName(handle))
	if len(cks) != 1 {
		return state.Payload{}, false // none, or a second one tossed in beside it
	}
	ck := cks[0]
	http.SetCookie(w, &http.Cookie{Name: ck.Name, Value: "", Path: c.cookiePath(), MaxAge: -1, HttpOnly: true, Secure: c.secure})
	p, err := c.codec.Decode(ck.Value, handle)
	if err != nil || p.ConnectionID != conn {
		return state.Payload{}, false
	}
	return p, true
}

// localPath returns p when it is a local path of this site
// (state.LocalPath), else "/".
func localPath(p string) string {
	if lp, err := state.LocalPath(p); err == nil {
		return lp
	}
	return "/"
}
