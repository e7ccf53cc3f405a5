package clerkauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/ssokit/ssokit/internal/jwks"
	"github.com/ssokit/ssokit/internal/rsaverify"
	"github.com/ssokit/ssokit/internal/strictjson"
	"github.com/ssokit/ssokit/internal/ttlcache"
	"github.com/ssokit/ssokit/ssoerr"
)

// DefaultClerkAPIURL is the Clerk Backend API base, including /v1 as the
// Clerk SDK's own base does.
const DefaultClerkAPIURL = "https://api.clerk.com/v1"

// Defaults for the zero values of Config.
const (
	DefaultLeeway          = 5 * time.Second
	DefaultKeyTTL          = time.Hour
	DefaultRefreshInterval = 30 * time.Second
	DefaultFetchTimeout    = 5 * time.Second
	DefaultMaxTokenBytes   = 8 << 10
	DefaultTokenCacheSize  = 10000
	maxCacheTTL            = 24 * time.Hour // Clerk session tokens live a minute; exp bounds every entry first
	maxLeeway              = 5 * time.Minute
	maxJWKSBytes           = 1 << 20
)

// Config configures a Verifier. The issuer (PublishableKey or
// Issuer) is required; everything else has a documented zero-value default.
type Config struct {
	// PublishableKey is the instance's publishable key (pk_test_... or
	// pk_live_...). The expected issuer is derived from it exactly:
	// "https://" + the Frontend API host it encodes.
	PublishableKey string

	// Issuer is the exact expected iss. When PublishableKey is also set,
	// the two must agree. Use it for a proxied or satellite Frontend API.
	Issuer string

	// InsecureHTTPLoopback lets a loopback host (127.0.0.0/8, ::1,
	// localhost) use plain http: the issuer derived from the publishable key
	// becomes "http://..." and JWKS and API URLs may be http. It exists for
	// a local mock Clerk. It never applies to other hosts.
	InsecureHTTPLoopback bool

	// PublicKeyPEM is Clerk's "JWT public key" (PKIX PEM, with or without
	// the BEGIN/END lines). When set, tokens are verified with this key
	// alone and nothing is fetched.
	PublicKeyPEM string

	// JWKSURL is where the key set is fetched from. When empty and
	// SecretKey is set, the Backend API's {APIURL}/jwks is used with the
	// secret key; when both are empty, the Frontend API's
	// {issuer}/.well-known/jwks.json.
	JWKSURL string

	// SecretKey (sk_...) authenticates the Backend API JWKS request.
	SecretKey string

	// APIURL is the Backend API base including /v1. Zero means
	// DefaultClerkAPIURL; a mock sets its own.
	APIURL string

	// AuthorizedParties, when non-empty, are the only accepted azp values
	// (exact match, e.g. "https://app.example.com"); a token without azp is
	// then refused. When empty, azp is not checked.
	AuthorizedParties []string

	// Leeway tolerates clock skew on exp, nbf and iat. Zero means
	// DefaultLeeway (5 s); a negative value means none; at most 5 minutes.
	Leeway time.Duration

	// KeyTTL is how long a fetched key set is trusted before a use of one
	// of its keys refreshes it. Hits never extend it. Zero means
	// DefaultKeyTTL (1 h). It is never shorter than RefreshInterval.
	KeyTTL time.Duration

	// RefreshInterval is the least time between two JWKS fetches: unknown
	// kids within it are refused without a fetch. Zero means
	// DefaultRefreshInterval (30 s).
	RefreshInterval time.Duration

	// FetchTimeout bounds one JWKS fetch. Zero means DefaultFetchTimeout.
	FetchTimeout time.Duration

	// MaxTokenBytes refuses longer tokens unread. Zero means
	// DefaultMaxTokenBytes (8 KiB; Clerk keeps its cookie under 4 KiB).
	MaxTokenBytes int

	// TokenCacheSize bounds the cache of verified tokens. Zero means
	// DefaultTokenCacheSize. An entry never outlives its token's exp.
	TokenCacheSize int

	// DisableTokenCache verifies every token in full.
	DisableTokenCache bool

	// EmailClaim names the claim read into Session.Email. Zero means
	// "email".
	EmailClaim string

	// Now is the clock. Nil means time.Now.
	Now func() time.Time

	// HTTPClient fetches JWKS. Nil means a client with no timeout other
	// than FetchTimeout. Responses are limited to 1 MiB whatever the client.
	HTTPClient *http.Client

	// Logger receives refusal details and JWKS failures. Nil means silent.
	Logger *slog.Logger
}

