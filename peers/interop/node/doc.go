// Package node drives ssokit's mock identity platform with independent
// Node.js clients: openid-client v6 and jose complete and verify code flows
// against every persona, the svix package verifies the mock Clerk's
// webhook deliveries, @clerk/backend resolves a session through the mock
// Clerk's handshake, and samlify (with @authenio/samlify-node-xmllint)
// is a schema-validating SAML service provider against every persona and
// attack. The other way round, panva's oidc-provider (OpenID Certified)
// is the OpenID provider that ssokit's relying party (package idp, generic
// vendor) signs in through, and refuses what it must: a wrong client
// secret, a replayed code, another browser's state, HS256 and EdDSA ID
// tokens, an unverified email, a refused consent. The npm project, with
// its lockfile, is interop/node at the repository root
// (`npm ci --prefix interop/node`). Without Node.js or those packages the
// tests skip, naming what to install; with CI set they fail instead.
package node
