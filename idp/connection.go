package idp

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/ssokit/ssokit/internal/safehttp"
	"github.com/ssokit/ssokit/internal/state"
	"github.com/ssokit/ssokit/sso"
)

// Connection is one customer identity provider, as an administrator
// configures it.
type Connection struct {
	// ID names the connection (and scopes its state cookies and replay
	// keys).
	ID string `json:"id"`
	// Protocol is saml or oidc; Vendor the profile (generic reads the
	// attribute names from Attributes).
	Protocol sso.Protocol `json:"protocol"`
	Vendor   sso.Vendor   `json:"vendor"`
	// AllowedDomains admits Google Workspace logins only when their hd is
	// one of these (exact, case-insensitive). Empty admits any hd but
	// still refuses a consumer account (no hd).
	AllowedDomains []string `json:"allowed_domains,omitempty"`
	// Attributes overrides where the identity is read from: keys subject,
	// email, first_name, last_name, groups; values are SAML attribute names
	// or OIDC claim names. The generic profile needs at least email.
	Attributes map[string]string `json:"attributes,omitempty"`

	SAML *SAMLSettings `json:"saml,omitempty"`
	OIDC *OIDCSettings `json:"oidc,omitempty"`
}

// SAMLSettings is a SAML connection: the IdP's metadata (XML or a URL), or
// its entity ID, SSO URL and certificate; and our side. IDPEntityID given
// beside metadata must be the metadata's entityID, or the connection is
// refused (ErrConfig).
type SAMLSettings struct {
	IDPMetadataXML    string `json:"idp_metadata_xml,omitempty"`
	IDPMetadataURL    string `json:"idp_metadata_url,omitempty"`
	IDPEntityID       string `json:"idp_entity_id,omitempty"`
	IDPSSOURL         string `json:"idp_sso_url,omitempty"`
	IDPCertificatePEM string `json:"idp_certificate_pem,omitempty"`
	// EntityID and ACSURL are ours; SLOURL, when set, receives logout
	// responses.
	EntityID string `json:"entity_id"`
	ACSURL   string `json:"acs_url"`
	SLOURL   string `json:"slo_url,omitempty"`
	// AllowIDPInitiated accepts unsolicited responses.
	AllowIDPInitiated bool `json:"allow_idp_initiated,omitempty"`
	// NameIDFormat asked for in AuthnRequests. Zero means unspecified, and
	// emailAddress for Azure AD (which would otherwise honour crewjam's
	// transient default with a new NameID every login).
	NameIDFormat string `json:"name_id_format,omitempty"`
	// MaxClockSkew, when set, is a stricter skew checked on top of
	// crewjam's (180 s, which it keeps as a package variable that ssokit
	// never changes), on the assertion's IssueInstant, its Conditions and
	// its bearer SubjectConfirmationData. It cannot loosen crewjam's.
	MaxClockSkew time.Duration `json:"max_clock_skew,omitempty"`
	// AllowSHA1 accepts responses signed with a SHA-1 based algorithm
	// (rsa-sha1 SignatureMethod or a sha1 DigestMethod). Zero refuses them
	// (ReasonAlgorithm), with a message naming the IdP setting that
	// switches to SHA-256: Okta's "Signature Algorithm" and "Digest
	// Algorithm" of the app's SAML settings, OneLogin's "SAML Signature
	// Algorithm" on the app's SSO tab, Entra's "Signing Algorithm" under
	// SAML Certificates. Set it only for an IdP that cannot be changed:
	// SHA-1 signatures are forgeable in principle (chosen-prefix
	// collisions) and every vendor ssokit profiles can sign with SHA-256.
	AllowSHA1 bool `json:"allow_sha1,omitempty"`
}

// OIDCSettings is an OpenID Connect connection.
type OIDCSettings struct {
	// Issuer is the exact issuer; discovery is {Issuer}/.well-known/
	// openid-configuration. For Azure AD multi-tenant apps use the
	// .../common/v2.0 or .../organizations/v2.0 URL with AllowedTenants.
	Issuer       string   `json:"issuer"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	RedirectURL  string   `json:"redirect_url"`
	Scopes       []string `json:"scopes,omitempty"`
	// TokenEndpointAuthMethod is client_secret_basic (zero) or
	// client_secret_post.
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method,omitempty"`
	// AllowedTenants are the Azure AD tenant IDs admitted through a
	// common/organizations issuer (the token's tid is checked, and iss
	// against that tenant's issuer). Such a connection takes an address
	// only with the optional ID token claim xms_edov true: add it to the
	// app registration.
	AllowedTenants []string `json:"allowed_tenants,omitempty"`
}