// Verifier verifies Clerk session tokens. It is safe for concurrent
// use; each verifier has its own key cache and token cache.
type Verifier struct {
	issuer     string
	parties    []string
	leeway     time.Duration
	maxBytes   int
	emailClaim string
	now        func() time.Time
	log        *slog.Logger
	keys       keySource
	cache      *ttlcache.Cache[*Session]
	headers    headerCache
}

// New validates cfg and returns a verifier. It fetches
// nothing: keys are fetched on first use.
func New(cfg Config) (*Verifier, error) {
	v := &Verifier{
		parties:    append([]string(nil), cfg.AuthorizedParties...),
		leeway:     cfg.Leeway,
		maxBytes:   cfg.MaxTokenBytes,
		emailClaim: cfg.EmailClaim,
		now:        cfg.Now,
		log:        cfg.Logger,
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case v.leeway == 0:
		v.leeway = DefaultLeeway
	case v.leeway < 0:
		v.leeway = 0
	case v.leeway > maxLeeway:
		return nil, fmt.Errorf("clerkauth: Leeway %v exceeds %v", v.leeway, maxLeeway)
	}
	if v.maxBytes <= 0 {
		v.maxBytes = DefaultMaxTokenBytes
	}
	if v.emailClaim == "" {
		v.emailClaim = "email"
	}
	for _, p := range v.parties {
		if p == "" {
			return nil, errors.New("clerkauth: AuthorizedParties contains an empty value")
		}
	}

	issuer, err := resolveIssuer(cfg)
	if err != nil {
		return nil, err
	}
	v.issuer = issuer

	if v.keys, err = keySourceFor(cfg, issuer, v.now, v.log); err != nil {
		return nil, err
	}
	if !cfg.DisableTokenCache {
		size := cfg.TokenCacheSize
		if size <= 0 {
			size = DefaultTokenCacheSize
		}
		v.cache = ttlcache.MustNew[*Session](ttlcache.Config{MaxEntries: size, TTL: maxCacheTTL, Now: v.now})
	}
	return v, nil
}

func resolveIssuer(cfg Config) (string, error) {
	var fromKey string
	if cfg.PublishableKey != "" {
		pk, err := ParsePublishableKey(cfg.PublishableKey)
		if err != nil {
			return "", err
		}
		fromKey = pk.Issuer(cfg.InsecureHTTPLoopback)
	}
	switch {
	case cfg.Issuer == "" && fromKey == "":
		return "", errors.New("clerkauth: Config needs PublishableKey or Issuer")
	case cfg.Issuer == "":
		return fromKey, nil
	}
	// Checked first: the mismatch below quotes the issuer, which must
	// then hold no password.
	if err := checkURL("Issuer", cfg.Issuer, cfg.InsecureHTTPLoopback); err != nil {
		return "", err
	}
	if fromKey != "" && cfg.Issuer != fromKey {
		return "", fmt.Errorf("clerkauth: Issuer %q does not match the publishable key's %q", cfg.Issuer, fromKey)
	}
	return cfg.Issuer, nil
}

// checkURL requires https, or http on a loopback host when insecure is set.
func checkURL(field, raw string, insecure bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the URL, and a password in it.
		return fmt.Errorf("clerkauth: %s is not a URL", field)
	}
	if u.User != nil {
		// Said without the URL, which would put the password in a log.
		return fmt.Errorf("clerkauth: %s must not carry a user name or password", field)
	}
	if u.Host == "" || u.Fragment != "" {
		return fmt.Errorf("clerkauth: %s %q is not an absolute URL", field, raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if insecure && isLoopbackHost(u.Host) {
			return nil
		}
		return fmt.Errorf("clerkauth: %s %q must be https (http only for a loopback host with InsecureHTTPLoopback)", field, raw)
	}
	return fmt.Errorf("clerkauth: %s %q must be https", field, raw)
}

