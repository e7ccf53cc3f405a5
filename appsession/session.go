package appsession

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/ssokit/ssokit/internal/strictjson"
	"github.com/ssokit/ssokit/ssoerr"
)

// Defaults for the zero values of Config.
const (
	DefaultCookie        = "ssokit_session"
	DefaultLifetime      = 12 * time.Hour
	DefaultLeeway        = 5 * time.Second
	DefaultMaxTokenBytes = 8 << 10
)

// Revocations remembers revoked session IDs (jti) until the session would
// have expired. store.Memory implements it.
type Revocations interface {
	RevokeToken(ctx context.Context, jti string, until time.Time) error
	IsRevoked(ctx context.Context, jti string) (bool, error)
}

// ErrNoRevocations is returned by Revoke when Config.Revocations is nil.
var ErrNoRevocations = errors.New("appsession: no revocation store configured")

// Config configures the app's own sessions. Keys and Issuer are required.
type Config struct {
	// Keys sign and verify: the first signs; all verify, so a key rotated
	// out of first place keeps its sessions valid until they expire, and a
	// key removed from the list ends them.
	Keys []Key
	// Issuer is the iss of app tokens (the app's URL).
	Issuer string
	// Lifetime of a session. Zero means DefaultLifetime (12 h).
	Lifetime time.Duration
	// Leeway tolerates clock skew between replicas on exp and iat. Zero
	// means DefaultLeeway (5 s); negative means none.
	Leeway time.Duration
	// Cookie is the cookie name. Zero means DefaultCookie.
	Cookie string
	// InsecureCookie drops the cookie's Secure attribute. Browsers do not
	// send a Secure cookie over plain http except to localhost, so a
	// plain-http deployment on another host needs it; never set it where
	// users arrive over https.
	InsecureCookie bool
	// MaxTokenBytes refuses longer tokens unread. Zero means
	// DefaultMaxTokenBytes (8 KiB).
	MaxTokenBytes int
	// Revocations holds revoked session IDs; nil means Revoke fails with
	// ErrNoRevocations and Revoked reports false.
	Revocations Revocations
	// Ephemeral marks Keys as made for this process (EphemeralKey): New
	// logs a warning.
	Ephemeral bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil means silent.
	Logger *slog.Logger
}

// Manager issues, verifies and revokes the app's session tokens and sets
// their cookie. Tokens are JWS compact (RS256 or EdDSA, by the signing key)
// made and checked with golang-jwt; before golang-jwt decodes them, the
// header and the claims must pass a strict parse that refuses duplicate
// member names and names differing only in case, which encoding/json would
// otherwise resolve silently.
type Manager struct {
	cfg    Config
	keys   map[string]Key
	parser *jwt.Parser
	now    func() time.Time
	log    *slog.Logger
}

