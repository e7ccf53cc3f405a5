// Package controlplane is the control plane's HTTP API as one mountable
// http.Handler: SSO start and callback (through Clerk, or a direct IdP
// connection), password login and logout, whoami, organization SSO
// settings and status, people, API keys, and Clerk webhooks. New is the one
// call that assembles it from configuration: the Clerk verifier, the app's
// sessions, API keys, admission and the authenticator, with documented
// defaults; package client is its Go client, package api its JSON.
package controlplane

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/organizationmembership"
	"github.com/clerk/clerk-sdk-go/v2/samlconnection"
	clerksession "github.com/clerk/clerk-sdk-go/v2/session"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/apikey"
	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/internal/httpsec"
	"github.com/ssokit/ssokit/internal/state"
	"github.com/ssokit/ssokit/internal/ttlcache"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/ssoevent"
	"github.com/ssokit/ssokit/store"
	"github.com/ssokit/ssokit/store/redisstore"
	"github.com/ssokit/ssokit/store/sqlstore"
)

// Defaults for the zero values of Config.
const (
	// DefaultMaxBodyBytes bounds a request body.
	DefaultMaxBodyBytes = 256 << 10
	// DefaultFlushInterval is how often Run writes API keys' last use.
	DefaultFlushInterval = 30 * time.Second
)

