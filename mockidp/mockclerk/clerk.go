package mockclerk

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp/internal/jwtkeys"
)

// Config is one mock Clerk instance: its Frontend API (FAPI: JWKS, hosted
// sign-in, dev browser, handshake) under /{name}/, and its Backend API
// (BAPI) under /{name}/bapi/v1/. No path answers on both.
type Config struct {
	// Name is the path prefix and handle (Server.Clerk(name)).
	Name string `json:"name"`
	// Instance is "development" (zero) or "production": pk_test_/sk_test_
	// keys and a dev browser (__clerk_db_jwt) identifying the client, or
	// pk_live_/sk_live_ keys and the __client cookie on the FAPI host.
	Instance string `json:"instance,omitempty"`
	// FrontendHost, when set (a DNS name such as clerk.example.test), also
	// serves the FAPI at the root of that host on the same server; the
	// Frontend API URL, the tokens' issuer and the publishable key then name
	// it (with the server's scheme and port).
	FrontendHost string `json:"frontend_host,omitempty"`
	// HandshakeNonce makes the handshake deliver a nonce (redeemed once at
	// the BAPI) whenever the SDK accepts one (format=nonce), not only for
	// payloads over 2048 bytes.
	HandshakeNonce bool `json:"handshake_nonce,omitempty"`
	// AllowedRedirectURLs are where sign-in and the handshake may send the
	// browser back: same scheme, host, port and path (the query is not
	// compared), or for a loopback http URL registered without a port, any
	// port.
	AllowedRedirectURLs []string `json:"allowed_redirect_urls"`
	// Webhooks are endpoints that receive svix-signed events.
	Webhooks []string `json:"webhooks,omitempty"`
	// TokenVersion is 2 (zero) or 1: the session token claim format.
	TokenVersion int `json:"token_version,omitempty"`
	// Organizations and enterprise Connections that exist at start.
	Organizations []OrgConfig        `json:"organizations,omitempty"`
	Connections   []ConnectionConfig `json:"connections,omitempty"`
	// Users that exist at start (as if they had signed up).
	Users []UserConfig `json:"users,omitempty"`
	// Claims is the session token customization: claim name -> shortcode,
	// as Clerk's dashboard takes them: {{user.primary_email_address}},
	// {{user.first_name}}, {{user.last_name}}, {{user.public_metadata.KEY}},
	// {{org.slug}}, {{org.public_metadata.KEY}}, {{session.idp}} (the
	// enterprise connection's provider, okta, azure_ad, ...). Zero means
	// email, groups (public_metadata.groups) and idp. Clerk's default
	// claims (the registered ones, sid, v, o, fva, fea, pla, sts) are
	// never overridden.
	Claims map[string]string `json:"claims,omitempty"`
}

// defaultClaims is the session token template when none is configured.
var defaultClaims = map[string]string{
	"email":  "{{user.primary_email_address}}",
	"groups": "{{user.public_metadata.groups}}",
	"idp":    "{{session.idp}}",
}

