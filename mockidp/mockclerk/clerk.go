package mockidp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ssokit/ssokit/idp"
)

// ClerkConfig is one mock Clerk instance, served under /{name}/: its
// Frontend API (JWKS, hosted sign-in) and its Backend API at /{name}/v1.
type ClerkConfig struct {
	// Name is the path prefix and handle (Server.Clerk(name)).
	Name string `json:"name"`
	// AllowedRedirectURLs are where sign-in may send the browser back
	// (exact, or a loopback http URL without a port matching any port).
	AllowedRedirectURLs []string `json:"allowed_redirect_urls"`
	// Webhooks are endpoints that receive svix-signed events.
	Webhooks []string `json:"webhooks,omitempty"`
	// TokenVersion is 2 (zero) or 1: the session token claim format.
	TokenVersion int `json:"token_version,omitempty"`
	// Organizations and enterprise Connections that exist at start.
	Organizations []ClerkOrgConfig        `json:"organizations,omitempty"`
	Connections   []ClerkConnectionConfig `json:"connections,omitempty"`
	// Users that exist at start (as if they had signed up).
	Users []ClerkUserConfig `json:"users,omitempty"`
	// Claims is the session token customization: claim name -> shortcode,
	// as Clerk's dashboard takes them: {{user.primary_email_address}},
	// {{user.first_name}}, {{user.last_name}}, {{user.public_metadata.KEY}},
	// {{org.slug}}, {{org.public_metadata.KEY}}, {{session.idp}} (the
	// enterprise connection's provider, okta, azure_ad, ...). Zero means
	// email, groups (public_metadata.groups) and idp.
	Claims map[string]string `json:"claims,omitempty"`
}

// defaultClaims is the session token template when none is configured.
var defaultClaims = map[string]string{
	"email":  "{{user.primary_email_address}}",
	"groups": "{{user.public_metadata.groups}}",
	"idp":    "{{session.idp}}",
}

// ClerkOrgConfig is an organization of a mock Clerk instance.
type ClerkOrgConfig struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// ClerkConnectionConfig is an enterprise connection: sign-in by email
// domain brokers to a persona over SAML or OIDC and adds the person to the
// organization with the default role.
type ClerkConnectionConfig struct {
	ID           string   `json:"id,omitempty"`
	Name         string   `json:"name,omitempty"`
	Protocol     string   `json:"protocol"` // saml or oidc
	Persona      string   `json:"persona"`
	Organization string   `json:"organization"` // organization ID or slug
	Domains      []string `json:"domains"`
	// DefaultRole is the Clerk role a new member gets: "admin" or
	// "member" (zero), with or without the "org:" prefix.
	DefaultRole string `json:"default_role,omitempty"`
}

// ClerkUserConfig is a person known to the instance before any sign-in.
type ClerkUserConfig struct {
	ID        string            `json:"id,omitempty"`
	Email     string            `json:"email"`
	FirstName string            `json:"first_name,omitempty"`
	LastName  string            `json:"last_name,omitempty"`
	OrgRoles  map[string]string `json:"org_roles,omitempty"` // organization slug -> role
}

func (c *ClerkConfig) validate(personas map[string]PersonaConfig) error {
	if !nameRE.MatchString(c.Name) || reservedNames[c.Name] && c.Name != "clerk" {
		return fmt.Errorf("clerk instance name %q must be letters, digits, - or _", c.Name)
	}
	if c.TokenVersion != 0 && c.TokenVersion != 1 && c.TokenVersion != 2 {
		return fmt.Errorf("clerk %s: token_version %d is not 1 or 2", c.Name, c.TokenVersion)
	}
	orgs := map[string]bool{}
	for _, o := range c.Organizations {
		if o.Name == "" || o.Slug == "" {
			return fmt.Errorf("clerk %s: an organization needs a name and a slug", c.Name)
		}
		orgs[o.Slug], orgs[o.ID] = true, o.ID != ""
	}
	for _, cn := range c.Connections {
		p, ok := personas[cn.Persona]
		if !ok {
			return fmt.Errorf("clerk %s: connection to unknown persona %q", c.Name, cn.Persona)
		}
		_ = p
		if cn.Protocol != "saml" && cn.Protocol != "oidc" {
			return fmt.Errorf("clerk %s: connection protocol %q is not saml or oidc", c.Name, cn.Protocol)
		}
		if !orgs[cn.Organization] {
			return fmt.Errorf("clerk %s: connection to unknown organization %q", c.Name, cn.Organization)
		}
		if len(cn.Domains) == 0 {
			return fmt.Errorf("clerk %s: connection to %s needs domains", c.Name, cn.Persona)
		}
	}
	for _, r := range c.AllowedRedirectURLs {
		if err := (&ClientConfig{ClientID: "x", ClientSecret: "x", RedirectURIs: []string{r}}).validate(); err != nil {
			return fmt.Errorf("clerk %s: allowed redirect URL: %w", c.Name, err)
		}
	}
	return nil
}

