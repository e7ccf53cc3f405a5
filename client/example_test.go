package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/ssokit/ssokit/client"
	"github.com/ssokit/ssokit/store"
)

// Configuring an organization's SSO as an operator, and telling the
// API's refusals apart by code.
func Example() {
	c := client.New("https://app.example.com", client.BearerToken(os.Getenv("SSOKIT_BOOTSTRAP_ADMIN_KEY")), nil)
	_, err := c.Organizations.ConfigureSSO(context.Background(), "acme", client.SSOSettings{
		ClerkOrgID: "org_2abc", AllowedDomains: []string{"acme.com"}, DefaultRole: "viewer", AutoCreateUsers: true,
		GroupRoles: []store.GroupRule{{Group: "admins", Role: "admin"}},
	})
	var e *client.Error
	switch {
	case errors.As(err, &e) && e.Code == "plan_not_entitled":
		fmt.Println("upgrade the plan first")
	case err != nil:
		fmt.Println("failed:", err)
	}
}
