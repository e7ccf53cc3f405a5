// Package node drives ssokit's mock identity platform with independent
// Node.js clients: openid-client v6 and jose complete and verify code flows
// against every persona, the svix package verifies the mock Clerk's
// webhook deliveries, @clerk/backend resolves a session through the mock
// Clerk's handshake, samlify (with @authenio/samlify-node-xmllint) is a
// schema-validating SAML service provider against every persona and
// attack, and @node-saml/node-saml (passport-saml's engine) a strictly
// configured one against the same. The other way round, samlify is the
// SAML identity provider of an ssokit connection (package idp), whose
// responses ssokit accepts or refuses for the right reason, and panva's
// oidc-provider (OpenID Certified) is the OpenID provider that ssokit's
// relying party (generic vendor) signs in through, and refuses what it
// must: a wrong client secret, a replayed code, another browser's state,
// HS256 and EdDSA ID tokens, an unverified email, a refused consent. The
// npm project, with its lockfile, is interop/node at the repository root
// (`npm ci --prefix interop/node`). Without Node.js or those packages the
// tests skip, naming what to install; with CI set they fail instead.
package node
