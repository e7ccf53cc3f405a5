package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/client"
)

// Configuring an organization's SSO as an operator, and telling the
// API's refusals apart by code.
func Example() {
	c, err := client.New(client.Config{BaseURL: "https://app.example.com", Token: os.Getenv("SSOKIT_BOOTSTRAP_ADMIN_KEY")})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = c.Organizations.ConfigureSSO(context.Background(), "acme", api.SSOSettings{
		ClerkOrgID: "org_2abc", AllowedDomains: []string{"acme.com"}, DefaultRole: "viewer", AutoCreateUsers: true,
		GroupRoles: []api.GroupRule{{Group: "admins", Role: "admin"}},
	})
	var e *client.Error
	switch {
	case errors.As(err, &e) && e.Code == "plan_not_entitled":
		fmt.Println("upgrade the plan first")
	case errors.Is(err, client.ErrNotFound):
		fmt.Println("no such organization")
	case err != nil:
		fmt.Println("failed:", err)
	}
}

// New refuses a configuration it cannot use.
func ExampleNew() {
	_, err := client.New(client.Config{BaseURL: "app.example.com"})
	fmt.Println(err)
	// Output: client: Config.BaseURL must be an absolute http(s) URL
}
