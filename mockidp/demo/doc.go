// Package demo starts what ssokit demo shows: the mock identity platform
// (five vendor personas and a mock Clerk with enterprise connections for two
// organizations: acme.test through Okta SAML, contoso.test through Azure AD
// OIDC) and a control plane (controlplane.New) with the dashboard of
// package dashboard wired to it, seeded with the organizations, their SSO
// settings and a password user.
//
// It is test-harness code: it generates its state key, signs sessions with
// an ephemeral key and sets the session cookie without Secure (plain http
// on loopback). Never use its configuration for real users.
//
// The browser test of the peers module (peers/browser) drives it in a real
// Chromium.
package demo
