package state

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// The errors Decode and Encode return, checkable with errors.Is. Decode
// wraps one of ErrInvalid, ErrExpired or ErrWrongBrowser; the detail is
// for logs, never for the browser.
var (
	// ErrInvalid: the value is malformed, too large, forged (its MAC does
	// not match) or carries a return-to path that is not local.
	ErrInvalid = errors.New("state: invalid")
	// ErrExpired: the value was genuine but its expiry has passed.
	ErrExpired = errors.New("state: expired")
	// ErrWrongBrowser: the value is genuine but bound to another nonce:
	// it came back to a browser that did not start the flow.
	ErrWrongBrowser = errors.New("state: not bound to this browser")
	// ErrReturnTo: a return-to path that is not a local path of this site.
	ErrReturnTo = errors.New("state: return-to is not a local path")
)

const (
	// MinKeySize is the shortest key New accepts, in bytes.
	MinKeySize = 32
	// DefaultTTL is how long a value lives when Config.TTL is zero.
	DefaultTTL = 10 * time.Minute
	// MaxSize bounds an encoded value (a cookie holds about 4 KiB).
	MaxSize = 3072
	// MaxReturnTo bounds a return-to path.
	MaxReturnTo = 1024
	// MaxLogoutRequests bounds the LogoutRequest IDs one value carries.
	MaxLogoutRequests = 8
	// macContext separates these MACs from any other use of the key.
	macContext = "ssokit/state/v1\x00"
)

// Payload is what a browser carries between the start of a redirect flow
// (an SSO login, a single logout) and the answer that comes back to it.
type Payload struct {
	// ConnectionID names the connection the flow belongs to; Decode's
	// caller compares it with the connection that receives the answer.
	ConnectionID string `json:"c"`
	// ReturnTo is the local path to go back to afterwards ("" means "/").
	// Encode and Decode refuse anything LocalPath refuses.
	ReturnTo string `json:"t,omitempty"`
	// Nonce binds the value to one browser: the caller keeps it in a
	// cookie (or gets it back as the flow's own handle) and Decode
	// requires the same nonce. Encode requires one (NewNonce).
	Nonce string `json:"n"`
	// Expires is set by Encode to now + TTL when zero (or later).
	Expires time.Time `json:"-"`
	// RequestID is the SAML AuthnRequest ID the response must answer.
	RequestID string `json:"r,omitempty"`
	// OIDCNonce and PKCEVerifier are the OpenID Connect nonce and the PKCE
	// code verifier of an authorization request.
	OIDCNonce    string `json:"o,omitempty"`
	PKCEVerifier string `json:"v,omitempty"`
	// LogoutRequestIDs are the IDs of the SAML LogoutRequests this browser
	// was sent with; a LogoutResponse is accepted only InResponseTo one of
	// them. At most MaxLogoutRequests.
	LogoutRequestIDs []string `json:"l,omitempty"`
	// ForceAuthn records that this login was already restarted with
	// ForceAuthn because the IdP's authentication was too old: a second
	// stale answer is refused rather than restarted again.
	ForceAuthn bool `json:"f,omitempty"`
}

// wire is Payload with its expiry in seconds, as encoded.
type wire struct {
	Payload
	Exp int64 `json:"e"`
}

// Config configures a Codec.
type Config struct {
	// Key signs the values (HMAC-SHA256). Required, at least MinKeySize
	// random bytes, shared by every replica; there is no default.
	Key []byte
	// PreviousKeys still verify values (never sign them): during a key
	// rotation, values signed before the switch keep working until they
	// expire. Each is at least MinKeySize bytes. Drop a key once TTL has
	// passed since the switch.
	PreviousKeys [][]byte
	// TTL is how long a value lives. Zero means DefaultTTL.
	TTL time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Rand is the source of nonces. Nil means crypto/rand.
	Rand io.Reader
}

// Codec signs and verifies browser-bound state values. It is safe for
// concurrent use. Its zero value is not usable: use New.
type Codec struct {
	key  []byte
	old  [][]byte
	ttl  time.Duration
	now  func() time.Time
	rand io.Reader
}

