// Package bench measures ssokit beside its peers on the same inputs, one
// benchmark per comparison so scripts/bench.sh can run both sides back to
// back in every round: Clerk token verification against golang-jwt and
// clerk-sdk-go, the HTTP middleware against clerk-sdk-go's, HTTP throughput
// of a trivial handler bare and behind each middleware (a loopback server
// and 50 keep-alive clients in the same process), headless OIDC
// code flows against the mock personas beside oauth2-proxy/mockoidc, and
// signed SAML responses beside crewjam's IdentityProvider.
package bench
