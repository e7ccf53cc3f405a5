package mockidp

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ssokit/ssokit/mockidp/internal/jwtkeys"
	"github.com/ssokit/ssokit/sso"
)

// Persona is one mock identity provider of a Server. Its methods are the Go
// form of the admin API; all are safe for concurrent use.
type Persona struct {
	srv    *Server
	cfg    PersonaConfig // as configured, for Reset
	prof   *profile
	tenant string
	sets   []endpointSet
	keys   jwtkeys.Ring
	saml   *samlIdP

	mu      sync.Mutex
	users   map[string]UserConfig // by lower-case email
	order   []string              // emails in insertion order, for listings
	clients map[string]ClientConfig
	offset  time.Duration
	faults  faultSet
	queue   []string
	codes   map[string]*grant
	access  map[string]*grant
	refresh map[string]*grant
}

// grant is what an authorization code, access token or refresh token
// stands for.
type grant struct {
	client      string
	redirectURI string
	email       string
	scopes      []string
	nonce       string
	challenge   string
	method      string
	offline     bool
	set         *endpointSet
	authTime    time.Time
	expires     time.Time
	// app marks an app-only access token (Azure's client credentials
	// grant): no user, email empty; roles are its application
	// permissions.
	app   bool
	roles []string
	// origin is the authorization code grant the tokens came from
	// (itself on a code), redeemed once it was.
	origin   *grant
	redeemed bool
}

func (g *grant) hasScope(s string) bool { return slices.Contains(g.scopes, s) }

// Bounds on live grants per persona; beyond them expired grants are swept
// and then the oldest-looking ones dropped.
const (
	maxGrants  = 100_000
	codeTTL    = time.Minute
	accessTTL  = time.Hour
	refreshTTL = 24 * time.Hour
	maxQueue   = 1000
)

func newPersona(s *Server, cfg PersonaConfig) *Persona {
	p := &Persona{srv: s, cfg: cfg, prof: profiles[cfg.Vendor], tenant: cfg.Tenant}
	if p.tenant == "" {
		p.tenant = guid(p.hash("tenant", ""))
	}
	p.sets = p.prof.sets(p)
	p.resetState()
	p.saml = newSAMLIdP(p)
	return p
}

// resetState puts users, clients, clock, faults and grants back to the
// configuration. Callers hold no lock or p.mu.
func (p *Persona) resetState() {
	p.users = map[string]UserConfig{}
	p.order = nil
	for _, u := range p.cfg.Users {
		p.putUserLocked(u)
	}
	p.clients = map[string]ClientConfig{}
	for _, c := range p.cfg.Clients {
		p.clients[c.ClientID] = c
	}
	p.offset = 0
	p.faults = faultSet{}
	p.queue = nil
	p.codes = map[string]*grant{}
	p.access = map[string]*grant{}
	p.refresh = map[string]*grant{}
}

func (p *Persona) reset() {
	p.mu.Lock()
	p.resetState()
	p.mu.Unlock()
	p.keys.Reset()
	p.saml.reset()
}

// Name is the persona's name and path prefix.
func (p *Persona) Name() string { return p.cfg.Name }

// Vendor is the product the persona behaves like.
func (p *Persona) Vendor() sso.Vendor { return p.cfg.Vendor }

// Tenant is the Azure AD tenant ID (empty meaning for other vendors).
func (p *Persona) Tenant() string { return p.tenant }

func (p *Persona) base() string { return p.srv.baseURL() + "/" + p.cfg.Name }

// GraphURL is the root of the persona's Microsoft Graph imitation (Azure
// AD group overage), for idp.GraphGroupResolver's BaseURL.
func (p *Persona) GraphURL() string { return p.base() + "/graph" }

// Issuer is the persona's primary OIDC issuer (Okta's /oauth2/default,
// Azure's tenant issuer, ...).
func (p *Persona) Issuer() string { return p.base() + p.sets[0].issuer }

// DiscoveryURL is the primary issuer's discovery document.
func (p *Persona) DiscoveryURL() string { return p.base() + p.sets[0].discovery }

// OtherIssuers are the persona's further issuers as their discovery
// documents name them: Okta's org server, Azure's common and organizations
// endpoints (whose discovery says the literal {tenantid}).
func (p *Persona) OtherIssuers() []string {
	var out []string
	for _, es := range p.sets[1:] {
		iss := es.issuer
		if es.discoveryIssuer != "" {
			iss = es.discoveryIssuer
		}
		out = append(out, p.base()+iss)
	}
	return out
}

// OtherDiscoveryURLs are the discovery documents of OtherIssuers, in order.
func (p *Persona) OtherDiscoveryURLs() []string {
	var out []string
	for _, es := range p.sets[1:] {
		out = append(out, p.base()+es.discovery)
	}
	return out
}

func (p *Persona) now() time.Time {
	p.mu.Lock()
	off := p.offset
	p.mu.Unlock()
	return p.srv.now().Add(off)
}

// SetClockOffset shifts the persona's clock (token times, code expiry).
func (p *Persona) SetClockOffset(d time.Duration) {
	p.mu.Lock()
	p.offset = d
	p.mu.Unlock()
}

// PutUser adds or replaces a user.
func (p *Persona) PutUser(u UserConfig) error {
	if err := u.validate(); err != nil {
		return fmt.Errorf("mockidp: %w", err)
	}
	p.mu.Lock()
	p.putUserLocked(u)
	p.mu.Unlock()
	return nil
}