// New validates cfg and returns a Manager.
func New(cfg Config) (*Manager, error) {
	if len(cfg.Keys) == 0 {
		return nil, errors.New("appsession: Config needs at least one key")
	}
	if cfg.Issuer == "" {
		return nil, errors.New("appsession: Config needs an Issuer")
	}
	m := &Manager{cfg: cfg, keys: map[string]Key{}, now: cfg.Now, log: cfg.Logger}
	for _, k := range cfg.Keys {
		if err := k.check(); err != nil {
			return nil, err
		}
		if _, dup := m.keys[k.ID]; dup {
			return nil, fmt.Errorf("appsession: key ID %q appears twice", k.ID)
		}
		m.keys[k.ID] = k
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.cfg.Lifetime <= 0 {
		m.cfg.Lifetime = DefaultLifetime
	}
	switch {
	case m.cfg.Leeway == 0:
		m.cfg.Leeway = DefaultLeeway
	case m.cfg.Leeway < 0:
		m.cfg.Leeway = 0
	}
	if m.cfg.Cookie == "" {
		m.cfg.Cookie = DefaultCookie
	}
	if m.cfg.MaxTokenBytes <= 0 {
		m.cfg.MaxTokenBytes = DefaultMaxTokenBytes
	}
	// Strict base64 for every segment: strictParts checks the header and
	// the claims, and the signature has one spelling too, so no other
	// string than the issued token carries its signature.
	m.parser = jwt.NewParser(jwt.WithValidMethods([]string{"RS256", "EdDSA"}), jwt.WithIssuer(cfg.Issuer),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(m.cfg.Leeway), jwt.WithTimeFunc(m.now),
		jwt.WithStrictDecoding())
	if cfg.Ephemeral {
		m.log.Warn("appsession: sessions are signed with an ephemeral key: they end when the process does and replicas cannot share them")
	}
	return m, nil
}

// Issue signs a session for c (Subject, OrgID, Role, AuthMethod, ...) with
// the first key; Issuer, IssuedAt, Expires and ID are set here. It returns
// the token and its expiry.
func (m *Manager) Issue(c Claims) (string, time.Time, error) {
	if c.Subject == "" || c.OrgID == "" {
		return "", time.Time{}, errors.New("appsession: Issue needs Subject and OrgID")
	}
	k := m.cfg.Keys[0]
	now := m.now()
	c.Issuer, c.IssuedAt, c.Expires = m.cfg.Issuer, now.Unix(), now.Add(m.cfg.Lifetime).Unix()
	c.ID = randomID()
	t := jwt.NewWithClaims(jwt.GetSigningMethod(k.alg()), &c)
	t.Header["kid"] = k.ID
	tok, err := t.SignedString(k.Key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("appsession: signing: %w", err)
	}
	return tok, c.ExpiresTime(), nil
}

func randomID() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

var b64 = base64.RawURLEncoding.Strict()

// Verify checks a session token: strict JSON in header and claims, a known
// kid, the algorithm of that key (no other), the signature, the issuer, exp
// (required) and iat, and that sub, org_id and jti are present. It does not
// consult revocations (Revoked does). Refusals are *ssoerr.Error values
// wrapping ssoerr.ErrInvalidToken or ssoerr.ErrExpired.
func (m *Manager) Verify(token string) (*Claims, error) {
	if token == "" {
		return nil, invalid(ssoerr.ReasonEmptyToken, "empty session token")
	}
	if len(token) > m.cfg.MaxTokenBytes {
		return nil, invalid(ssoerr.ReasonTooLarge, "session token too large")
	}
	if err := strictParts(token); err != nil {
		return nil, err
	}
	c := new(Claims)
	_, err := m.parser.ParseWithClaims(token, c, m.key)
	if err != nil {
		return nil, refusal(err)
	}
	if c.Subject == "" || c.OrgID == "" || c.ID == "" {
		return nil, invalid(ssoerr.ReasonMissingSubject, "sub, org_id and jti are required")
	}
	return c, nil
}

// strictParts requires three base64url parts whose header and claims are
// strict JSON objects, and refuses a crit header.
func strictParts(token string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return invalid(ssoerr.ReasonMalformed, "not a compact JWS")
	}
	for i, name := range []string{"header", "claims"} {
		b, err := b64.DecodeString(parts[i])
		if err != nil {
			return invalidf(ssoerr.ReasonMalformed, "%s: %v", name, err)
		}
		if err := strictjson.CheckObject(b); err != nil {
			return invalidf(ssoerr.ReasonMalformed, "%s: %v", name, err)
		}
		if i == 0 {
			var h struct {
				Alg  string          `json:"alg"`
				Crit json.RawMessage `json:"crit"`
			}
			if err := json.Unmarshal(b, &h); err != nil {
				return invalidf(ssoerr.ReasonMalformed, "header: %v", err)
			}
			if h.Crit != nil {
				return invalid(ssoerr.ReasonCritical, "crit header present")
			}
			if h.Alg != "RS256" && h.Alg != "EdDSA" {
				return invalidf(ssoerr.ReasonAlgorithm, "alg %q", h.Alg)
			}
		}
	}
	return nil
}