func keySourceFor(cfg Config, issuer string, now func() time.Time, log *slog.Logger) (keySource, error) {
	if cfg.PublicKeyPEM != "" {
		if cfg.JWKSURL != "" {
			return nil, errors.New("clerkauth: set PublicKeyPEM or JWKSURL, not both")
		}
		pub, err := parsePublicKeyPEM(cfg.PublicKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("clerkauth: PublicKeyPEM: %w", err)
		}
		key, err := rsaverify.Prepare(pub)
		if err != nil {
			return nil, fmt.Errorf("clerkauth: PublicKeyPEM: %w", err)
		}
		return staticKey{pub: key}, nil
	}
	client := boundedClient(cfg.HTTPClient, maxJWKSBytes)
	rk := &jwks.Cache{Now: now, TTL: cfg.KeyTTL, Interval: cfg.RefreshInterval, Timeout: cfg.FetchTimeout, Logger: log}
	if rk.TTL <= 0 {
		rk.TTL = DefaultKeyTTL
	}
	if rk.Interval <= 0 {
		rk.Interval = DefaultRefreshInterval
	}
	if rk.Timeout <= 0 {
		rk.Timeout = DefaultFetchTimeout
	}
	switch {
	case cfg.JWKSURL != "":
		if err := checkURL("JWKSURL", cfg.JWKSURL, cfg.InsecureHTTPLoopback); err != nil {
			return nil, err
		}
		rk.Fetch = frontendJWKS(client, cfg.JWKSURL)
	case cfg.SecretKey != "":
		api := cfg.APIURL
		if api == "" {
			api = DefaultClerkAPIURL
		}
		if err := checkURL("APIURL", api, cfg.InsecureHTTPLoopback); err != nil {
			return nil, err
		}
		rk.Fetch = backendJWKS(client, strings.TrimSuffix(api, "/"), cfg.SecretKey)
	default:
		rk.Fetch = frontendJWKS(client, issuer+"/.well-known/jwks.json")
	}
	return remoteKeys{cache: rk}, nil
}

// Issuer returns the exact issuer the verifier requires.
func (v *Verifier) Issuer() string { return v.issuer }

// Verify checks a Clerk session token and returns its Session. A token
// verified before and still unexpired is answered from the cache without
// allocating. Every refusal is an *ssoerr.Error wrapping ErrInvalidToken,
// ErrExpired or ErrUpstream.
func (v *Verifier) Verify(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, invalid(ssoerr.ReasonEmptyToken, "empty token")
	}
	if len(token) > v.maxBytes {
		return nil, invalidf(ssoerr.ReasonTooLarge, "token is %d bytes, limit %d", len(token), v.maxBytes)
	}
	now := v.now()
	if v.cache != nil {
		if s, ok := v.cache.GetAt(token, now); ok {
			return s, nil
		}
	}
	s, err := v.verify(ctx, token, now.UnixNano())
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.Set(token, s, s.ExpiresAt)
	}
	return s, nil
}

var b64 = base64.RawURLEncoding.Strict()

type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  *string         `json:"typ"`
	Crit json.RawMessage `json:"crit"`
	Cat  *string         `json:"cat"`
}

// headerNotNull and claimsNotNull are the members that must not be
// null: encoding/json would read a null number as zero, or as absent where
// the member is a pointer, and a null string as empty.
var (
	headerNotNull = []string{"alg", "kid", "typ", "crit", "cat"}
	claimsNotNull = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "v", "sid", "azp", "sts",
		"org_id", "org_slug", "org_role", "org_permissions", "fva", "fea", "o", "email"}
)

// wireClaims is the payload as Clerk writes it, v1 and v2.
type wireClaims struct {
	Iss            string          `json:"iss"`
	Sub            string          `json:"sub"`
	Aud            json.RawMessage `json:"aud"`
	Exp            *float64        `json:"exp"`
	Nbf            *float64        `json:"nbf"`
	Iat            *float64        `json:"iat"`
	Jti            string          `json:"jti"`
	V              *int            `json:"v"`
	Sid            string          `json:"sid"`
	Azp            string          `json:"azp"`
	Sts            string          `json:"sts"`
	OrgID          string          `json:"org_id"`
	OrgSlug        string          `json:"org_slug"`
	OrgRole        string          `json:"org_role"`
	OrgPermissions []string        `json:"org_permissions"`
	Act            json.RawMessage `json:"act"`
	Fva            [2]int64        `json:"fva"`
	Fea            string          `json:"fea"`
	O              *wireOrg        `json:"o"`
	Email          string          `json:"email"`
}

// wireOrg is a v2 token's o claim.
type wireOrg struct {
	ID  string `json:"id"`
	Slg string `json:"slg"`
	Rol string `json:"rol"`
	Per string `json:"per"`
	Fpm string `json:"fpm"`
}

// sessionBlock holds a Session and the SDK claims it points to in one
// allocation.
type sessionBlock struct {
	s             Session
	c             clerk.SessionClaims
	exp, nbf, iat int64
}