func (p *Persona) putUserLocked(u UserConfig) {
	k := strings.ToLower(u.Email)
	if _, ok := p.users[k]; !ok {
		p.order = append(p.order, k)
	}
	u.Groups = slices.Clone(u.Groups)
	u.Roles = slices.Clone(u.Roles)
	p.users[k] = u
}

// DeleteUser removes a user; it reports whether there was one.
func (p *Persona) DeleteUser(email string) bool {
	k := strings.ToLower(email)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.users[k]; !ok {
		return false
	}
	delete(p.users, k)
	p.order = slices.DeleteFunc(p.order, func(e string) bool { return e == k })
	return true
}

// User returns the user with that email (case-insensitive).
func (p *Persona) User(email string) (UserConfig, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u, ok := p.users[strings.ToLower(email)]
	return u, ok
}

// Users lists the persona's users in the order they were added.
func (p *Persona) Users() []UserConfig {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]UserConfig, 0, len(p.order))
	for _, k := range p.order {
		out = append(out, p.users[k])
	}
	return out
}

// UserID is the vendor-shaped ID the persona gives the user (Okta 00u...,
// Azure object ID, Google numeric subject, ...).
func (p *Persona) UserID(email string) (string, bool) {
	u, ok := p.User(email)
	if !ok {
		return "", false
	}
	return p.userID(&u), true
}

// GroupIDs maps group names to the object IDs an Azure AD persona sends.
func (p *Persona) GroupIDs(names ...string) []string { return p.groupIDs(names) }

// PutClient registers or replaces a client.
func (p *Persona) PutClient(c ClientConfig) error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("mockidp: %w", err)
	}
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	p.mu.Lock()
	p.clients[c.ClientID] = c
	p.mu.Unlock()
	return nil
}

// DeleteClient removes a client; it reports whether there was one.
func (p *Persona) DeleteClient(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.clients[id]
	delete(p.clients, id)
	return ok
}

// Clients lists the registered clients, sorted by ID.
func (p *Persona) Clients() []ClientConfig {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]ClientConfig, 0, len(p.clients))
	for _, c := range p.clients {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b ClientConfig) int { return strings.Compare(a.ClientID, b.ClientID) })
	return out
}

func (p *Persona) client(id string) (ClientConfig, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.clients[id]
	return c, ok
}

// authMethod is the client's registered token endpoint auth method.
func (p *Persona) authMethod(c ClientConfig) string {
	if c.TokenEndpointAuthMethod != "" {
		return c.TokenEndpointAuthMethod
	}
	return p.prof.defaultAuth
}

// RotateKeys makes a new signing key active; earlier keys stay published.
func (p *Persona) RotateKeys() error {
	_, err := p.keys.Rotate()
	return err
}

// InjectFault arms f for the next times matching events, or until
// ClearFaults when times is 0.
func (p *Persona) InjectFault(f Fault, times int) error {
	if _, ok := faultCatalog[f]; !ok {
		return fmt.Errorf("mockidp: unknown fault %q", f)
	}
	if times < 0 {
		return fmt.Errorf("mockidp: times %d is negative", times)
	}
	n := times
	if n == 0 {
		n = -1
	}
	p.mu.Lock()
	p.faults[f] = n
	p.mu.Unlock()
	return nil
}

// ClearFaults disarms every fault.
func (p *Persona) ClearFaults() {
	p.mu.Lock()
	p.faults = faultSet{}
	p.mu.Unlock()
}

func (p *Persona) takeFaults(site faultSite) []Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.faults) == 0 {
		return nil
	}
	return p.faults.Take(string(site), siteOf)
}

// QueueUser makes the next authorization request sign in as email without
// a login page, whatever its login_hint.
func (p *Persona) QueueUser(email string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.users[strings.ToLower(email)]; !ok {
		return fmt.Errorf("mockidp: persona %s has no user %q", p.cfg.Name, email)
	}
	if len(p.queue) >= maxQueue {
		return fmt.Errorf("mockidp: persona %s: queue is full", p.cfg.Name)
	}
	p.queue = append(p.queue, email)
	return nil
}

func (p *Persona) popQueue() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 {
		return "", false
	}
	e := p.queue[0]
	p.queue = p.queue[1:]
	return e, true
}

// store files g under a fresh random handle in m, bounding m.
func (p *Persona) store(m map[string]*grant, g *grant, now time.Time) string {
	h := randomToken(32)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(m) >= maxGrants {
		for k, v := range m {
			if now.After(v.expires) {
				delete(m, k)
			}
		}
		for k := range m {
			if len(m) < maxGrants*7/8 {
				break
			}
			delete(m, k)
		}
	}
	m[h] = g
	return h
}

// take removes and returns the grant for h; one use only.
func (p *Persona) take(m map[string]*grant, h string) (*grant, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := m[h]
	delete(m, h)
	return g, ok
}

// redeem returns the code grant for h the first time; a second use
// revokes the access and refresh tokens issued for it (RFC 6749
// section 4.1.2).
func (p *Persona) redeem(h string) (*grant, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.codes[h]
	if !ok {
		return nil, false
	}
	if !g.redeemed {
		g.redeemed = true
		return g, true
	}
	delete(p.codes, h)
	for _, m := range []map[string]*grant{p.access, p.refresh} {
		for k, t := range m {
			if t.origin == g {
				delete(m, k)
			}
		}
	}
	return nil, false
}

func (p *Persona) lookup(m map[string]*grant, h string) (*grant, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := m[h]
	return g, ok
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
