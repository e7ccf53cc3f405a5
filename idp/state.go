package idp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// loginState is what a browser carries between starting a login and the
// identity provider's answer, in a cookie signed with the connection's key:
// the login is bound to the browser that started it.
type loginState struct {
	Conn      string `json:"c"`
	RequestID string `json:"r,omitempty"` // SAML AuthnRequest ID
	Nonce     string `json:"n,omitempty"` // OIDC
	Verifier  string `json:"v,omitempty"` // OIDC PKCE
	ReturnTo  string `json:"t"`
	Expires   int64  `json:"e"`
}

const (
	stateCookiePrefix = "ssokit_sso_"
	stateTTL          = 10 * time.Minute
)

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

type stateCodec struct {
	key    []byte
	secure bool // cookies only over https
	now    func() time.Time
	path   string
}

func (c stateCodec) cookiePath() string {
	if c.path == "" {
		return "/"
	}
	return c.path
}

func (c stateCodec) sign(payload []byte) string {
	m := hmac.New(sha256.New, c.key)
	m.Write(payload)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// set stores st under the handle (the RelayState or state parameter).
func (c stateCodec) set(w http.ResponseWriter, handle string, st loginState) {
	st.Expires = c.now().Add(stateTTL).Unix()
	b, _ := json.Marshal(st)
	ck := &http.Cookie{Name: stateCookiePrefix + handle, Value: c.sign(b), Path: c.cookiePath(), HttpOnly: true,
		MaxAge: int(stateTTL / time.Second), Secure: c.secure, SameSite: http.SameSiteLaxMode}
	if c.secure {
		ck.SameSite = http.SameSiteNoneMode // the SAML response is a cross-site POST
	}
	http.SetCookie(w, ck)
}

// take reads and clears the state for handle; false when it is missing,
// forged, for another connection, or expired.
func (c stateCodec) take(w http.ResponseWriter, r *http.Request, handle, conn string) (loginState, bool) {
	if handle == "" || len(handle) > 64 || strings.ContainsAny(handle, "=;, \t") {
		return loginState{}, false
	}
	ck, err := r.Cookie(stateCookiePrefix + handle)
	if err != nil {
		return loginState{}, false
	}
	http.SetCookie(w, &http.Cookie{Name: ck.Name, Value: "", Path: c.cookiePath(), MaxAge: -1, HttpOnly: true, Secure: c.secure})
	payload, mac, ok := strings.Cut(ck.Value, ".")
	if !ok {
		return loginState{}, false
	}
	p, err1 := base64.RawURLEncoding.DecodeString(payload)
	got, err2 := base64.RawURLEncoding.DecodeString(mac)
	if err1 != nil || err2 != nil {
		return loginState{}, false
	}
	m := hmac.New(sha256.New, c.key)
	m.Write(p)
	if !hmac.Equal(got, m.Sum(nil)) {
		return loginState{}, false
	}
	var st loginState
	if json.Unmarshal(p, &st) != nil || st.Conn != conn || c.now().Unix() > st.Expires {
		return loginState{}, false
	}
	return st, true
}

// localPath returns p when it is a path on this site ("/x", not "//x",
// no backslash or control character, no scheme), else "/".
func localPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\") {
		return "/"
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	return p
}