// OrgConfig is an organization of a mock Clerk instance.
type OrgConfig struct {
	// ID is the organization ID; zero means "org_" + Slug.
	ID string `json:"id,omitempty"`
	// Name and Slug are required; connections and users name an
	// organization by its ID or slug.
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// ConnectionConfig is an enterprise connection: sign-in by email
// domain brokers to a persona over SAML or OIDC and adds the person to the
// organization with the default role.
type ConnectionConfig struct {
	// ID is the connection ID; zero means samlc_ or oidcc_ + Persona.
	ID string `json:"id,omitempty"`
	// Name is shown in the Backend API; zero means Persona.
	Name string `json:"name,omitempty"`
	// Protocol is saml or oidc.
	Protocol string `json:"protocol"`
	// Persona is the name of the identity provider persona brokered to.
	Persona string `json:"persona"`
	// Organization is the organization's ID or slug.
	Organization string `json:"organization"`
	// Domains are the email domains that sign in through the connection
	// (exact, case-insensitive).
	Domains []string `json:"domains"`
	// DefaultRole is the Clerk role a new member gets: "admin" or
	// "member" (zero), with or without the "org:" prefix.
	DefaultRole string `json:"default_role,omitempty"`
}

// UserConfig is a person known to the instance before any sign-in.
type UserConfig struct {
	// ID is the user ID; zero means a generated user_... ID.
	ID string `json:"id,omitempty"`
	// Email is the primary email address (required).
	Email string `json:"email"`
	// FirstName and LastName are the person's names.
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	// OrgRoles maps an organization slug to the user's role in it.
	OrgRoles map[string]string `json:"org_roles,omitempty"`
}

// nameRE is what an instance name (a path segment) may be.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

// Validate checks the configuration; hasPersona reports whether a
// persona of that name exists (connections must point at one).
func (c *Config) Validate(hasPersona func(name string) bool) error {
	if !nameRE.MatchString(c.Name) {
		return fmt.Errorf("mockclerk: instance name %q must be letters, digits, - or _", c.Name)
	}
	if c.Instance != "" && c.Instance != Development && c.Instance != Production {
		return fmt.Errorf("mockclerk: %s: instance %q is not development or production", c.Name, c.Instance)
	}
	if c.FrontendHost != "" && !validHostName(c.FrontendHost) {
		return fmt.Errorf("mockclerk: %s: frontend_host %q is not a DNS name of two or more labels (no port)", c.Name, c.FrontendHost)
	}
	if c.TokenVersion != 0 && c.TokenVersion != 1 && c.TokenVersion != 2 {
		return fmt.Errorf("mockclerk: %s: token_version %d is not 1 or 2", c.Name, c.TokenVersion)
	}
	orgs := map[string]bool{}
	for _, o := range c.Organizations {
		if o.Name == "" || o.Slug == "" {
			return fmt.Errorf("mockclerk: %s: an organization needs a name and a slug", c.Name)
		}
		orgs[o.Slug], orgs[o.ID] = true, o.ID != ""
	}
	for _, cn := range c.Connections {
		if hasPersona == nil || !hasPersona(cn.Persona) {
			return fmt.Errorf("mockclerk: %s: connection to unknown persona %q", c.Name, cn.Persona)
		}
		if cn.Protocol != "saml" && cn.Protocol != "oidc" {
			return fmt.Errorf("mockclerk: %s: connection protocol %q is not saml or oidc", c.Name, cn.Protocol)
		}
		if !orgs[cn.Organization] {
			return fmt.Errorf("mockclerk: %s: connection to unknown organization %q", c.Name, cn.Organization)
		}
		if len(cn.Domains) == 0 {
			return fmt.Errorf("mockclerk: %s: connection to %s needs domains", c.Name, cn.Persona)
		}
	}
	for _, r := range c.AllowedRedirectURLs {
		if _, ok := parseRedirect(r); !ok {
			return fmt.Errorf("mockclerk: %s: allowed redirect URL %q is not an absolute http(s) URL without userinfo or a fragment", c.Name, r)
		}
	}
	return nil
}

// The instance kinds (Config.Instance).
const (
	Development = "development"
	Production  = "production"
)

// validHostName accepts a lower-case DNS name of two or more labels.
func validHostName(h string) bool {
	if len(h) > 253 || strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") {
		return false
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if b := l[i]; !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-') {
				return false
			}
		}
	}
	return true
}

// Clerk is a mock Clerk instance of a Server. Its methods are the Go form
// of its admin operations; all are safe for concurrent use.
type Clerk struct {
	host Host
	cfg  Config
	now  func() time.Time
	log  *slog.Logger
	ctx  context.Context // ends when the host closes: stops webhook retries
	keys jwtkeys.Ring

	sk, whsec string

	mu          sync.Mutex
	users       map[string]*cUser
	orgs        map[string]*cOrg
	memberships map[string]map[string]*cMembership // org ID -> user ID
	sessions    map[string]*cSession
	clients     map[string]*cClient // by ID
	byToken     map[string]*cClient // production: the __client cookie's value
	byDevBrowse map[string]*cClient // development: the dev browser token
	nonces      map[string]handshakeNonce
	conns       map[string]*cConn
	connectors  map[string]idp.Connector
	webhooks    []string
	faults      faultSet
	deliveries  []*Delivery
	retryBase   time.Duration
	stateKey    []byte
	wg          sync.WaitGroup
}

type cUser struct {
	ID, Email, FirstName, LastName                  string
	PublicMetadata, PrivateMetadata, UnsafeMetadata map[string]any
	SAMLAccounts                                    []map[string]any
	ExternalID                                      string
	Created, Updated, LastSignIn                    int64
}

