package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Memory is the in-process Store. It deep-copies what it hands out, so
// callers cannot change it behind its lock. The zero value is not usable;
// use NewMemory.
type Memory struct {
	version atomic.Uint64
	mu      sync.RWMutex
	orgs    map[string]Org
	users   map[string]User
	byEmail map[string]string // org \x00 canonical email -> user ID
	keys    map[string]APIKey // by ID
	byHash  map[string]string
	revoked map[string]time.Time
	ssolog  map[string][]SSOEvent // org ID -> events, oldest first
	now     func() time.Time
	exp     expiringMemory
}

// MemoryConfig configures a Memory store.
type MemoryConfig struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewMemory returns an empty store. It cannot fail today; the error keeps
// the one shape every ssokit constructor has.
func NewMemory(cfg MemoryConfig) (*Memory, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Memory{orgs: map[string]Org{}, users: map[string]User{}, byEmail: map[string]string{},
		keys: map[string]APIKey{}, byHash: map[string]string{}, revoked: map[string]time.Time{}, now: now}, nil
}

// stamp is the store's clock reading at the precision every store keeps
// (microseconds, UTC), so a time reads back exactly as it was written.
func (m *Memory) stamp() time.Time { return Stamp(m.now()) }

func cloneOrg(o Org) Org {
	o.AllowedDomains = slices.Clone(o.AllowedDomains)
	o.GroupRoles = slices.Clone(o.GroupRoles)
	o.Connection = slices.Clone(o.Connection)
	if o.ClerkRoleMap != nil {
		m := make(map[string]string, len(o.ClerkRoleMap))
		for k, v := range o.ClerkRoleMap {
			m[k] = v
		}
		o.ClerkRoleMap = m
	}
	return o
}

// emailKey is the uniqueness key of a person: the organization and the
// canonical email, byte for byte.
func emailKey(org, email string) string { return org + "\x00" + email }

// CreateOrg implements Orgs.
func (m *Memory) CreateOrg(_ context.Context, o Org) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.version.Add(1)
	if _, ok := m.orgs[o.ID]; ok {
		return fmt.Errorf("%w: organization %s", ErrExists, o.ID)
	}
	if o.ClerkOrgID != "" {
		for _, x := range m.orgs {
			if x.ClerkOrgID == o.ClerkOrgID {
				return fmt.Errorf("%w: Clerk organization %s is mapped to %s", ErrExists, o.ClerkOrgID, x.ID)
			}
		}
	}
	now := m.stamp()
	o.Created, o.Updated = now, now
	m.orgs[o.ID] = cloneOrg(o)
	return nil
}

// GetOrg implements Orgs.
func (m *Memory) GetOrg(_ context.Context, id string) (Org, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	o, ok := m.orgs[id]
	if !ok {
		return Org{}, fmt.Errorf("%w: organization %s", ErrNotFound, id)
	}
	return cloneOrg(o), nil
}

// OrgByClerkID implements Orgs.
func (m *Memory) OrgByClerkID(_ context.Context, clerkOrgID string) (Org, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if clerkOrgID != "" {
		for _, o := range m.orgs {
			if o.ClerkOrgID == clerkOrgID {
				return cloneOrg(o), nil
			}
		}
	}
	return Org{}, fmt.Errorf("%w: no organization maps Clerk organization %q", ErrNotFound, clerkOrgID)
}

// UpdateOrg implements Orgs.
func (m *Memory) UpdateOrg(_ context.Context, id string, fn func(*Org) error) (Org, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.version.Add(1)
	o, ok := m.orgs[id]
	if !ok {
		return Org{}, fmt.Errorf("%w: organization %s", ErrNotFound, id)
	}
	o = cloneOrg(o)
	if err := fn(&o); err != nil {
		return Org{}, err
	}
	o.ID = id
	o.LastSSOLogin, o.RequireSSOSince = Stamp(o.LastSSOLogin), Stamp(o.RequireSSOSince)
	if o.ClerkOrgID != "" {
		for _, x := range m.orgs {
			if x.ID != id && x.ClerkOrgID == o.ClerkOrgID {
				return Org{}, fmt.Errorf("%w: Clerk organization %s is mapped to %s", ErrExists, o.ClerkOrgID, x.ID)
			}
		}
	}
	o.Updated = m.stamp()
	m.orgs[id] = cloneOrg(o)
	return o, nil
}

