package controlplane

import (
	"time"

	"github.com/ssokit/ssokit/clerkauth"
)

// ClerkVerifier is the control plane's Clerk session verifier (for
// ssometrics.Metrics.ObserveVerifier); nil when Clerk is not configured.
func (a *API) ClerkVerifier() *clerkauth.Verifier { return a.clerk }

// observer is Config.StoreObserver for one store, nil when unset (so the
// store times nothing).
func observer(f func(store, op string, d time.Duration, err error), name string) func(op string, d time.Duration, err error) {
	if f == nil {
		return nil
	}
	return func(op string, d time.Duration, err error) { f(name, op, d, err) }
}