// Config configures the control plane. AppURL, StateKey and session keys
// (SessionKeys, or EphemeralSessionKey for a demo) are required; every
// other field has a documented zero-value default.
type Config struct {
	// AppURL is the app's public URL: callbacks are built from it, it is
	// the issuer of app sessions and, by default, Clerk's authorized party.
	// An absolute http(s) URL with no user information, query or fragment.
	AppURL string

	// StateKey signs the browser-bound state of every redirect flow (SSO
	// start and callback, direct connections, single logout): at least 32
	// random bytes, the same on every replica. There is no default.
	StateKey []byte
	// SecretsKeys encrypt the secrets the store keeps (the OIDC client
	// secret of a direct connection) with AES-256-GCM: 32 random bytes
	// each; the first encrypts, every one decrypts (to rotate, put the new
	// key first). Nil keeps secrets as given, which only the in-process
	// memory store allows: with any other store, saving a connection with
	// a client secret is refused (secrets_key_required).
	SecretsKeys [][]byte

	// PreviousStateKeys still verify state (never sign it): to rotate,
	// deploy the new StateKey with the old one here, and drop it ten
	// minutes later, when every state it signed has expired.
	PreviousStateKeys [][]byte

	// Store holds organizations, people, API keys and revocations. Nil
	// means StoreDSN's, else a new in-memory store: nothing survives a
	// restart and replicas do not share it.
	Store store.Store
	// StoreDSN, when Store is nil, is the SQL store New opens (and Close
	// closes), its migrations applied: sqlite:PATH (a file, created if
	// missing), sqlite::memory:, or postgres://… for replicas (package
	// sqlstore). A library never creates a file on its own: the path is
	// the caller's choice.
	StoreDSN string

	// Clerk verifies Clerk session tokens. Its zero value (no
	// PublishableKey and no Issuer) means no Clerk: only direct
	// connections, passwords and API keys. AuthorizedParties defaults to
	// AppURL; HTTPClient and Logger to this Config's.
	Clerk clerkauth.Config
	// ClerkJoinedGroups names, by the Clerk session token's idp claim, the
	// identity providers whose groups claim may be one string joining the
	// groups, and the separator: {"onelogin": ";"} (OneLogin's). Any other
	// IdP's string is one group (middleware.AuthenticatorConfig's
	// JoinedGroups).
	ClerkJoinedGroups map[string]string
	// ClerkSignInURL is the Clerk hosted sign-in page (.../sign-in): an
	// absolute http(s) URL with no query, fragment or user information
	// (New refuses another). Empty means SSO through Clerk is off (direct
	// connections still work).
	ClerkSignInURL string
	// WebhookSecret (whsec_...) verifies Clerk's svix-signed webhooks;
	// empty refuses every webhook. Its key (the base64 after whsec_) must
	// be at least 16 bytes: New refuses a shorter one, which a forger
	// could guess.
	WebhookSecret string
	// WebhookLog remembers the webhook messages already applied. Nil means
	// a MemoryWebhookLog in this process.
	WebhookLog WebhookLog
	// AutoProvisionOrgs creates an app organization for each Clerk
	// organization.created webhook (plan "growth", no domains). Its ID is
	// the Clerk slug, or the Clerk organization ID when the slug is not an
	// ID that POST /v1/organizations admits (none is created when neither
	// is); its name is Clerk's, or the ID when Clerk's is not printable
	// text of at most 200 bytes. An ID already taken is left as it is.
	AutoProvisionOrgs bool

	// SessionKeys sign the app's session JWTs: the first signs, all verify
	// (rotation). Required unless EphemeralSessionKey.
	SessionKeys []appsession.Key
	// EphemeralSessionKey signs sessions with a key made for this process:
	// sessions end with it and replicas cannot share them. For demos.
	EphemeralSessionKey bool
	// SessionLifetime of an app session. Zero means 12 hours.
	SessionLifetime time.Duration
	// InsecureCookie drops the session cookie's Secure attribute. Zero
	// (false) keeps it Secure, which browsers send over https and to
	// http://localhost only; set it for a plain-http deployment on another
	// host, never where users arrive over https.
	InsecureCookie bool
	// InsecureAllowLoopbackIdP lets direct connections reach identity
	// providers on loopback addresses (over http too): it sets
	// IdP.InsecureAllowLoopback, for tests and the demo whose mock IdP
	// runs on 127.0.0.1. Zero (false) refuses loopback with every other
	// internal address whatever a tenant's connection names. Never set
	// it in production.
	InsecureAllowLoopbackIdP bool

	// BootstrapAdminKey, as a Bearer token, is the platform administrator
	// (creates organizations, sets plans): a credential of its own kind,
	// not a role in any organization. Empty means none; another must be at
	// least 16 printable ASCII characters with no spaces (New refuses a
	// shorter one).
	BootstrapAdminKey string
	// Policy ranks roles and grants permissions. Nil means
	// rbac.MustDefault() (viewer < editor < admin).
	Policy *rbac.Policy
	// SSOPlans are the plans entitled to SSO: an organization on another
	// plan can neither save SSO settings nor sign in through SSO. Nil
	// means enterprise and growth.
	SSOPlans []string
	// PasswordLimit and PasswordIPLimit count password-login attempts per
	// account and per client address. Nil means 10 and 100 per 15 minutes
	// (admission's defaults), counted in Expiring (admission.CounterLimiter).
	PasswordLimit, PasswordIPLimit admission.Limiter
	// TrustedProxies are the reverse proxies (CIDRs, IPv4 ones in IPv4
	// form) whose X-Forwarded-For is believed when finding the client
	// address PasswordIPLimit counts (middleware.ClientIP). Nil means the
	// connection's peer alone: behind a proxy not listed here every client
	// shares the proxy's count.
	TrustedProxies []netip.Prefix

	// ReplayCache records one-time values: the nonce of every SSO state
	// (a state is accepted once, even with its cookie), and for direct
	// connections SAML assertion and LogoutResponse IDs. Nil means
	// Expiring's.
	ReplayCache idp.ReplayCache

	// Expiring keeps what lives only until it expires and replicas must
	// share: session revocations, one-time values, webhook message IDs and
	// login counts (store.Expiring; redisstore is one). Nil means the
	// Store's own, which store.Memory and the SQL stores implement (else
	// this process's memory). ReplayCache, WebhookLog, PasswordLimit and
	// PasswordIPLimit, when set, take precedence for their part.
	Expiring store.Expiring
	// RedisURL, when Expiring is nil, is the Redis New opens (and Close
	// closes) for the expiring state (package redisstore):
	// redis://[user:password@]host:port/db. RedisPrefix starts its keys;
	// empty means "ssokit:". Replicas sharing state use the same prefix.
	RedisURL, RedisPrefix string

	// IdP configures direct connections. Its StateKey (and
	// PreviousStateKeys) default to this Config's, its HTTPClient to this Config's, its ReplayCache to
	// ReplayCache.
	IdP idp.Options
	// AppOnlyGroupOrgs lists the organizations whose direct Azure AD SAML
	// connection may have its overage groups read with IdP.GroupResolver's
	// app-only credentials (idp.GraphGroupResolver.AppCredentials). Such a
	// token reads anyone's groups in its tenant, the assertion names the
	// person, and an organization's admins configure its connection (the
	// IdP certificate included): list only organizations that are the
	// credentials' own tenant. Any other organization's SAML login past
	// Entra's 150 groups is refused (group_overage); OIDC logins use the
	// person's own access token and need no listing.
	AppOnlyGroupOrgs []string
	// HTTPClient reaches Clerk's APIs and identity providers. Nil means a
	// client with a 10 s timeout.
	HTTPClient *http.Client
	// MaxBodyBytes bounds request bodies. Zero means DefaultMaxBodyBytes.
	// A POST to a direct connection's ACS may be as large as the SAML
	// connector takes (idp.MaxSAMLResponse decoded, in base64) when that
	// is more.
	MaxBodyBytes int64
	// ErrorPage, when set, renders refusals on the browser-facing SSO
	// routes (status, stable code, human message). Nil: an HTML page when
	// the request accepts HTML, else the JSON error. It is called with
	// the strictest security headers already set (a Content-Security-Policy
	// of default-src 'none', no-store, nosniff, no referrer); a page that
	// needs styles or scripts replaces the policy.
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int, code, message string)
	// Now is the clock; nil means time.Now. Logger receives every
	// decision as an ssoevent record (refusals at Info, acceptances at
	// Debug) and the control plane's own warnings; nil means silent.
	Now    func() time.Time
	Logger *slog.Logger
	// OnEvent receives every authentication, authorization and sign-in
	// decision as an ssoevent.Event (ssometrics.Metrics.Hook counts them
	// for OpenTelemetry). Nil means none. It runs on the request's
	// goroutine and must not block.
	OnEvent ssoevent.Hook
	// SSOLogSize is how many sign-in attempts of each organization its
	// SSO log keeps (GET /v1/organizations/{org}/sso/events), on a store
	// that implements store.SSOLog. Zero means DefaultSSOLogSize.
	SSOLogSize int
	// StoreObserver, when set, is told how long each statement of the
	// stores New opens took (StoreDSN: store "sql", op "read" or "write";
	// RedisURL: store "redis", op "command") and its error
	// (ssometrics.Metrics.StoreObserver records them). A Store or
	// Expiring given ready-made is the caller's to observe.
	StoreObserver func(store, op string, d time.Duration, err error)
}

