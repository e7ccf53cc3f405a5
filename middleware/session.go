package middleware

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Auth methods a Principal can carry (whoami's auth_method).
const (
	MethodSSO      = "sso"
	MethodPassword = "password"
	MethodAPIKey   = "api_key"
)

// CredentialAppSession is the app's own session JWT, from its cookie.
const CredentialAppSession Credential = "app_session"

// CredentialAPIKey is an agent API key.
const CredentialAPIKey Credential = "api_key"

// DefaultAppCookie is the app session cookie's name.
const DefaultAppCookie = "ssokit_session"

// SessionKey is one signing key of the app session: an RSA (RS256) or
// Ed25519 (EdDSA) private key and its key ID.
type SessionKey struct {
	ID  string
	Key crypto.Signer
}

// ParseSessionKeyPEM reads a PKCS#8 (or PKCS#1 RSA) private key in PEM.
func ParseSessionKeyPEM(id string, pemBytes []byte) (SessionKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return SessionKey{}, errors.New("ssokit: session key is not PEM")
	}
	var k any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return SessionKey{}, fmt.Errorf("ssokit: session key: %w", err)
	}
	switch s := k.(type) {
	case *rsa.PrivateKey:
		if s.N.BitLen() < 2048 {
			return SessionKey{}, errors.New("ssokit: session RSA key is shorter than 2048 bits")
		}
		return SessionKey{ID: id, Key: s}, nil
	case ed25519.PrivateKey:
		return SessionKey{ID: id, Key: s}, nil
	}
	return SessionKey{}, fmt.Errorf("ssokit: session key is %T, want RSA or Ed25519", k)
}

// EphemeralSessionKey makes an Ed25519 key that lives as long as the
// process: sessions do not survive a restart and replicas do not share
// them. For demos; logged as a warning by NewSessions.
func EphemeralSessionKey() SessionKey {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	return SessionKey{ID: "ephemeral-" + base64.RawURLEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)[:6]), Key: priv}
}

// SessionConfig configures the app's own sessions.
type SessionConfig struct {
	// Keys sign and verify: the first signs; all verify, so a rotated-out
	// key keeps its tokens valid until they expire. Required.
	Keys []SessionKey
	// Issuer is the iss of app tokens (the app's URL). Required.
	Issuer string
	// Lifetime of a session. Zero means 12 hours.
	Lifetime time.Duration
	// Cookie is the cookie name. Zero means DefaultAppCookie.
	Cookie string
	// InsecureCookie drops the Secure attribute, for http://localhost only.
	InsecureCookie bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil means silent.
	Logger *slog.Logger
	// Ephemeral marks Keys as made for this process (the demo): a warning
	// is logged.
	Ephemeral bool
}

// AppClaims are the app session token's claims.
type AppClaims struct {
	Subject    string `json:"sub"`
	OrgID      string `json:"org_id"`
	Role       string `json:"role"`
	AuthMethod string `json:"auth_method"`
	IdPName    string `json:"idp_name,omitempty"`
	Email      string `json:"email,omitempty"`
	ClerkSID   string `json:"csid,omitempty"` // the Clerk session behind an SSO login
	Issuer     string `json:"iss"`
	IssuedAt   int64  `json:"iat"`
	Expires    int64  `json:"exp"`
	ID         string `json:"jti"`
}

// Sessions issues and verifies the app's session tokens.
type Sessions struct {
	cfg    SessionConfig
	keys   map[string]SessionKey
	cache  *tokenCache[*Principal]
	now    func() time.Time
	log    *slog.Logger
	cookie string
}

