// Package demo starts what ssokit demo shows: the mock identity platform
// (five vendor personas and a mock Clerk with enterprise connections for two
// organizations: acme.test through Okta SAML, contoso.test through Azure AD
// OIDC) and the example control plane of package app wired to it, seeded
// with the organizations, their SSO settings and a password user.
//
// The browser test in this package drives it in a real Chromium.
package demo