// API is the control plane: an http.Handler, and the parts a program needs
// beside it (the Authenticator to protect its own routes, Run for the
// background work).
type API struct {
	cfg        Config
	auth       *middleware.Authenticator
	sessions   *appsession.Manager
	apiKeys    *apikey.Manager
	admit      *admission.Admitter
	clerk      *clerkauth.Verifier
	hs         *clerkauth.Handshake
	st         store.Store
	state      *state.Codec
	svix       *svix.Webhook
	webhookLog WebhookLog
	mux        *httpsec.Mux
	h          http.Handler
	now        func() time.Time
	log        *slog.Logger
	conns      *ttlcache.Cache[idp.Connector]
	connFails  *ttlcache.Cache[error]
	building   connBuilds
	secrets    *secrets
	exp        store.Expiring
	closers    []func() error
	clerkAPI   *clerksession.Client
	clerkSAML  *samlconnection.Client
	clerkUsers *clerkauth.Users
	// clerkMembers reads memberships back from the Backend API, so a
	// membership webhook applies Clerk's state now, not the event's.
	clerkMembers *organizationmembership.Client
}

// minBootstrapAdminKey is the shortest Config.BootstrapAdminKey New
// accepts.
const minBootstrapAdminKey = 16

// New validates cfg and assembles the control plane. It fetches nothing:
// Clerk's keys are fetched on first use.
func New(cfg Config) (*API, error) {
	u, err := url.Parse(cfg.AppURL)
	if err != nil || cfg.AppURL == "" || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || strings.Contains(cfg.AppURL, "#") {
		return nil, errors.New("controlplane: Config.AppURL must be the app's absolute http(s) URL, with no user information, query or fragment")
	}
	if k := cfg.BootstrapAdminKey; k != "" {
		// A Bearer token: printable ASCII with no spaces (a header value's
		// leading or trailing space never arrives), long enough not to be
		// guessed. The key itself is never in the error.
		if len(k) < minBootstrapAdminKey || strings.IndexFunc(k, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0 {
			return nil, fmt.Errorf("controlplane: Config.BootstrapAdminKey must be at least %d printable ASCII characters with no spaces (openssl rand -hex 32)", minBootstrapAdminKey)
		}
	}
	if cfg.ClerkSignInURL != "" {
		// The SSO start redirects browsers to it with "?" and its own
		// query appended: an absolute http(s) URL with neither a query,
		// a fragment nor user information.
		s, err := url.Parse(cfg.ClerkSignInURL)
		if err != nil || (s.Scheme != "https" && s.Scheme != "http") || s.Host == "" || s.User != nil ||
			s.RawQuery != "" || s.ForceQuery || s.Fragment != "" || strings.ContainsAny(cfg.ClerkSignInURL, "# ") {
			return nil, errors.New("controlplane: Config.ClerkSignInURL must be the absolute http(s) URL of Clerk's sign-in page, with no query, fragment or user information")
		}
	}
	a := &API{cfg: cfg, st: cfg.Store, mux: httpsec.NewMux(), now: cfg.Now, log: cfg.Logger}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		a.cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if a.st != nil && cfg.StoreDSN != "" {
		return nil, errors.New("controlplane: set Store or StoreDSN, not both")
	}
	if cfg.Expiring != nil && cfg.RedisURL != "" {
		return nil, errors.New("controlplane: set Expiring or RedisURL, not both")
	}
	// Everything that needs no store is checked before a database is
	// opened or migrated, or Redis reached: a bad key leaves nothing
	// behind.
	if a.secrets, err = newSecrets(cfg.SecretsKeys); err != nil {
		return nil, err
	}
	if a.state, err = state.New(state.Config{Key: cfg.StateKey, PreviousKeys: cfg.PreviousStateKeys, Now: a.now}); err != nil {
		return nil, fmt.Errorf("controlplane: StateKey: %w", err)
	}
	if err := a.sessionManager(); err != nil {
		return nil, err
	}
	if err := a.clerkVerifier(); err != nil {
		return nil, err
	}
	if err := a.clerkParts(); err != nil {
		return nil, err
	}
	if err := a.handshakeParts(); err != nil {
		return nil, err
	}
	switch {
	case cfg.StoreDSN != "":
		sq, err := sqlstore.Open(context.Background(), sqlstore.Config{DSN: cfg.StoreDSN, Now: cfg.Now, Logger: a.log, Observe: observer(cfg.StoreObserver, "sql")})
		if err != nil {
			return nil, fmt.Errorf("controlplane: StoreDSN: %w", err)
		}
		a.st, a.closers = sq, append(a.closers, sq.Close)
	case a.st == nil:
		a.st, _ = store.NewMemory(store.MemoryConfig{Now: a.now})
	}
	_, a.secrets.inMemory = a.st.(*store.Memory)
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	if a.cfg.MaxBodyBytes <= 0 {
		a.cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if a.cfg.IdP.StateKey == nil {
		a.cfg.IdP.StateKey, a.cfg.IdP.PreviousStateKeys = cfg.StateKey, cfg.PreviousStateKeys
	}
	if a.cfg.IdP.HTTPClient == nil {
		a.cfg.IdP.HTTPClient = a.cfg.HTTPClient
	}
	if cfg.InsecureAllowLoopbackIdP {
		a.cfg.IdP.InsecureAllowLoopback = true
	}
	switch a.exp = cfg.Expiring; {
	case cfg.RedisURL != "":
		prefix := cfg.RedisPrefix
		if prefix == "" {
			prefix = "ssokit:"
		}
		rs, err := redisstore.New(context.Background(), redisstore.Config{URL: cfg.RedisURL, Prefix: prefix, Now: cfg.Now, Logger: a.log,
			Observe: observer(cfg.StoreObserver, "redis")})
		if err != nil {
			return nil, fmt.Errorf("controlplane: RedisURL: %w", err)
		}
		a.exp, a.closers = rs, append(a.closers, rs.Close)
	case a.exp == nil:
		a.exp, _ = a.st.(store.Expiring)
	}
	if a.cfg.ReplayCache == nil {
		if a.exp != nil {
			a.cfg.ReplayCache = replayCache{a.exp}
		} else if a.cfg.ReplayCache, err = idp.NewMemoryReplayCache(idp.MemoryReplayCacheConfig{Now: a.now}); err != nil {
			return nil, err
		}
	}
	if a.exp != nil {
		if a.cfg.PasswordLimit == nil {
			a.cfg.PasswordLimit = admission.CounterLimiter{Counter: a.exp, Name: "password-account", Max: admission.DefaultAccountAttempts, Window: admission.DefaultAttemptWindow}
		}
		if a.cfg.PasswordIPLimit == nil {
			a.cfg.PasswordIPLimit = admission.CounterLimiter{Counter: a.exp, Name: "password-ip", Max: admission.DefaultIPAttempts, Window: admission.DefaultAttemptWindow}
		}
	}
	if a.cfg.IdP.ReplayCache == nil {
		a.cfg.IdP.ReplayCache = a.cfg.ReplayCache
	}
	if err := a.credentials(); err != nil {
		return nil, err
	}
	if a.webhookLog = cfg.WebhookLog; a.webhookLog == nil && a.exp != nil {
		a.webhookLog = a.exp
	} else if a.webhookLog == nil {
		if a.webhookLog, err = NewMemoryWebhookLog(0, a.now); err != nil {
			return nil, err
		}
	}
	if a.conns, err = ttlcache.New[idp.Connector](ttlcache.Config{MaxEntries: 10_000, TTL: time.Hour, Now: a.now}); err != nil {
		return nil, err
	}
	if a.connFails, err = ttlcache.New[error](ttlcache.Config{MaxEntries: 10_000, TTL: connFailureTTL, Now: a.now}); err != nil {
		return nil, err
	}
	a.routes()
	// Every response starts with the strictest headers (httpsec.Defaults):
	// a page that sets none of its own still cannot be framed, sniffed,
	// cached or run a script.
	a.h = httpsec.Handler(a.crossOrigin(a.mux))
	ok = true
	return a, nil
}

// Close closes what New opened from StoreDSN and RedisURL. A Store or
// Expiring given in Config is the caller's to close.
func (a *API) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// sessionManager builds the app session manager. It needs no store: it
// reads revocations through the API's (lateRevocations), which New sets
// up after it.
func (a *API) sessionManager() error {
	cfg := &a.cfg
	keys := cfg.SessionKeys
	if cfg.EphemeralSessionKey {
		if len(keys) > 0 {
			return errors.New("controlplane: set SessionKeys or EphemeralSessionKey, not both")
		}
		keys = []appsession.Key{appsession.EphemeralKey()}
	}
	var err error
	if a.sessions, err = appsession.New(appsession.Config{Keys: keys, Issuer: strings.TrimSuffix(cfg.AppURL, "/"),
		Lifetime: cfg.SessionLifetime, InsecureCookie: cfg.InsecureCookie, Revocations: lateRevocations{a}, Ephemeral: cfg.EphemeralSessionKey,
		Now: a.now, Logger: a.log}); err != nil {
		return fmt.Errorf("controlplane: %w", err)
	}
	return nil
}

// lateRevocations reads and writes revocations where the API keeps them
// (API.revocations), which is known only once New has opened its stores.
type lateRevocations struct{ a *API }

// RevokeToken implements store.Revocations.
func (l lateRevocations) RevokeToken(ctx context.Context, jti string, until time.Time) error {
	return l.a.revocations().RevokeToken(ctx, jti, until)
}

// IsRevoked implements store.Revocations.
func (l lateRevocations) IsRevoked(ctx context.Context, jti string) (bool, error) {
	return l.a.revocations().IsRevoked(ctx, jti)
}

// clerkVerifier builds the Clerk session token verifier and the Backend
// API's user reader, when Clerk is configured. Neither needs a store.
func (a *API) clerkVerifier() error {
	cfg := &a.cfg
	if cfg.Clerk.PublishableKey == "" && cfg.Clerk.Issuer == "" {
		return nil
	}
	cc := cfg.Clerk
	if len(cc.AuthorizedParties) == 0 {
		cc.AuthorizedParties = []string{strings.TrimSuffix(cfg.AppURL, "/")}
	}
	if cc.HTTPClient == nil {
		cc.HTTPClient = cfg.HTTPClient
	}
	if cc.Logger == nil {
		cc.Logger = a.log
	}
	if cc.Now == nil {
		cc.Now = cfg.Now
	}
	var err error
	if a.clerk, err = clerkauth.New(cc); err != nil {
		return err
	}
	if cc.SecretKey != "" {
		if a.clerkUsers, err = clerkauth.NewUsers(clerkauth.UsersConfig{SecretKey: cc.SecretKey, APIURL: cc.APIURL,
			InsecureHTTPLoopback: cc.InsecureHTTPLoopback, HTTPClient: cfg.HTTPClient, Now: cfg.Now}); err != nil {
			return err
		}
	}
	return nil
}

// credentials builds API keys, admission and the authenticator, on the
// store New opened.
func (a *API) credentials() error {
	cfg := &a.cfg
	var err error
	if a.apiKeys, err = apikey.New(apikey.Config{Store: a.st, Now: a.now}); err != nil {
		return err
	}
	if a.admit, err = admission.New(admission.Config{Store: a.st, Policy: cfg.Policy, SSOPlans: cfg.SSOPlans,
		AccountLimit: cfg.PasswordLimit, IPLimit: cfg.PasswordIPLimit, Now: a.now}); err != nil {
		return err
	}
	ac := middleware.AuthenticatorConfig{Sessions: a.sessions, APIKeys: a.apiKeys, Admission: a.admit, Now: a.now, Logger: cfg.Logger, OnEvent: cfg.OnEvent,
		JoinedGroups: cfg.ClerkJoinedGroups}
	if v := a.versions(); v != nil {
		ac.Versions = v
	}
	if a.clerk != nil {
		ac.Clerk = a.clerk
		if a.clerkUsers != nil {
			ac.ClerkUsers = a.clerkUsers
		}
	}
	a.auth, err = middleware.NewAuthenticator(ac)
	return err
}

// clerkParts builds the Backend API clients (logout revokes the Clerk
// session; sso/status reads the connection's provider) and the webhook
// verifier.
func (a *API) clerkParts() error {
	if a.cfg.WebhookSecret != "" {
		wh, err := svix.NewWebhook(a.cfg.WebhookSecret)
		if err != nil {
			return fmt.Errorf("controlplane: WebhookSecret: %w", err)
		}
		// svix takes "whsec_" alone as the empty HMAC key, with which
		// anyone signs; its own secrets are 24 random bytes.
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(a.cfg.WebhookSecret, "whsec_"))
		if len(key) < minWebhookKey {
			return fmt.Errorf("controlplane: WebhookSecret holds a %d-byte key, at least %d needed (Clerk's is whsec_ and 32 base64 characters)", len(key), minWebhookKey)
		}
		a.svix = wh
	}
	if sk := a.cfg.Clerk.SecretKey; sk != "" {
		u := a.cfg.Clerk.APIURL
		if u == "" {
			u = clerkauth.DefaultClerkAPIURL
		}
		cc := &clerk.ClientConfig{BackendConfig: clerk.BackendConfig{HTTPClient: a.cfg.HTTPClient, URL: &u, Key: &sk}}
		a.clerkAPI, a.clerkSAML = clerksession.NewClient(cc), samlconnection.NewClient(cc)
		a.clerkMembers = organizationmembership.NewClient(cc)
	}
	return nil
}

// maxACSPost bounds a POST to a direct connection's ACS: the SAML
// connector's own bound (a response of idp.MaxSAMLResponse decoded, in
// base64, and the rest of the form), which it applies again itself. A
// SAML response is not held to Config.MaxBodyBytes, the JSON bodies'
// limit, when that is lower.
const maxACSPost = idp.MaxSAMLResponse*4/3 + 16<<10

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	limit := a.cfg.MaxBodyBytes
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/auth/sso/acs/") {
		limit = max(limit, maxACSPost)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	a.h.ServeHTTP(w, r)
}

// ssoPlans are the plans entitled to SSO: Config.SSOPlans, nil meaning
// admission's default, as admission reads it.
func (a *API) ssoPlans() []string {
	if a.cfg.SSOPlans == nil {
		return admission.DefaultSSOPlans
	}
	return a.cfg.SSOPlans
}

// Authenticator authenticates requests the way the API does: wrap the
// application's own routes with its Handler.
func (a *API) Authenticator() *middleware.Authenticator { return a.auth }

// Store is the control plane's store.
func (a *API) Store() store.Store { return a.st }

// Sessions is the app session manager (its JWKS is served at
// /.well-known/jwks.json).
func (a *API) Sessions() *appsession.Manager { return a.sessions }

// Admission is the organization rules the API applies.
func (a *API) Admission() *admission.Admitter { return a.admit }

// APIKeys is the API-key manager.
func (a *API) APIKeys() *apikey.Manager { return a.apiKeys }

// Run does the background work until ctx ends: it writes API keys' last
// use every DefaultFlushInterval, and once more on the way out.
func (a *API) Run(ctx context.Context) {
	a.apiKeys.RunFlusher(ctx, DefaultFlushInterval)
}