// New validates cfg and returns a Codec.
func New(cfg Config) (*Codec, error) {
	if len(cfg.Key) < MinKeySize {
		return nil, fmt.Errorf("state: the key must be at least %d bytes, got %d", MinKeySize, len(cfg.Key))
	}
	if cfg.TTL < 0 {
		return nil, errors.New("state: TTL is negative")
	}
	c := &Codec{key: append([]byte(nil), cfg.Key...), ttl: cfg.TTL, now: cfg.Now, rand: cfg.Rand}
	for i, k := range cfg.PreviousKeys {
		if len(k) < MinKeySize {
			return nil, fmt.Errorf("state: previous key %d must be at least %d bytes, got %d", i+1, MinKeySize, len(k))
		}
		c.old = append(c.old, append([]byte(nil), k...))
	}
	if c.ttl == 0 {
		c.ttl = DefaultTTL
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.rand == nil {
		c.rand = rand.Reader
	}
	return c, nil
}

// TTL is how long the values this codec encodes live.
func (c *Codec) TTL() time.Duration { return c.ttl }

// NewNonce returns a fresh random nonce (32 bytes, base64url) to bind a
// value to a browser.
func (c *Codec) NewNonce() (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(c.rand, b); err != nil {
		return "", fmt.Errorf("state: reading randomness: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Encode signs p. It requires a Nonce, a local ReturnTo (or none) and at
// most MaxLogoutRequests IDs, and sets Expires to now + TTL unless p
// already expires earlier.
func (c *Codec) Encode(p Payload) (string, error) {
	if p.Nonce == "" {
		return "", fmt.Errorf("%w: no nonce binds the value to a browser", ErrInvalid)
	}
	if p.ReturnTo != "" {
		if _, err := LocalPath(p.ReturnTo); err != nil {
			return "", err
		}
	}
	if len(p.LogoutRequestIDs) > MaxLogoutRequests {
		return "", fmt.Errorf("%w: more than %d logout request IDs", ErrInvalid, MaxLogoutRequests)
	}
	exp := c.now().Add(c.ttl)
	if !p.Expires.IsZero() && p.Expires.Before(exp) {
		exp = p.Expires
	}
	body, err := json.Marshal(wire{Payload: p, Exp: exp.Unix()})
	if err != nil {
		return "", fmt.Errorf("state: %w", err)
	}
	v := base64.RawURLEncoding.EncodeToString(body) + "." + base64.RawURLEncoding.EncodeToString(c.mac(body))
	if len(v) > MaxSize {
		return "", fmt.Errorf("%w: the encoded value is %d bytes, limit %d", ErrInvalid, len(v), MaxSize)
	}
	return v, nil
}

// Decode verifies v and returns its payload. nonce is the one the caller
// holds for this browser; it must equal the payload's. The MAC is checked
// before anything in the payload is believed.
func (c *Codec) Decode(v, nonce string) (Payload, error) {
	if len(v) > MaxSize {
		return Payload{}, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalid, len(v), MaxSize)
	}
	b64, mac64, ok := strings.Cut(v, ".")
	if !ok {
		return Payload{}, fmt.Errorf("%w: not payload.mac", ErrInvalid)
	}
	body, err1 := base64.RawURLEncoding.DecodeString(b64)
	mac, err2 := base64.RawURLEncoding.DecodeString(mac64)
	if err1 != nil || err2 != nil {
		return Payload{}, fmt.Errorf("%w: not base64url", ErrInvalid)
	}
	if !c.verify(body, mac) {
		return Payload{}, fmt.Errorf("%w: the MAC does not match", ErrInvalid)
	}
	var w wire
	if err := json.Unmarshal(body, &w); err != nil {
		return Payload{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	p := w.Payload
	p.Expires = time.Unix(w.Exp, 0)
	if !c.now().Before(p.Expires) {
		return Payload{}, fmt.Errorf("%w: at %s", ErrExpired, p.Expires.UTC().Format(time.RFC3339))
	}
	if p.Nonce == "" || nonce == "" || subtle.ConstantTimeCompare([]byte(p.Nonce), []byte(nonce)) != 1 {
		return Payload{}, ErrWrongBrowser
	}
	if p.ReturnTo != "" {
		if _, err := LocalPath(p.ReturnTo); err != nil {
			return Payload{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	if len(p.LogoutRequestIDs) > MaxLogoutRequests {
		return Payload{}, fmt.Errorf("%w: too many logout request IDs", ErrInvalid)
	}
	return p, nil
}

func (c *Codec) mac(body []byte) []byte { return macWith(c.key, body) }

// verify reports whether mac is body's under the key or a previous key.
func (c *Codec) verify(body, mac []byte) bool {
	ok := hmac.Equal(mac, macWith(c.key, body))
	for _, k := range c.old {
		ok = hmac.Equal(mac, macWith(k, body)) || ok
	}
	return ok
}

func macWith(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(macContext))
	m.Write(body)
	return m.Sum(nil)
}

// LocalPath returns p when it is a path on this site that a browser will
// resolve to this origin, and ErrReturnTo otherwise. It accepts only
// printable ASCII (non-ASCII must be percent-encoded), starting with one
// "/", and refuses: a second "/" or a "\" right after it ("//host",
// "/\host" are other hosts to a browser), any backslash, a scheme, empty,
// "." or ".." path segments, control characters and spaces, and the same
// hidden behind percent-encoding ("/%2F%2Fhost", "/%5Chost", "%0d%0a").
func LocalPath(p string) (string, error) {
	if p == "" || len(p) > MaxReturnTo {
		return "", fmt.Errorf("%w: empty or longer than %d", ErrReturnTo, MaxReturnTo)
	}
	// Check the path as written, then as a browser or server might decode
	// it (twice covers double encoding; a third level is refused).
	cur := p
	for level := range 3 {
		if err := checkLocal(cur, level == 0); err != nil {
			return "", err
		}
		if !strings.Contains(cur, "%") {
			return p, nil
		}
		dec, err := url.PathUnescape(cur)
		if err != nil {
			return "", fmt.Errorf("%w: bad percent-encoding", ErrReturnTo)
		}
		cur = dec
	}
	return "", fmt.Errorf("%w: percent-encoded more than twice", ErrReturnTo)
}

// checkLocal checks one form of a path: the raw form must be printable
// ASCII; a decoded form may hold UTF-8, but no control character either.
func checkLocal(p string, raw bool) error {
	if p == "" || p[0] != '/' {
		return fmt.Errorf("%w: does not start with /", ErrReturnTo)
	}
	for i := 0; i < len(p); i++ {
		if b := p[i]; b <= 0x20 || b == 0x7f || b == '\\' || raw && b > 0x7f {
			return fmt.Errorf("%w: control character, space, backslash or non-ASCII byte", ErrReturnTo)
		}
	}
	path, _, _ := strings.Cut(p, "?")
	path, _, _ = strings.Cut(path, "#")
	for _, seg := range strings.Split(path[1:], "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("%w: dot segment", ErrReturnTo)
		}
	}
	if strings.Contains(path, "//") {
		return fmt.Errorf("%w: empty path segment (// reads as a host)", ErrReturnTo)
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return fmt.Errorf("%w: not a path", ErrReturnTo)
	}
	return nil
}