// NewSessions validates cfg.
func NewSessions(cfg SessionConfig) (*Sessions, error) {
	if len(cfg.Keys) == 0 {
		return nil, errors.New("ssokit: SessionConfig needs at least one key")
	}
	if cfg.Issuer == "" {
		return nil, errors.New("ssokit: SessionConfig needs an Issuer")
	}
	s := &Sessions{cfg: cfg, keys: map[string]SessionKey{}, cache: newTokenCache[*Principal](DefaultTokenCacheSize),
		now: cfg.Now, log: cfg.Logger, cookie: cfg.Cookie}
	for _, k := range cfg.Keys {
		switch k.Key.(type) {
		case *rsa.PrivateKey, ed25519.PrivateKey:
		default:
			return nil, fmt.Errorf("ssokit: session key %q is %T, want RSA or Ed25519", k.ID, k.Key)
		}
		if k.ID == "" || s.keys[k.ID].Key != nil {
			return nil, fmt.Errorf("ssokit: session key IDs must be set and distinct (%q)", k.ID)
		}
		s.keys[k.ID] = k
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.cfg.Lifetime <= 0 {
		s.cfg.Lifetime = 12 * time.Hour
	}
	if s.cookie == "" {
		s.cookie = DefaultAppCookie
	}
	if cfg.Ephemeral {
		s.log.Warn("ssokit: app sessions are signed with an ephemeral key: they end when the process does and replicas cannot share them")
	}
	return s, nil
}

func algOf(k crypto.Signer) string {
	if _, ok := k.(ed25519.PrivateKey); ok {
		return "EdDSA"
	}
	return "RS256"
}

// Issue signs a session for c (Subject, OrgID, Role, AuthMethod, ...);
// Issuer, IssuedAt, Expires and ID are set here.
func (s *Sessions) Issue(c AppClaims) (string, time.Time, error) {
	k := s.cfg.Keys[0]
	now := s.now()
	c.Issuer, c.IssuedAt, c.Expires = s.cfg.Issuer, now.Unix(), now.Add(s.cfg.Lifetime).Unix()
	c.ID = randomID(18)
	h, _ := json.Marshal(map[string]string{"alg": algOf(k.Key), "kid": k.ID, "typ": "JWT"})
	p, _ := json.Marshal(c)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	var sig []byte
	var err error
	switch key := k.Key.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(key, []byte(in))
	case *rsa.PrivateKey:
		d := sha256.Sum256([]byte(in))
		sig, err = rsa.SignPKCS1v15(nil, key, crypto.SHA256, d[:])
	}
	if err != nil {
		return "", time.Time{}, err
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig), time.Unix(c.Expires, 0), nil
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Verify checks a session token's signature, algorithm pinned to its key,
// issuer and expiry, and returns its claims. Tokens verified before are
// answered from the cache until their exp; revocation is checked by the
// caller on every request.
func (s *Sessions) Verify(token string) (*Principal, *AppClaims, error) {
	if token == "" {
		return nil, nil, invalid(ReasonEmptyToken, "empty session token")
	}
	if len(token) > DefaultMaxTokenBytes {
		return nil, nil, invalid(ReasonTooLarge, "session token too large")
	}
	now := s.now()
	if p, ok := s.cache.get(token, now.UnixNano()); ok {
		return p, p.app, nil
	}
	h, rest, ok := strings.Cut(token, ".")
	pl, sg, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.IndexByte(sg, '.') >= 0 {
		return nil, nil, invalid(ReasonMalformed, "not a compact JWS")
	}
	hb, err1 := b64.DecodeString(h)
	pb, err2 := b64.DecodeString(pl)
	sig, err3 := b64.DecodeString(sg)
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, nil, invalid(ReasonMalformed, "bad base64")
	}
	var hdr struct {
		Alg, Kid string
		Crit     json.RawMessage
	}
	if json.Unmarshal(hb, &hdr) != nil || hdr.Crit != nil {
		return nil, nil, invalid(ReasonMalformed, "bad header")
	}
	k, ok := s.keys[hdr.Kid]
	if !ok {
		return nil, nil, invalidf(ReasonUnknownKeyID, "kid %q", hdr.Kid)
	}
	if hdr.Alg != algOf(k.Key) {
		return nil, nil, invalidf(ReasonAlgorithm, "alg %q, key is %s", hdr.Alg, algOf(k.Key))
	}
	in := token[:len(h)+1+len(pl)]
	switch key := k.Key.(type) {
	case ed25519.PrivateKey:
		if !ed25519.Verify(key.Public().(ed25519.PublicKey), []byte(in), sig) {
			return nil, nil, invalid(ReasonSignature, "signature")
		}
	case *rsa.PrivateKey:
		d := sha256.Sum256([]byte(in))
		if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, d[:], sig) != nil {
			return nil, nil, invalid(ReasonSignature, "signature")
		}
	}
	c := new(AppClaims)
	if err := json.Unmarshal(pb, c); err != nil {
		return nil, nil, invalid(ReasonMalformed, "claims")
	}
	switch {
	case c.Issuer != s.cfg.Issuer:
		return nil, nil, invalidf(ReasonIssuer, "iss %q", c.Issuer)
	case c.Expires == 0:
		return nil, nil, invalid(ReasonMissingExpiry, "no exp")
	case now.Unix() >= c.Expires:
		return nil, nil, &TokenError{Reason: ReasonExpired, Detail: "session expired", Err: ErrExpired}
	case c.IssuedAt > now.Unix()+int64(DefaultLeeway/time.Second):
		return nil, nil, invalid(ReasonIssuedInFuture, "iat in the future")
	case c.Subject == "" || c.OrgID == "" || c.ID == "":
		return nil, nil, invalid(ReasonMissingSubject, "sub, org_id and jti are required")
	}
	p := &Principal{Credential: CredentialAppSession, UserID: c.Subject, SessionID: c.ID, Email: c.Email,
		OrgID: c.OrgID, Role: c.Role, AuthMethod: c.AuthMethod, IdPName: c.IdPName, Issuer: c.Issuer,
		IssuedAt: time.Unix(c.IssuedAt, 0), ExpiresAt: time.Unix(c.Expires, 0), RawClaims: pb, app: c, checked: new(atomic.Uint64)}
	s.cache.put(token, p, p.ExpiresAt.UnixNano(), now.UnixNano())
	return p, c, nil
}

