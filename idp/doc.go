// Package idp is the side of ssokit that talks to a customer's identity
// provider: a hardened SAML 2.0 service provider and an OpenID Connect
// relying party, with vendor profiles for Okta, Azure AD (Entra ID), Google
// Workspace, OneLogin and JumpCloud, normalizing every login to one
// Identity.
//
// It is used by ssokit's direct-SSO path and by the mock Clerk, which
// brokers to identity providers as Clerk does. It imports nothing of ssokit
// but, at most, package rbac. The connectors themselves are not written yet;
// this package holds only its documentation so far.
package idp
