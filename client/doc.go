// Package client is the Go client of ssokit's control-plane API (package
// controlplane serves it): the calls an operator, a dashboard or an agent
// makes. It speaks only the wire types of package api, so it links no
// server, store or SAML/OIDC code.
//
//	c, err := client.New(client.Config{BaseURL: "https://app.example.com", Token: adminKey})
//	if err != nil { ... }
//	org, err := c.Organizations.ConfigureSSO(ctx, "acme", api.SSOSettings{ClerkOrgID: "org_...", AllowedDomains: []string{"acme.com"}})
//	var e *client.Error
//	if errors.As(err, &e) && e.Code == "plan_not_entitled" { ... }
//	if errors.Is(err, client.ErrNotFound) { ... }
//
// A refusal is an *Error carrying the API's stable code; transport
// failures are returned as the HTTP client reports them.
package client