// ListOrgs implements Orgs.
func (m *Memory) ListOrgs(context.Context) ([]Org, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Org, 0, len(m.orgs))
	for _, o := range m.orgs {
		out = append(out, cloneOrg(o))
	}
	slices.SortFunc(out, func(a, b Org) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// GetUser implements Users.
func (m *Memory) GetUser(_ context.Context, id string) (User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	u, ok := m.users[id]
	if !ok {
		return User{}, fmt.Errorf("%w: user %s", ErrNotFound, id)
	}
	return u, nil
}

// UserByEmail implements Users.
func (m *Memory) UserByEmail(_ context.Context, orgID, email string) (User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.byEmail[emailKey(orgID, email)]
	if !ok {
		return User{}, fmt.Errorf("%w: user %s in %s", ErrNotFound, email, orgID)
	}
	return m.users[id], nil
}

// CreateUserIfAbsent implements Users.
func (m *Memory) CreateUserIfAbsent(_ context.Context, u User) (User, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.orgs[u.OrgID]; !ok {
		return User{}, false, fmt.Errorf("%w: organization %s", ErrNotFound, u.OrgID)
	}
	k := emailKey(u.OrgID, u.Email)
	if id, ok := m.byEmail[k]; ok {
		return m.users[id], false, nil
	}
	if _, ok := m.users[u.ID]; ok {
		return User{}, false, fmt.Errorf("%w: user %s", ErrExists, u.ID)
	}
	u.Created = m.stamp()
	m.users[u.ID] = u
	m.byEmail[k] = u.ID
	return u, true, nil
}

// UpdateUser implements Users.
func (m *Memory) UpdateUser(_ context.Context, id string, fn func(*User) error) (User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.version.Add(1)
	u, ok := m.users[id]
	if !ok {
		return User{}, fmt.Errorf("%w: user %s", ErrNotFound, id)
	}
	if err := fn(&u); err != nil {
		return User{}, err
	}
	old := m.users[id]
	u.ID, u.OrgID, u.Email = id, old.OrgID, old.Email
	u.LastLogin, u.ValidAfter = Stamp(u.LastLogin), Stamp(u.ValidAfter)
	m.users[id] = u
	return u, nil
}

// ChangeRole implements Users.
func (m *Memory) ChangeRole(_ context.Context, id, role string, revokeBefore time.Time) (User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.version.Add(1)
	u, ok := m.users[id]
	if !ok {
		return User{}, fmt.Errorf("%w: user %s", ErrNotFound, id)
	}
	u.Role = role
	if t := Stamp(revokeBefore); t.After(u.ValidAfter) {
		u.ValidAfter = t
	}
	m.users[id] = u
	return u, nil
}

// DeleteUser implements Users.
func (m *Memory) DeleteUser(_ context.Context, id string, allow func(User) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return fmt.Errorf("%w: user %s", ErrNotFound, id)
	}
	if allow != nil {
		if err := allow(u); err != nil {
			return err
		}
	}
	defer m.version.Add(1)
	delete(m.users, id)
	delete(m.byEmail, emailKey(u.OrgID, u.Email))
	return nil
}

// ListUsers implements Users.
func (m *Memory) ListUsers(_ context.Context, orgID string) ([]User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []User
	for _, u := range m.users {
		if u.OrgID == orgID {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Email, b.Email) })
	return out, nil
}

// CreateAPIKey implements APIKeys.
func (m *Memory) CreateAPIKey(_ context.Context, k APIKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[k.ID]; ok {
		return fmt.Errorf("%w: API key %s", ErrExists, k.ID)
	}
	if _, ok := m.byHash[k.Hash]; ok || k.Hash == "" {
		return fmt.Errorf("%w: API key hash", ErrExists)
	}
	if k.Created.IsZero() {
		k.Created = m.stamp()
	} else {
		k.Created = Stamp(k.Created)
	}
	m.keys[k.ID] = k
	m.byHash[k.Hash] = k.ID
	return nil
}

// APIKeyByHash implements APIKeys.
func (m *Memory) APIKeyByHash(_ context.Context, hash string) (APIKey, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.byHash[hash]
	if !ok {
		return APIKey{}, fmt.Errorf("%w: API key", ErrNotFound)
	}
	return m.keys[id], nil
}

// ListAPIKeys implements APIKeys.
func (m *Memory) ListAPIKeys(_ context.Context, orgID string) ([]APIKey, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []APIKey
	for _, k := range m.keys {
		if k.OrgID == orgID {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b APIKey) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// RevokeAPIKey implements APIKeys.
func (m *Memory) RevokeAPIKey(_ context.Context, orgID, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.version.Add(1)
	k, ok := m.keys[id]
	if !ok || k.OrgID != orgID {
		return fmt.Errorf("%w: API key %s", ErrNotFound, id)
	}
	k.Revoked = true
	m.keys[id] = k
	return nil
}

// TouchAPIKeys implements APIKeys.
func (m *Memory) TouchAPIKeys(_ context.Context, used map[string]time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, t := range used {
		if k, ok := m.keys[id]; ok && Stamp(t).After(k.LastUsed) {
			k.LastUsed = Stamp(t)
			m.keys[id] = k
		}
	}
	return nil
}

// RevokeToken implements Revocations.
func (m *Memory) RevokeToken(_ context.Context, jti string, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.version.Add(1)
	now := m.now()
	if len(m.revoked) > 10000 {
		for k, t := range m.revoked {
			if !now.Before(t) {
				delete(m.revoked, k)
			}
		}
	}
	if t, ok := m.revoked[jti]; !ok || until.After(t) {
		m.revoked[jti] = until // a second revocation never shortens the first
	}
	return nil
}

// IsRevoked implements Revocations.
func (m *Memory) IsRevoked(_ context.Context, jti string) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, ok := m.revoked[jti]
	return ok && m.now().Before(t), nil
}

// Version implements Versioned.
func (m *Memory) Version() uint64 { return m.version.Load() }

var (
	_ Store     = (*Memory)(nil)
	_ Versioned = (*Memory)(nil)
)
