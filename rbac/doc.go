// Package rbac decides what a role may do: roles ranked viewer < editor <
// admin (and custom ones with their own rank), permissions as
// "resource:action" with wildcards, inheritance, and the rules that turn
// identity-provider groups into a role. It is pure policy and knows nothing
// of HTTP; package middleware adapts it (RequireRole, RequirePermission).
//
//	pol, _ := rbac.NewPolicy(append(rbac.DefaultRoles(),
//		rbac.RoleDef{Name: "billing", Rank: 15, Inherits: []rbac.Role{rbac.Viewer}, Permissions: []rbac.Permission{"billing:*"}})...)
//	pol.Allowed("billing", "billing:write") // true
//	role, err := pol.RoleFromGroups([]rbac.GroupRule{{Group: "admins", Role: rbac.Admin}}, identity.Groups)
//
// It imports nothing of ssokit.
package rbac