type cOrg struct {
	ID, Name, Slug                  string
	PublicMetadata, PrivateMetadata map[string]any
	MaxMemberships                  int64
	AdminDelete                     bool
	CreatedBy                       string
	Created, Updated                int64
}

type cMembership struct {
	ID, Role                        string
	PublicMetadata, PrivateMetadata map[string]any
	Created, Updated                int64
}

type cSession struct {
	ID, UserID, ClientID, Status, OrgID string
	Azp, IdP                            string
	Created, Updated, Expire            int64
}

// cClient is a Clerk client: one browser, known to the FAPI by its dev
// browser (development) or its __client cookie (production), with its
// active session and when it last signed in or out (__client_uat).
type cClient struct {
	ID, Token, DevBrowser, SessionID string
	UAT                              int64
}

type cConn struct {
	ConnectionConfig
	Active           bool
	Created, Updated int64
}

func newID(prefix string) string {
	b := make([]byte, 14)
	_, _ = rand.Read(b)
	return prefix + "_" + strings.ToUpper(hex.EncodeToString(b))[:27]
}

// Options are the per-instance seams of a mock Clerk instance.
type Options struct {
	// Now is the clock; zero means time.Now.
	Now func() time.Time
	// Logger receives refusals and bugs; zero means silent.
	Logger *slog.Logger
	// Context, when it ends, stops webhook retries; zero means never.
	Context context.Context
}

// New validates cfg and builds an instance served by host (which must
// route its Handler under /{cfg.Name}/).
func New(cfg Config, host Host, opts Options) (*Clerk, error) {
	if host == nil {
		return nil, errors.New("mockclerk: a Host is required")
	}
	if err := cfg.Validate(func(name string) bool { _, ok := host.IdP(name); return ok }); err != nil {
		return nil, err
	}
	c := &Clerk{host: host, cfg: cfg, now: opts.Now, log: opts.Logger, ctx: opts.Context, retryBase: 500 * time.Millisecond}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.ctx == nil {
		c.ctx = context.Background()
	}
	secret := make([]byte, 24)
	_, _ = rand.Read(secret)
	c.sk = "sk_" + c.kindPrefix() + "_" + base64.RawURLEncoding.EncodeToString(secret)
	_, _ = rand.Read(secret)
	c.whsec = "whsec_" + base64.StdEncoding.EncodeToString(secret)
	c.Reset()
	return c, nil
}

// Routes registers the instance's Frontend API (JWKS, hosted sign-in, SAML
// ACS and metadata, OIDC callback, dev browser, handshake) under /{name}/
// and, with Config.FrontendHost, at the root of that host; and its Backend
// API under /{name}/bapi/v1/.
func (c *Clerk) Routes(mux Mux) {
	for _, rt := range c.frontendRoutes() {
		mux.HandleFunc(rt.method+" "+c.fapiPrefix()+rt.path, rt.h)
		if c.cfg.FrontendHost != "" {
			mux.HandleFunc(rt.method+" "+c.cfg.FrontendHost+rt.path, rt.h)
		}
	}
	for _, rt := range c.backendRoutes() {
		mux.HandleFunc(rt.method+" "+c.bapiPrefix()+rt.path, c.bapi(rt.h))
	}
}

// Mux is where Routes registers the instance's endpoints: an
// *http.ServeMux, or a mux that also records what is registered.
type Mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// route is one endpoint of the FAPI or the BAPI, relative to its prefix.
type route struct {
	method, path string
	h            http.HandlerFunc
}

// fapiPrefix is the FAPI's path on the shared server; bapiPrefix the
// BAPI's, ending in /v1.
func (c *Clerk) fapiPrefix() string { return "/" + c.cfg.Name }
func (c *Clerk) bapiPrefix() string { return "/" + c.cfg.Name + "/bapi/v1" }