func (v *Verifier) verify(ctx context.Context, token string, now int64) (*Session, error) {
	h, rest, ok := strings.Cut(token, ".")
	if !ok {
		return nil, invalid(ssoerr.ReasonMalformed, "not a compact JWS")
	}
	pl, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.IndexByte(sig, '.') >= 0 {
		return nil, invalid(ssoerr.ReasonMalformed, "not a compact JWS")
	}
	kid, known, err := v.headers.kid(h)
	if err != nil {
		return nil, err
	}
	pub, err := v.keys.key(ctx, kid)
	if err != nil {
		return nil, err
	}
	// The signature is decoded on the stack: it is as long as the modulus,
	// never longer than the largest key checkRSAKey admits.
	var sigBuf [maxRSABits / 8]byte
	if b64.DecodedLen(len(sig)) > len(sigBuf) {
		return nil, invalid(ssoerr.ReasonSignature, "signature longer than any key admitted")
	}
	n, err := b64.Decode(sigBuf[:], []byte(sig))
	if err != nil {
		return nil, invalidf(ssoerr.ReasonMalformed, "signature: %v", err)
	}
	sb := sigBuf[:n]
	var digest [sha256.Size]byte
	signingInputDigest(&digest, token[:len(h)+1+len(pl)])
	if err := pub.VerifySHA256(&digest, sb); err != nil {
		return nil, invalid(ssoerr.ReasonSignature, "signature does not verify")
	}
	if !known {
		v.headers.remember(h, kid)
	}
	payload, err := b64.DecodeString(pl)
	if err != nil {
		return nil, invalidf(ssoerr.ReasonMalformed, "payload: %v", err)
	}
	if err := strictjson.Check(payload, claimsNotNull...); err != nil {
		return nil, invalidf(ssoerr.ReasonMalformed, "payload: %v", err)
	}
	var wc wireClaims
	if err := decodeClaims(payload, &wc); err != nil {
		return nil, invalidf(ssoerr.ReasonMalformed, "payload: %v", err)
	}
	return v.check(&wc, payload, now)
}

// signingInputDigest sets d to the SHA-256 of s, fed through a buffer on
// the stack rather than a copy of the whole signing input on the heap.
func signingInputDigest(d *[sha256.Size]byte, s string) {
	h := sha256.New()
	var buf [256]byte
	for len(s) > 0 {
		n := copy(buf[:], s)
		h.Write(buf[:n])
		s = s[n:]
	}
	h.Sum(d[:0])
}

// num prints a NumericDate as the token wrote it: an integer as an integer
// (exp 1796083723, not 1.796083723e+09), a fraction in full.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// numericDate turns a JWT NumericDate into unix nanoseconds, refusing
// values before 1970 or after 2242.
func numericDate(name string, f float64) (int64, error) {
	if !(f >= 0 && f < 1<<33) {
		return 0, invalidf(ssoerr.ReasonNumericDate, "%s %s out of range", name, num(f))
	}
	return int64(f * 1e9), nil
}