// SetCookie writes the session cookie: HttpOnly, SameSite=Lax, Path=/,
// Secure unless InsecureCookie.
func (s *Sessions) SetCookie(w http.ResponseWriter, token string, exp time.Time) {
	http.SetCookie(w, &http.Cookie{Name: s.cookie, Value: token, Path: "/", HttpOnly: true, Secure: !s.cfg.InsecureCookie,
		SameSite: http.SameSiteLaxMode, Expires: exp, MaxAge: int(time.Until(exp) / time.Second)})
}

// ClearCookie removes the session cookie.
func (s *Sessions) ClearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookie, Value: "", Path: "/", HttpOnly: true, Secure: !s.cfg.InsecureCookie,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// CookieName is the session cookie's name.
func (s *Sessions) CookieName() string { return s.cookie }

// JWKS is the public key set of the app's session keys, so other services
// can verify app tokens.
func (s *Sessions) JWKS() map[string]any {
	keys := []map[string]any{}
	for _, k := range s.cfg.Keys {
		switch key := k.Key.(type) {
		case ed25519.PrivateKey:
			keys = append(keys, map[string]any{"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": k.ID,
				"x": base64.RawURLEncoding.EncodeToString(key.Public().(ed25519.PublicKey))})
		case *rsa.PrivateKey:
			keys = append(keys, map[string]any{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.ID,
				"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())})
		}
	}
	return map[string]any{"keys": keys}
}

// ServeJWKS answers GET with JWKS().
func (s *Sessions) ServeJWKS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(s.JWKS())
}

// ParseSessionKeyJWK reads a private key in JWK form (RSA with d, p, q;
// or OKP Ed25519 with d), its kid becoming the key ID.
func ParseSessionKeyJWK(data []byte) (SessionKey, error) {
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(data); err != nil {
		return SessionKey{}, fmt.Errorf("ssokit: session key JWK: %w", err)
	}
	if k.KeyID == "" {
		return SessionKey{}, errors.New("ssokit: session key JWK has no kid")
	}
	switch s := k.Key.(type) {
	case *rsa.PrivateKey:
		if s.N.BitLen() < 2048 {
			return SessionKey{}, errors.New("ssokit: session RSA key is shorter than 2048 bits")
		}
		return SessionKey{ID: k.KeyID, Key: s}, nil
	case ed25519.PrivateKey:
		return SessionKey{ID: k.KeyID, Key: s}, nil
	}
	return SessionKey{}, fmt.Errorf("ssokit: session key JWK is %T, want an RSA or Ed25519 private key", k.Key)
}