// Reset puts the instance back to its configuration: users, organizations,
// memberships, sessions, connections, webhooks, faults and deliveries.
func (c *Clerk) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now().UnixMilli()
	c.users, c.orgs, c.memberships = map[string]*cUser{}, map[string]*cOrg{}, map[string]map[string]*cMembership{}
	c.sessions, c.conns, c.connectors = map[string]*cSession{}, map[string]*cConn{}, map[string]idp.Connector{}
	c.clients, c.byToken, c.byDevBrowse, c.nonces = map[string]*cClient{}, map[string]*cClient{}, map[string]*cClient{}, map[string]handshakeNonce{}
	c.webhooks = slices.Clone(c.cfg.Webhooks)
	c.faults, c.deliveries = faultSet{}, nil
	for _, o := range c.cfg.Organizations {
		id := o.ID
		if id == "" {
			id = "org_" + o.Slug
		}
		c.orgs[id] = &cOrg{ID: id, Name: o.Name, Slug: o.Slug, PublicMetadata: map[string]any{}, PrivateMetadata: map[string]any{},
			AdminDelete: true, Created: now, Updated: now}
		c.memberships[id] = map[string]*cMembership{}
	}
	for _, cn := range c.cfg.Connections {
		if org := c.orgLocked(cn.Organization); org != nil {
			cn.Organization = org.ID
		}
		if cn.ID == "" {
			cn.ID = "samlc_" + cn.Persona
			if cn.Protocol == "oidc" {
				cn.ID = "oidcc_" + cn.Persona
			}
		}
		if cn.Name == "" {
			cn.Name = cn.Persona
		}
		c.conns[cn.ID] = &cConn{ConnectionConfig: cn, Active: true, Created: now, Updated: now}
	}
	for _, u := range c.cfg.Users {
		cu := c.userLocked(u.Email, u.FirstName, u.LastName, now)
		if u.ID != "" {
			delete(c.users, cu.ID)
			cu.ID = u.ID
			c.users[cu.ID] = cu
		}
		for slug, role := range u.OrgRoles {
			if org := c.orgLocked(slug); org != nil {
				c.memberships[org.ID][cu.ID] = &cMembership{ID: newID("orgmem"), Role: clerkRole(role), Created: now, Updated: now,
					PublicMetadata: map[string]any{}, PrivateMetadata: map[string]any{}}
			}
		}
	}
	c.keys.Reset()
}

// orgLocked finds an organization by ID or slug.
func (c *Clerk) orgLocked(idOrSlug string) *cOrg {
	if o, ok := c.orgs[idOrSlug]; ok {
		return o
	}
	for _, o := range c.orgs {
		if o.Slug == idOrSlug {
			return o
		}
	}
	return nil
}

// userLocked returns the user with email, creating it.
func (c *Clerk) userLocked(email, first, last string, now int64) *cUser {
	for _, u := range c.users {
		if strings.EqualFold(u.Email, email) {
			return u
		}
	}
	u := &cUser{ID: newID("user"), Email: strings.ToLower(email), FirstName: first, LastName: last,
		PublicMetadata: map[string]any{}, PrivateMetadata: map[string]any{}, UnsafeMetadata: map[string]any{}, Created: now, Updated: now}
	c.users[u.ID] = u
	return u
}

func clerkRole(r string) string {
	switch strings.TrimPrefix(r, "org:") {
	case "admin":
		return "org:admin"
	case "", "member", "basic_member":
		return "org:member"
	}
	if strings.HasPrefix(r, "org:") {
		return r
	}
	return "org:" + r
}

// Name is the instance's name and path prefix.
func (c *Clerk) Name() string { return c.cfg.Name }

// Instance is the instance kind: Development or Production.
func (c *Clerk) Instance() string {
	if c.cfg.Instance == Production {
		return Production
	}
	return Development
}

func (c *Clerk) production() bool { return c.cfg.Instance == Production }

// kindPrefix is the kind's part of the keys: test or live.
func (c *Clerk) kindPrefix() string {
	if c.production() {
		return "live"
	}
	return "test"
}

// FrontendAPIURL is the instance's Frontend API without a trailing slash,
// and its tokens' issuer: {server}/{name}, or with Config.FrontendHost
// {scheme}://{FrontendHost}[:{server port}].
func (c *Clerk) FrontendAPIURL() string {
	base := c.host.BaseURL()
	if c.cfg.FrontendHost == "" {
		return base + c.fapiPrefix()
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		return "http://" + c.cfg.FrontendHost
	}
	host := c.cfg.FrontendHost
	if p := u.Port(); p != "" {
		host += ":" + p
	}
	return u.Scheme + "://" + host
}