func (v *Verifier) check(wc *wireClaims, payload []byte, now int64) (*Session, error) {
	if wc.Iss != v.issuer {
		return nil, invalidf(ssoerr.ReasonIssuer, "iss %q, want %q", wc.Iss, v.issuer)
	}
	if wc.Exp == nil {
		return nil, invalid(ssoerr.ReasonMissingExpiry, "no exp claim")
	}
	leeway := int64(v.leeway)
	b := new(sessionBlock)
	exp, err := numericDate("exp", *wc.Exp)
	if err != nil {
		return nil, err
	}
	if now-leeway >= exp {
		return nil, &ssoerr.Error{Reason: ssoerr.ReasonExpired, Detail: "exp " + num(*wc.Exp) + " is past", Err: ssoerr.ErrExpired}
	}
	b.exp = int64(*wc.Exp)
	b.c.Expiry = &b.exp
	if wc.Nbf != nil {
		nbf, err := numericDate("nbf", *wc.Nbf)
		if err != nil {
			return nil, err
		}
		if now+leeway < nbf {
			return nil, invalidf(ssoerr.ReasonNotYetValid, "nbf %s is in the future", num(*wc.Nbf))
		}
		b.nbf = int64(*wc.Nbf)
		b.c.NotBefore = &b.nbf
	}
	var iat int64
	if wc.Iat != nil {
		if iat, err = numericDate("iat", *wc.Iat); err != nil {
			return nil, err
		}
		if now+leeway < iat {
			return nil, invalidf(ssoerr.ReasonIssuedInFuture, "iat %s is in the future", num(*wc.Iat))
		}
		b.iat = int64(*wc.Iat)
		b.c.IssuedAt = &b.iat
	}
	if len(v.parties) > 0 && !v.authorizedParty(wc.Azp) {
		return nil, invalidf(ssoerr.ReasonAuthorizedParty, "azp %q is not an authorized party", wc.Azp)
	}
	if wc.Sub == "" {
		return nil, invalid(ssoerr.ReasonMissingSubject, "no sub claim")
	}
	if wc.Sid == "" {
		return nil, invalid(ssoerr.ReasonMissingSessionID, "no sid claim")
	}
	switch wc.Sts {
	case "", "active":
	case "pending":
		return nil, invalid(ssoerr.ReasonSessionPending, "session status is pending: sign-in tasks remain")
	default:
		return nil, invalidf(ssoerr.ReasonSessionStatus, "session status %q", wc.Sts)
	}
	aud, err := audience(wc.Aud)
	if err != nil {
		return nil, err
	}

	c := &b.c
	c.Issuer, c.Subject, c.Audience, c.ID = wc.Iss, wc.Sub, aud, wc.Jti
	c.SessionID, c.AuthorizedParty = wc.Sid, wc.Azp
	c.Actor, c.FactorVerificationAge = wc.Act, wc.Fva
	switch {
	case wc.V == nil || *wc.V == 1:
		// Clerk's v1 tokens have no v claim (or v 1): organization claims
		// are top-level.
		c.Version = 1
		c.ActiveOrganizationID = wc.OrgID
		c.ActiveOrganizationSlug = wc.OrgSlug
		c.ActiveOrganizationRole = wc.OrgRole
		c.ActiveOrganizationPermissions = wc.OrgPermissions
	case *wc.V == 2:
		// A v2 token's organization is its o claim and nothing else: v1
		// claims beside it are never read.
		c.Version = 2
		if wc.O != nil && wc.O.ID != "" {
			c.ActiveOrganizationID = wc.O.ID
			c.ActiveOrganizationSlug = wc.O.Slg
			c.ActiveOrganizationRole = "org:" + wc.O.Rol
			c.ActiveOrganizationPermissions = orgPermissionsV2(wc.Fea, wc.O.Per, wc.O.Fpm)
		}
	default:
		return nil, invalidf(ssoerr.ReasonMalformed, "token version %d is not 1 or 2", *wc.V)
	}

	p := &b.s
	p.UserID, p.SessionID = wc.Sub, wc.Sid
	p.Issuer, p.AuthorizedParty = wc.Iss, wc.Azp
	p.ExpiresAt = time.Unix(0, exp)
	if wc.Iat != nil {
		p.IssuedAt = time.Unix(0, iat)
	}
	p.Org = Org{
		ID:          c.ActiveOrganizationID,
		Slug:        c.ActiveOrganizationSlug,
		Role:        c.ActiveOrganizationRole,
		Permissions: c.ActiveOrganizationPermissions,
	}
	p.Claims = c
	p.RawClaims = payload
	if v.emailClaim == "email" {
		p.Email = wc.Email
	} else if _, err := p.Claim(v.emailClaim, &p.Email); err != nil {
		return nil, invalidf(ssoerr.ReasonMalformed, "claim %s: %v", v.emailClaim, err)
	}
	return p, nil
}

func (v *Verifier) authorizedParty(azp string) bool {
	if azp == "" {
		return false
	}
	for _, p := range v.parties {
		if azp == p {
			return true
		}
	}
	return false
}

// audience decodes aud, a string or an array of strings.
func audience(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, invalidf(ssoerr.ReasonMalformed, "aud: %v", err)
		}
		return []string{s}, nil
	}
	var a []string
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, invalidf(ssoerr.ReasonMalformed, "aud: %v", err)
	}
	return a, nil
}

// orgPermissionsV2 expands the compact v2 permission encoding: fea lists
// "scope:feature" entries, per the permission names, and fpm, per feature, a
// bit mask over per (least significant bit first). Organization features
// (scope containing "o") yield "org:<feature>:<permission>". A feature whose
// mask is malformed or points past per is skipped.
func orgPermissionsV2(fea, per, fpm string) []string {
	if fea == "" || per == "" || fpm == "" {
		return nil
	}
	perms := strings.Split(per, ",")
	masks := strings.Split(fpm, ",")
	var out []string
	i := 0
	for feature := range strings.SplitSeq(fea, ",") {
		idx := i
		i++
		scope, name, ok := strings.Cut(feature, ":")
		if !ok || !strings.Contains(scope, "o") || idx >= len(masks) {
			continue
		}
		mask, err := strconv.ParseUint(masks[idx], 10, 32)
		if err != nil || mask>>uint(len(perms)) != 0 {
			continue
		}
		for j := 0; mask != 0; j, mask = j+1, mask>>1 {
			if mask&1 == 1 {
				out = append(out, "org:"+name+":"+perms[j])
			}
		}
	}
	return out
}
