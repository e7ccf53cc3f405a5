// Package oidc checks ssokit's OpenID Connect relying party (package idp)
// against oauth2-proxy/mockoidc, an OpenID provider written independently
// of ssokit's mock, on loopback: a sign-in through discovery, the
// authorization endpoint (PKCE S256 and a nonce), the token endpoint, the
// ID token and userinfo, read to the exact Identity; and the refusals,
// each by its reason: a wrong client secret, a replayed or swapped code, a
// callback without this browser's state, an unverified email, tokens
// whose issuer or times are not the connection's.
//
// mockoidc takes client credentials only in the form body
// (client_secret_post) although its discovery document lists
// client_secret_basic, which RFC 6749 section 2.3.1 requires a server to
// support: a connection to it sets TokenEndpointAuthMethod to
// client_secret_post, and the tests show the basic method refused.
package oidc
