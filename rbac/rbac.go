package rbac

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Role names a role: viewer, editor, admin, or a custom one.
type Role string

// Permission is "resource:action"; "*" stands for any resource or action
// ("sso:*", "*:read", "*").
type Permission string

// The built-in roles, lowest first.
const (
	Viewer Role = "viewer"
	Editor Role = "editor"
	Admin  Role = "admin"
)

// RoleDef defines a role: its rank (higher outranks lower), the roles it
// inherits the permissions of, and its own permissions.
type RoleDef struct {
	Name        Role         `json:"name"`
	Rank        int          `json:"rank"`
	Inherits    []Role       `json:"inherits,omitempty"`
	Permissions []Permission `json:"permissions"`
}

// Policy is a set of roles. Build it with NewPolicy; it is immutable and
// safe for concurrent use. The zero value has no roles and allows nothing.
type Policy struct {
	roles map[Role]*compiled
}

type compiled struct {
	def    RoleDef
	perms  []Permission // own and inherited
	grants []grant      // perms, split once
	// answers remembers Allowed's answers for this role (never nil),
	// copied on each write so that reads take no lock; at most maxAnswers
	// of them, so a caller that checks permissions it builds from input
	// cannot grow it without bound.
	answers atomic.Pointer[map[Permission]bool]
	mu      sync.Mutex // serializes writers of answers
}

// maxAnswers bounds each role's remembered answers.
const maxAnswers = 256

// grant is a permission split into its resource and action; all is "*".
type grant struct {
	res, act string
	all      bool
}

// DefaultRoles are viewer < editor < admin: viewers read, editors also
// write, admins may do anything in their organization.
func DefaultRoles() []RoleDef {
	return []RoleDef{
		{Name: Viewer, Rank: 10, Permissions: []Permission{"*:read"}},
		{Name: Editor, Rank: 20, Inherits: []Role{Viewer}, Permissions: []Permission{"*:write"}},
		{Name: Admin, Rank: 30, Inherits: []Role{Editor}, Permissions: []Permission{"*"}},
	}
}

// NewPolicy compiles role definitions (typically DefaultRoles plus custom
// ones), refusing unknown inherited roles, cycles, duplicate names and
// malformed permissions.
func NewPolicy(defs ...RoleDef) (*Policy, error) {
	byName := map[Role]RoleDef{}
	for _, d := range defs {
		if d.Name == "" || strings.ContainsAny(string(d.Name), " \t:") {
			return nil, fmt.Errorf("rbac: role name %q is empty or has spaces or colons", d.Name)
		}
		if _, dup := byName[d.Name]; dup {
			return nil, fmt.Errorf("rbac: role %q is defined twice", d.Name)
		}
		for _, p := range d.Permissions {
			if err := p.validate(); err != nil {
				return nil, fmt.Errorf("rbac: role %q: %w", d.Name, err)
			}
		}
		byName[d.Name] = d
	}
	pol := &Policy{roles: map[Role]*compiled{}}
	var visit func(r Role, path []Role) ([]Permission, error)
	visit = func(r Role, path []Role) ([]Permission, error) {
		if slices.Contains(path, r) {
			return nil, fmt.Errorf("rbac: roles inherit in a cycle: %v", append(path, r))
		}
		d, ok := byName[r]
		if !ok {
			return nil, fmt.Errorf("rbac: role %q inherits unknown role %q", path[len(path)-1], r)
		}
		perms := slices.Clone(d.Permissions)
		for _, in := range d.Inherits {
			p, err := visit(in, append(path, r))
			if err != nil {
				return nil, err
			}
			perms = append(perms, p...)
		}
		return perms, nil
	}
	for name, d := range byName {
		perms, err := visit(name, nil)
		if err != nil {
			return nil, err
		}
		slices.Sort(perms)
		c := &compiled{def: d, perms: slices.Compact(perms)}
		c.answers.Store(&map[Permission]bool{})
		for _, p := range c.perms {
			res, act, _ := split(p)
			c.grants = append(c.grants, grant{res: res, act: act, all: p == "*"})
		}
		pol.roles[name] = c
	}
	return pol, nil
}

// MustDefault is the policy of DefaultRoles.
func MustDefault() *Policy {
	p, err := NewPolicy(DefaultRoles()...)
	if err != nil {
		panic(err)
	}
	return p
}

