package controlplane

import "github.com/ssokit/ssokit/clerkauth"

// ClerkVerifier is the control plane's Clerk session verifier (for
// ssometrics.Metrics.ObserveVerifier); nil when Clerk is not configured.
func (a *API) ClerkVerifier() *clerkauth.Verifier { return a.clerk }
