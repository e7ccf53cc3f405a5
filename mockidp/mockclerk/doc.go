// Package mockclerk is a mock Clerk instance for tests: the Backend API
// that the Clerk SDKs call (users, organizations, memberships, sessions,
// SAML connections, JWKS, handshake payloads) under /{name}/bapi/v1; the
// Frontend API under /{name}/ (and optionally at the root of its own host):
// JWKS, a hosted sign-in that finds the enterprise connection by email
// domain and brokers to an identity provider persona over SAML or OIDC (as
// a real service provider or relying party, through package idp), dev
// browsers, and Clerk's handshake, by which a server-side SDK such as
// @clerk/backend gets a signed-in browser's session (development: the dev
// browser in the query; production: the __client cookie); Clerk-format
// session tokens (v1 or v2 claims, a session token template) and
// svix-signed webhooks.
//
// An instance lives inside a host that serves its routes (Routes) and owns
// the identity provider personas; mockidp.Server is that host, and starts
// every instance of its configuration beside its personas:
//
//	srv := mockidp.Start(t, mockidp.DefaultConfig())
//	clerk := srv.Clerk("clerk") // a *mockclerk.Clerk
//	verifier := ... clerk.PublishableKey(), clerk.SecretKey(), clerk.BackendAPIURL()
//	tok, _ := clerk.SignIn(browser, "alice@acme.test", app.URL+"/auth/sso/callback") // sign-in, then handshake
//
// The package depends on its host only through the Host and IdP
// interfaces, so it never imports mockidp.
package mockclerk