func (p Permission) validate() error {
	if p == "*" {
		return nil
	}
	if _, _, ok := split(p); !ok {
		return fmt.Errorf("permission %q is not resource:action", p)
	}
	return nil
}

// split reads resource:action in one pass: exactly one colon, both sides
// non-empty, no space or tab.
func split(p Permission) (res, act string, ok bool) {
	colon := -1
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case ':':
			if colon >= 0 {
				return "", "", false
			}
			colon = i
		case ' ', '\t':
			return "", "", false
		}
	}
	if colon <= 0 || colon == len(p)-1 {
		return "", "", false
	}
	return string(p[:colon]), string(p[colon+1:]), true
}

// Has reports whether the policy defines role r.
func (pol *Policy) Has(r Role) bool {
	_, ok := pol.roles[r]
	return ok
}

// Rank returns r's rank and whether r is defined.
func (pol *Policy) Rank(r Role) (int, bool) {
	c, ok := pol.roles[r]
	if !ok {
		return 0, false
	}
	return c.def.Rank, true
}

// AtLeast reports whether r ranks at least as high as min; an unknown role
// ranks below everything.
func (pol *Policy) AtLeast(r, min Role) bool {
	a, ok1 := pol.Rank(r)
	b, ok2 := pol.Rank(min)
	return ok1 && ok2 && a >= b
}

// Allowed reports whether role r grants permission p. An unknown role, or
// a malformed permission, is allowed nothing.
func (pol *Policy) Allowed(r Role, p Permission) bool {
	c, ok := pol.roles[r]
	if !ok {
		return false
	}
	if v, ok := (*c.answers.Load())[p]; ok {
		return v
	}
	v := c.allowed(p)
	c.remember(p, v)
	return v
}

// remember adds p's answer to c's, unless they are at their bound; once
// they are, it returns without taking the lock.
func (c *compiled) remember(p Permission, v bool) {
	if len(*c.answers.Load()) >= maxAnswers {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.answers.Load()
	if len(old) >= maxAnswers {
		return
	}
	m := maps.Clone(old)
	m[p] = v
	c.answers.Store(&m)
}

// allowed is Allowed's answer for c, worked out from its grants.
func (c *compiled) allowed(p Permission) bool {
	res, act, valid := split(p)
	if !valid {
		return p == "*" && slices.Contains(c.perms, "*")
	}
	for _, g := range c.grants {
		if g.all || (g.res == "*" || g.res == res) && (g.act == "*" || g.act == act) {
			return true
		}
	}
	return false
}

// Permissions lists what r grants (own and inherited), sorted.
func (pol *Policy) Permissions(r Role) []Permission {
	if c, ok := pol.roles[r]; ok {
		return slices.Clone(c.perms)
	}
	return nil
}

// Roles lists the defined roles by rank, lowest first.
func (pol *Policy) Roles() []Role {
	out := make([]Role, 0, len(pol.roles))
	for r := range pol.roles {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := pol.roles[out[i]].def.Rank, pol.roles[out[j]].def.Rank
		return a < b || a == b && out[i] < out[j]
	})
	return out
}

// GroupRule gives Role to people in Group (an IdP group name or ID),
// matched ignoring ASCII letter case only: a GUID's hex digits in either
// case, but not Unicode's case folding, under which a group named with the
// long s (ſ) or the Kelvin sign (K) would match a rule for "s" or "k".
type GroupRule struct {
	Group string `json:"group"`
	Role  Role   `json:"role"`
}

// ErrNoMatch is returned by RoleFromGroups when no rule matches.
var ErrNoMatch = errors.New("rbac: no group rule matches")

// RoleFromGroups returns the highest-ranked role among the rules matching
// any of groups. Rules naming an undefined role are ignored.
func (pol *Policy) RoleFromGroups(rules []GroupRule, groups []string) (Role, error) {
	best, bestRank, found := Role(""), 0, false
	for _, rule := range rules {
		rank, ok := pol.Rank(rule.Role)
		if !ok {
			continue
		}
		if !slices.ContainsFunc(groups, func(g string) bool { return asciiEqualFold(g, rule.Group) }) {
			continue
		}
		if !found || rank > bestRank {
			best, bestRank, found = rule.Role, rank, true
		}
	}
	if !found {
		return "", ErrNoMatch
	}
	return best, nil
}

// asciiEqualFold reports whether a and b are equal once ASCII letters are
// lower-cased; every other byte must be equal as it is.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