// BackendAPIURL is the Backend API base, {server}/{name}/bapi/v1: ending
// in /v1, as clerkauth.Config.APIURL and clerk-sdk-go take it.
// (@clerk/backend's apiUrl is this without the /v1.)
func (c *Clerk) BackendAPIURL() string { return c.host.BaseURL() + c.bapiPrefix() }

// SignInURL is the hosted sign-in page on the Frontend API
// (?redirect_url=...[&email=...][&__clerk_db_jwt=...]).
func (c *Clerk) SignInURL() string { return c.FrontendAPIURL() + "/sign-in" }

// PublishableKey is pk_test_ (development) or pk_live_ (production) + the
// standard base64 of the Frontend API host[:port][/path] followed by "$",
// as Clerk encodes it.
func (c *Clerk) PublishableKey() string {
	host := strings.TrimPrefix(strings.TrimPrefix(c.FrontendAPIURL(), "https://"), "http://")
	return "pk_" + c.kindPrefix() + "_" + base64.StdEncoding.EncodeToString([]byte(host+"$"))
}

// SecretKey authenticates Backend API calls.
func (c *Clerk) SecretKey() string { return c.sk }

// WebhookSigningSecret is the whsec_ secret deliveries are signed with.
func (c *Clerk) WebhookSigningSecret() string { return c.whsec }

// SetWebhookRetryBase sets the first retry delay of webhook deliveries
// (doubling after each failure; 500 ms by default). Tests shorten it.
func (c *Clerk) SetWebhookRetryBase(d time.Duration) {
	c.mu.Lock()
	c.retryBase = d
	c.mu.Unlock()
}

// SetWebhooks replaces the webhook endpoints.
func (c *Clerk) SetWebhooks(urls ...string) {
	c.mu.Lock()
	c.webhooks = slices.Clone(urls)
	c.mu.Unlock()
}

// RotateKeys makes a new signing key active; the previous stays published.
func (c *Clerk) RotateKeys() error {
	_, err := c.RotateKey()
	return err
}

// RotateKey is RotateKeys that also returns the new key's ID.
func (c *Clerk) RotateKey() (kid string, err error) {
	k, err := c.keys.Rotate()
	if err != nil {
		return "", err
	}
	return k.KID, nil
}

// InjectFault arms a Clerk fault (clerk_*) for the next times events, or
// until ClearFaults when times is 0.
func (c *Clerk) InjectFault(f Fault, times int) error {
	if _, ok := faultCatalog[f]; !ok {
		return unknownFault(f)
	}
	if times < 0 {
		return errors.New("mockclerk: times is negative")
	}
	n := times
	if n == 0 {
		n = -1
	}
	c.mu.Lock()
	c.faults[f] = n
	c.mu.Unlock()
	return nil
}

// ClearFaults disarms every Clerk fault.
func (c *Clerk) ClearFaults() {
	c.mu.Lock()
	c.faults = faultSet{}
	c.mu.Unlock()
}

func (c *Clerk) takeFaults(site faultSite) []Fault {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.faults) == 0 {
		return nil
	}
	return c.faults.Take(string(site), siteOf)
}

// Wait blocks until webhook deliveries in flight are done (tests).
func (c *Clerk) Wait() { c.wg.Wait() }

// PutConnection adds or replaces an enterprise connection.
func (c *Clerk) PutConnection(cn ConnectionConfig) error {
	if cn.ID == "" || strings.ContainsAny(cn.ID, "/ ") {
		return errors.New("mockclerk: the connection needs an ID without slashes or spaces")
	}
	if cn.Protocol != "saml" && cn.Protocol != "oidc" {
		return fmt.Errorf("mockclerk: protocol %q is not saml or oidc", cn.Protocol)
	}
	if c.idp(cn.Persona) == nil {
		return fmt.Errorf("mockclerk: no persona %q", cn.Persona)
	}
	if len(cn.Domains) == 0 {
		return errors.New("mockclerk: the connection needs domains")
	}
	now := c.now().UnixMilli()
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.orgLocked(cn.Organization)
	if o == nil {
		return fmt.Errorf("mockclerk: no organization %q", cn.Organization)
	}
	cn.Organization = o.ID
	if cn.Name == "" {
		cn.Name = cn.Persona
	}
	c.conns[cn.ID] = &cConn{ConnectionConfig: cn, Active: true, Created: now, Updated: now}
	delete(c.connectors, cn.ID)
	return nil
}
