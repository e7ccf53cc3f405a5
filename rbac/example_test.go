package rbac_test

import (
	"fmt"

	"github.com/ssokit/ssokit/rbac"
)

func Example() {
	pol, err := rbac.NewPolicy(append(rbac.DefaultRoles(),
		rbac.RoleDef{Name: "billing", Rank: 15, Inherits: []rbac.Role{rbac.Viewer}, Permissions: []rbac.Permission{"billing:*"}})...)
	if err != nil {
		panic(err)
	}
	fmt.Println(pol.Allowed(rbac.Viewer, "projects:write"), pol.Allowed(rbac.Editor, "projects:write"), pol.Allowed("billing", "billing:refund"))
	role, _ := pol.RoleFromGroups([]rbac.GroupRule{{Group: "engineering", Role: rbac.Editor}, {Group: "admins", Role: rbac.Admin}},
		[]string{"engineering", "admins"})
	fmt.Println(role)
	// Output:
	// false true true
	// admin
}
