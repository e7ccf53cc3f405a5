// Package peers is the home of ssokit's test-only peers: the code that
// measures or checks ssokit against other implementations, kept in a module
// of its own so that the library's go.mod lists only what its packages use.
//
// Its subdirectories hold:
//
//   - bench: benchmarks against rivals on the same work — golang-jwt and
//     clerk-sdk-go for Clerk token verification and its middleware,
//     oauth2-proxy/mockoidc for OIDC code flows, crewjam's IdentityProvider
//     for signed SAML responses and its ServiceProvider for parsing them.
//     scripts/bench.sh runs them in interleaved rounds and prints ratios.
//   - interop: ssokit against independent clients and service providers —
//     russellhaering/gosaml2 (every persona's response accepted, every
//     attack refused), and the Node.js openid-client and jose clients and
//     the svix package (the npm project at the repository's interop/node);
//     and the other way round, ssokit's OIDC relying party signing in
//     through panva's oidc-provider.
//   - browser: the demo driven in a real Chromium through chromedp, with
//     screenshots saved under test-artifacts/.
//
// This module requires github.com/ssokit/ssokit and replaces it with the
// parent directory, so its tests always run against the code beside them.
// scripts/test.sh vets, tidies, staticchecks and tests it like every other
// module of the repository.
package peers
