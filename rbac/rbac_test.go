package rbac

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestAllowed(t *testing.T) {
	t.Parallel()
	pol, err := NewPolicy(append(DefaultRoles(),
		RoleDef{Name: "billing", Rank: 15, Inherits: []Role{Viewer}, Permissions: []Permission{"billing:*"}},
		RoleDef{Name: "auditor", Rank: 5, Permissions: []Permission{"audit:read"}})...)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		role Role
		perm Permission
		want bool
	}{
		{Viewer, "projects:read", true},
		{Viewer, "projects:write", false},
		{Editor, "projects:write", true},
		{Editor, "projects:read", true}, // inherited
		{Editor, "sso:configure", false},
		{Admin, "sso:configure", true},
		{Admin, "*", true},
		{Editor, "*", false},
		{"billing", "billing:refund", true},
		{"billing", "projects:read", true},
		{"billing", "projects:write", false},
		{"auditor", "audit:read", true},
		{"auditor", "projects:read", false},
		{"nobody", "projects:read", false},
		{Admin, "malformed", false},
		{Admin, "a:b:c", false},
		{Admin, "", false},
		{Admin, "a:", false},
		{Admin, ":b", false},
		{Admin, ":", false},
		{Admin, "a b:c", false},
		{Admin, "a:b\t", false},
		{Admin, "*:*", true},
		{Editor, "*:write", true},
		{Editor, "x:*", false},
		{Viewer, "*:read", true},
		{"billing", "billing:", false},
	}
	for _, tc := range tests {
		if got := pol.Allowed(tc.role, tc.perm); got != tc.want {
			t.Errorf("Allowed(%s, %s) = %v", tc.role, tc.perm, got)
		}
	}
	if !pol.AtLeast(Admin, Editor) || pol.AtLeast(Viewer, Editor) || pol.AtLeast("nobody", Viewer) || pol.AtLeast(Admin, "nobody") {
		t.Error("AtLeast")
	}
	if got := pol.Roles(); !slices.Equal(got, []Role{"auditor", Viewer, "billing", Editor, Admin}) {
		t.Errorf("Roles() = %v", got)
	}
	if got := pol.Permissions(Editor); !slices.Equal(got, []Permission{"*:read", "*:write"}) {
		t.Errorf("Permissions(editor) = %v", got)
	}
	var zero Policy
	if zero.Allowed(Admin, "x:y") {
		t.Error("the zero policy allowed something")
	}
}

func TestNewPolicyRefusals(t *testing.T) {
	t.Parallel()
	for name, defs := range map[string][]RoleDef{
		"unknown parent": {{Name: "a", Inherits: []Role{"b"}}},
		"cycle":          {{Name: "a", Inherits: []Role{"b"}}, {Name: "b", Inherits: []Role{"a"}}},
		"self":           {{Name: "a", Inherits: []Role{"a"}}},
		"duplicate":      {{Name: "a"}, {Name: "a"}},
		"bad name":       {{Name: "a b"}},
		"bad permission": {{Name: "a", Permissions: []Permission{"read"}}},
		"empty action":   {{Name: "a", Permissions: []Permission{"x:"}}},
	} {
		if _, err := NewPolicy(defs...); err == nil || !strings.HasPrefix(err.Error(), "rbac:") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestRoleFromGroups(t *testing.T) {
	t.Parallel()
	pol := MustDefault()
	rules := []GroupRule{{Group: "engineering", Role: Editor}, {Group: "Admins", Role: Admin}, {Group: "x", Role: "undefined"},
		{Group: "superadmins", Role: Admin}, {Group: "Okta-Admins", Role: Admin}, {Group: "Équipe", Role: Editor},
		{Group: "0A1B2C3D-4E5F-6789-ABCD-EF0123456789", Role: Admin}}
	for _, tc := range []struct {
		groups []string
		want   Role
	}{
		{[]string{"engineering"}, Editor},
		{[]string{"engineering", "admins"}, Admin}, // highest wins, case-insensitive
		{[]string{"admins", "engineering"}, Admin},
		{[]string{"x"}, ""},
		{nil, ""},
		{[]string{"SUPERADMINS"}, Admin},
		{[]string{"0a1b2c3d-4e5f-6789-abcd-ef0123456789"}, Admin}, // an Entra object ID in either case
		// Unicode case folding would match these; ASCII's does not.
		{[]string{"ſuperadmins"}, ""},      // long s
		{[]string{"O\u212ata-Admins"}, ""}, // Kelvin sign
		{[]string{"éQUIPE"}, ""},           // a non-ASCII letter in another case is another name
		{[]string{"ÉQUIPE"}, Editor},
		{[]string{"Équipe"}, Editor},
	} {
		got, err := pol.RoleFromGroups(rules, tc.groups)
		if tc.want == "" {
			if !errors.Is(err, ErrNoMatch) {
				t.Errorf("%v: %q %v, want no match", tc.groups, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%v: %q %v, want %q", tc.groups, got, err, tc.want)
		}
	}
}

// Allowed remembers its answers per role; a remembered answer must be the
// one worked out from the grants, under concurrent callers, and a role
// remembers at most maxAnswers of them.
func TestAllowedRemembersAnswers(t *testing.T) {
	pol, err := NewPolicy(append(DefaultRoles(), RoleDef{Name: "billing", Rank: 1, Permissions: []Permission{"billing:write", "invoices:*"}})...)
	if err != nil {
		t.Fatal(err)
	}
	perms := []Permission{"projects:read", "projects:write", "billing:write", "billing:read", "invoices:void", "*", "bad perm", "a:b:c"}
	for i := range 2 * maxAnswers {
		perms = append(perms, Permission(fmt.Sprintf("r%d:write", i)))
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				for _, r := range pol.Roles() {
					for _, p := range perms {
						if got, want := pol.Allowed(r, p), pol.roles[r].allowed(p); got != want {
							t.Errorf("Allowed(%s, %s) = %v, its grants say %v", r, p, got, want)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, r := range pol.Roles() {
		if n := len(*pol.roles[r].answers.Load()); n != maxAnswers {
			t.Errorf("role %s remembers %d answers, want %d", r, n, maxAnswers)
		}
	}
	for _, c := range []struct {
		r    Role
		p    Permission
		want bool
	}{
		{"viewer", "projects:write", false}, {"editor", "projects:write", true}, {"admin", "*", true},
		{"billing", "billing:write", true}, {"billing", "billing:read", false}, {"billing", "invoices:void", true},
	} {
		for range 2 { // worked out, then remembered
			if got := pol.Allowed(c.r, c.p); got != c.want {
				t.Errorf("Allowed(%s, %s) = %v, want %v", c.r, c.p, got, c.want)
			}
		}
	}
}