// Options are a process's dependencies, shared by its connections. The
// zero value works.
type Options struct {
	// HTTPClient supplies, for the requests to the identity provider
	// (metadata, discovery, keys, token and userinfo endpoints: URLs a
	// tenant chooses), only its TLS trust (the TLSClientConfig of its
	// *http.Transport, which it must have if it has a Transport) and its
	// Timeout (capped at 10 s). Those requests always go through ssokit's
	// guarded client: https only, the dialed address checked after DNS
	// resolution (no loopback, private, link-local, CGNAT, multicast or
	// other special-purpose address, in any IPv6 form), no proxy, at most
	// 3 redirects each checked again, bodies and time bounded. Nil means
	// the system roots and 10 s.
	HTTPClient *http.Client
	// InsecureAllowLoopback lets those requests reach loopback addresses
	// (127.0.0.0/8, ::1), over plain http too when the URL's host is a
	// loopback literal or localhost: for tests and the demo, whose mock
	// identity provider runs on this machine. An operator's setting;
	// never derive it from a tenant's input. Other internal addresses stay
	// refused. With it, HTTPClient's dialer (one that maps test host names
	// such as idp.okta.test to 127.0.0.1) is used, and the address it
	// connects to is still checked.
	InsecureAllowLoopback bool
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives refusals in detail. Nil means silent.
	Logger *slog.Logger
	// ReplayCache records used assertion and LogoutResponse IDs. Nil means
	// a MemoryReplayCache of default size per connection; replicas need a
	// shared implementation (the control plane passes its store's).
	ReplayCache ReplayCache
	// StateKey signs the login- and logout-state cookies. Required: 32
	// random bytes or more, shared by every replica; there is no default.
	StateKey []byte
	// PreviousStateKeys still verify state cookies (never sign them), so
	// that sign-ins in flight survive a rotation of StateKey. Each is at
	// least 32 bytes; drop one ten minutes after the switch.
	PreviousStateKeys [][]byte
	// GroupResolver fetches Azure AD groups when an ID token carries the
	// overage claim, or a SAML assertion groups.link, instead of them
	// (GraphGroupResolver; over SAML it needs AppCredentials). Nil
	// refuses such logins with ErrGroupOverage.
	GroupResolver GroupResolver
	// CookiePath scopes the login-state cookies. Zero means "/"; a server
	// that shares its host with other apps (the mock Clerk) narrows it.
	CookiePath string
	// SPKey and SPCertificate, when set, sign our AuthnRequests and
	// decrypt encrypted assertions.
	SPKey         crypto.Signer
	SPCertificate *x509.Certificate
	// SAML limits the lifetime and authentication age of SAML assertions.
	// The zero value means the documented defaults.
	SAML SAMLLimits

	guarded *http.Client
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// client is the guarded client every request to the identity provider
// goes through (prepare builds it).
func (o Options) client() *http.Client {
	if o.guarded != nil {
		return o.guarded
	}
	return safehttp.NewClient(safehttp.Config{AllowLoopback: o.InsecureAllowLoopback})
}

// prepare builds the guarded client from HTTPClient's trust and timeout.
func (o Options) prepare() (Options, error) {
	cfg := safehttp.Config{AllowLoopback: o.InsecureAllowLoopback, Timeout: 10 * time.Second}
	if c := o.HTTPClient; c != nil {
		if c.Timeout > 0 && c.Timeout < cfg.Timeout {
			cfg.Timeout = c.Timeout
		}
		switch tr := c.Transport.(type) {
		case nil:
		case *http.Transport:
			cfg.TLSClientConfig = tr.TLSClientConfig
			if o.InsecureAllowLoopback {
				// A test's dialer mapping names to loopback; the
				// guard still checks where it connects.
				cfg.LoopbackDial = tr.DialContext
			}
		default:
			return o, fmt.Errorf("%w: Options.HTTPClient's Transport must be an *http.Transport (its TLS settings are used under ssokit's guard), not %T", ErrConfig, tr)
		}
	}
	o.guarded = safehttp.NewClient(cfg)
	return o, nil
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Connector runs logins for one connection. Start sends the browser to the
// identity provider; Finish reads its answer (the SAML ACS POST or the OIDC
// redirect) and returns the Identity and the local path to go back to.
type Connector interface {
	// Connection returns the connection's settings.
	Connection() Connection
	// Start redirects the browser to the identity provider, keeping the
	// login's state (bound to this browser) in a cookie. returnTo must be
	// a local path ("/" otherwise); loginHint may be empty.
	Start(w http.ResponseWriter, r *http.Request, returnTo, loginHint string) error
	// Finish checks the identity provider's answer against this browser's
	// state and returns the Identity and the return-to path, or a
	// *LoginError.
	Finish(w http.ResponseWriter, r *http.Request) (*Identity, string, error)
}

// SingleLogout is implemented by SAML connectors: StartLogout sends the
// browser to the IdP with a signed LogoutRequest for the identity's
// session (it needs Options.SPKey), keeping the request's ID in this
// browser's state; FinishLogout accepts the IdP's LogoutResponse only in
// answer to that request, once.
type SingleLogout interface {
	// StartLogout redirects the browser to the IdP's logout endpoint. The
	// LogoutRequest names id.NameID with id.NameIDFormat, as the login's
	// assertion did, and id.SessionIndex when set.
	StartLogout(w http.ResponseWriter, r *http.Request, id *Identity) error
	// FinishLogout checks the LogoutResponse and clears the state.
	FinishLogout(w http.ResponseWriter, r *http.Request) error
}

// New validates the connection and builds its Connector. It fetches what it
// needs (SAML metadata by URL, OIDC discovery) with ctx; errors wrap
// ErrConfig and say what to fix.
func New(ctx context.Context, c Connection, opts Options) (Connector, error) {
	if c.ID == "" || strings.ContainsAny(c.ID, " \t\r\n/") {
		return nil, fmt.Errorf("%w: the connection needs an ID without spaces or slashes", ErrConfig)
	}
	switch c.Vendor {
	case sso.Okta, sso.AzureAD, sso.GoogleWorkspace, sso.OneLogin, sso.JumpCloud:
	case sso.Generic:
		if c.Attributes["email"] == "" {
			return nil, fmt.Errorf("%w: the generic profile needs attributes.email", ErrConfig)
		}
	default:
		return nil, fmt.Errorf("%w: vendor %q is not okta, azure_ad, google_workspace, onelogin, jumpcloud or generic", ErrConfig, c.Vendor)
	}
	if len(opts.StateKey) < state.MinKeySize {
		return nil, fmt.Errorf("%w: Options.StateKey must be at least %d random bytes (it is required)", ErrConfig, state.MinKeySize)
	}
	opts, err := opts.prepare()
	if err != nil {
		return nil, err
	}
	if opts.ReplayCache == nil {
		rc, err := NewMemoryReplayCache(MemoryReplayCacheConfig{Now: opts.Now})
		if err != nil {
			return nil, err
		}
		opts.ReplayCache = rc
	}
	switch c.Protocol {
	case sso.SAML:
		if c.SAML == nil || c.OIDC != nil {
			return nil, fmt.Errorf("%w: a SAML connection needs saml settings and no oidc settings", ErrConfig)
		}
		return newSAML(ctx, c, opts)
	case sso.OIDC:
		if c.OIDC == nil || c.SAML != nil {
			return nil, fmt.Errorf("%w: an OIDC connection needs oidc settings and no saml settings", ErrConfig)
		}
		return newOIDC(ctx, c, opts)
	}
	return nil, fmt.Errorf("%w: protocol %q is not saml or oidc", ErrConfig, c.Protocol)
}

// maxURL bounds a URL of a connection, given or discovered: each goes into
// redirects, requests and logs at every use.
const maxURL = 4096

func checkHTTPURL(field, raw string) (*url.URL, error) {
	if len(raw) > maxURL {
		return nil, fmt.Errorf("%w: %s is longer than %d bytes", ErrConfig, field, maxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("%w: %s %q is not an absolute http(s) URL", ErrConfig, field, raw)
	}
	return u, nil
}

// checkFetchURL is checkHTTPURL for a URL the server will fetch: https
// (http only to a loopback host with InsecureAllowLoopback), and no IP
// literal the guarded client would refuse. Host names are checked when
// dialed.
func checkFetchURL(field, raw string, opts Options) (*url.URL, error) {
	u, err := checkHTTPURL(field, raw)
	if err != nil {
		return nil, err
	}
	if err := safehttp.CheckURL(u, opts.InsecureAllowLoopback); err != nil {
		return nil, fmt.Errorf("%w: %s %q must be an https URL of a public host", ErrConfig, field, raw)
	}
	return u, nil
}

// clock adapts Options.Now to the clock interface crewjam and goxmldsig
// take per instance, so their package clocks are never touched.
type clock struct {
	clockwork.Clock
	now func() time.Time
}

func (c clock) Now() time.Time                  { return c.now() }
func (c clock) Since(t time.Time) time.Duration { return c.now().Sub(t) }
func (c clock) Until(t time.Time) time.Duration { return t.Sub(c.now()) }

// fetch GETs a tenant-supplied URL through the guarded client and returns
// a body of at most limit bytes from a 200 answer. Its errors are
// detailed, for logs only: see fetchFailed.
func fetch(ctx context.Context, opts Options, rawURL string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := opts.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// fetchFailed logs why a request to a tenant-supplied URL failed and
// returns an error that says only which step failed: the remote status,
// body and network error stay in the operator's log, so the connection
// settings cannot be used to probe what the server can reach. The log
// gets at most maxDetail bytes of it: go-oidc's discovery error carries
// the whole error page, which the tenant's server writes.
func fetchFailed(opts Options, step, rawURL string, err error) error {
	opts.logger().Warn("idp: "+step+" fetch failed", "url", clip(trimQuery(rawURL), maxDetail), "err", clip(err.Error(), maxDetail))
	return fmt.Errorf("%w: %s fetch failed (the URL must be https on a public address and answer 200 with the document)", ErrConfig, step)
}
