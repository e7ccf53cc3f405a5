package admission_test

import (
	"context"
	"fmt"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
)

func Example() {
	ctx := context.Background()
	st, _ := store.NewMemory(store.MemoryConfig{})
	_ = st.CreateOrg(ctx, store.Org{ID: "acme", Plan: "enterprise", ClerkOrgID: "org_acme", AllowedDomains: []string{"acme.com"},
		DefaultRole: "viewer", AutoCreateUsers: true, GroupRoles: []store.GroupRule{{Group: "eng", Role: "editor"}}})
	adm, err := admission.New(admission.Config{Store: st})
	if err != nil {
		panic(err)
	}
	p, err := adm.Admit(ctx, admission.Login{ClerkOrgID: "org_acme", Email: "Ada@ACME.com", Groups: []string{"eng"}, IdPName: "okta"})
	fmt.Println(p.OrgID, p.Email, p.Role, err)
	_, err = adm.Admit(ctx, admission.Login{ClerkOrgID: "org_acme", Email: "eve@acme.com.evil.test"})
	fmt.Println(ssoerr.ReasonOf(err))
	// Output:
	// acme ada@acme.com editor <nil>
	// domain_not_allowed
}