// Clerk is a mock Clerk instance of a Server. Its methods are the Go form
// of its admin operations; all are safe for concurrent use.
type Clerk struct {
	srv  *Server
	cfg  ClerkConfig
	keys keyRing

	pk, sk, whsec string

	mu          sync.Mutex
	users       map[string]*cUser
	orgs        map[string]*cOrg
	memberships map[string]map[string]*cMembership // org ID -> user ID
	sessions    map[string]*cSession
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

type cConn struct {
	ClerkConnectionConfig
	Active           bool
	Created, Updated int64
}

func newID(prefix string) string {
	b := make([]byte, 14)
	_, _ = rand.Read(b)
	return prefix + "_" + strings.ToUpper(hex.EncodeToString(b))[:27]
}

func newClerk(s *Server, cfg ClerkConfig) *Clerk {
	c := &Clerk{srv: s, cfg: cfg, retryBase: 500 * time.Millisecond}
	secret := make([]byte, 24)
	_, _ = rand.Read(secret)
	c.sk = "sk_test_" + base64.RawURLEncoding.EncodeToString(secret)
	_, _ = rand.Read(secret)
	c.whsec = "whsec_" + base64.StdEncoding.EncodeToString(secret)
	c.reset()
	return c
}

// reset puts the instance back to its configuration.
func (c *Clerk) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.srv.now().UnixMilli()
	c.users, c.orgs, c.memberships = map[string]*cUser{}, map[string]*cOrg{}, map[string]map[string]*cMembership{}
	c.sessions, c.conns, c.connectors = map[string]*cSession{}, map[string]*cConn{}, map[string]idp.Connector{}
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
		c.conns[cn.ID] = &cConn{ClerkConnectionConfig: cn, Active: true, Created: now, Updated: now}
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
	c.keys.reset()
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

// FrontendAPIURL is the instance's Frontend API, and its tokens' issuer.
func (c *Clerk) FrontendAPIURL() string { return c.srv.baseURL() + "/" + c.cfg.Name }

// BackendAPIURL is the Backend API base, ending in /v1 as the Clerk SDK's
// own base does.
func (c *Clerk) BackendAPIURL() string { return c.FrontendAPIURL() + "/v1" }

// SignInURL is the hosted sign-in page (?redirect_url=...&email=...).
func (c *Clerk) SignInURL() string { return c.FrontendAPIURL() + "/sign-in" }

// PublishableKey is pk_test_ + base64 of the Frontend API host and path,
// followed by "$", as Clerk encodes it.
func (c *Clerk) PublishableKey() string {
	host := strings.TrimPrefix(strings.TrimPrefix(c.FrontendAPIURL(), "https://"), "http://")
	return "pk_test_" + base64.StdEncoding.EncodeToString([]byte(host+"$"))
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
	_, err := c.keys.rotate()
	return err
}

// InjectFault arms a Clerk fault (clerk_*) for the next times events, or
// until ClearFaults when times is 0.
func (c *Clerk) InjectFault(f Fault, times int) error {
	info, ok := faultCatalog[f]
	if !ok || !strings.HasPrefix(info.Site, "clerk_") {
		return fmt.Errorf("mockidp: %q is not a Clerk fault", f)
	}
	if times < 0 {
		return errors.New("mockidp: times is negative")
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
	return c.faults.take(site)
}

// Wait blocks until webhook deliveries in flight are done (tests).
func (c *Clerk) Wait() { c.wg.Wait() }

// PutConnection adds or replaces an enterprise connection.
func (c *Clerk) PutConnection(cn ClerkConnectionConfig) error {
	if cn.ID == "" || strings.ContainsAny(cn.ID, "/ ") {
		return errors.New("the connection needs an ID without slashes or spaces")
	}
	if cn.Protocol != "saml" && cn.Protocol != "oidc" {
		return fmt.Errorf("protocol %q is not saml or oidc", cn.Protocol)
	}
	if c.srv.Persona(cn.Persona) == nil {
		return fmt.Errorf("no persona %q", cn.Persona)
	}
	if len(cn.Domains) == 0 {
		return errors.New("the connection needs domains")
	}
	now := c.srv.now().UnixMilli()
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.orgLocked(cn.Organization)
	if o == nil {
		return fmt.Errorf("no organization %q", cn.Organization)
	}
	cn.Organization = o.ID
	if cn.Name == "" {
		cn.Name = cn.Persona
	}
	c.conns[cn.ID] = &cConn{ClerkConnectionConfig: cn, Active: true, Created: now, Updated: now}
	delete(c.connectors, cn.ID)
	return nil
}