// key finds the verification key for the token's kid and pins the
// algorithm to that key's.
func (m *Manager) key(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	k, ok := m.keys[kid]
	if !ok {
		return nil, invalidf(ssoerr.ReasonUnknownKeyID, "kid %q", kid)
	}
	if t.Method.Alg() != k.alg() {
		return nil, invalidf(ssoerr.ReasonAlgorithm, "alg %q, key %q is %s", t.Method.Alg(), kid, k.alg())
	}
	return k.Key.Public(), nil
}

// refusal maps golang-jwt's errors to ssokit's reasons.
func refusal(err error) error {
	if ssoerr.ReasonOf(err) != "" {
		return err
	}
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return ssoerr.New(ssoerr.ErrExpired, ssoerr.ReasonExpired, "session expired")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return invalid(ssoerr.ReasonSignature, "signature")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return invalid(ssoerr.ReasonIssuer, err.Error())
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return invalid(ssoerr.ReasonMissingExpiry, err.Error())
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return invalid(ssoerr.ReasonIssuedInFuture, "iat in the future")
	}
	return invalid(ssoerr.ReasonMalformed, err.Error())
}

// Revoke ends the session c names (its jti) until it would have expired:
// its exp and the leeway Verify still accepts it in.
func (m *Manager) Revoke(ctx context.Context, c *Claims) error {
	if m.cfg.Revocations == nil {
		return ErrNoRevocations
	}
	if err := m.cfg.Revocations.RevokeToken(ctx, c.ID, c.ExpiresTime().Add(m.cfg.Leeway)); err != nil {
		return ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	return nil
}

// Revoked reports whether the session c names was revoked. A store failure
// is an ssoerr.ErrUpstream error, never a false.
func (m *Manager) Revoked(ctx context.Context, c *Claims) (bool, error) {
	if m.cfg.Revocations == nil {
		return false, nil
	}
	r, err := m.cfg.Revocations.IsRevoked(ctx, c.ID)
	if err != nil {
		return false, ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	return r, nil
}

// SetCookie writes the session cookie: HttpOnly, SameSite=Lax, Path=/,
// Secure unless InsecureCookie, expiring with the session.
func (m *Manager) SetCookie(w http.ResponseWriter, token string, exp time.Time) {
	http.SetCookie(w, &http.Cookie{Name: m.cfg.Cookie, Value: token, Path: "/", HttpOnly: true, Secure: !m.cfg.InsecureCookie,
		SameSite: http.SameSiteLaxMode, Expires: exp, MaxAge: max(1, int(exp.Sub(m.now())/time.Second))})
}

// ClearCookie removes the session cookie.
func (m *Manager) ClearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: m.cfg.Cookie, Value: "", Path: "/", HttpOnly: true, Secure: !m.cfg.InsecureCookie,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// CookieName is the session cookie's name.
func (m *Manager) CookieName() string { return m.cfg.Cookie }

// SecureCookie reports whether the cookie carries the Secure attribute.
func (m *Manager) SecureCookie() bool { return !m.cfg.InsecureCookie }

// JWKS is the public key set of the session keys, in order, so other
// services can verify app tokens.
func (m *Manager) JWKS() jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(m.cfg.Keys))}
	for _, k := range m.cfg.Keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Key.Public(), KeyID: k.ID, Algorithm: k.alg(), Use: "sig"})
	}
	return set
}

// ServeJWKS answers with JWKS() as JSON, cacheable for five minutes.
func (m *Manager) ServeJWKS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(m.JWKS())
}

func invalid(r ssoerr.Reason, detail string) error {
	return ssoerr.New(ssoerr.ErrInvalidToken, r, detail)
}

func invalidf(r ssoerr.Reason, format string, args ...any) error {
	return ssoerr.Newf(ssoerr.ErrInvalidToken, r, format, args...)
}
