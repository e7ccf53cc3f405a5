// Package middleware authenticates HTTP requests for a SaaS control plane
// that signs its customers' people in through Clerk.
//
// Today it verifies Clerk session tokens, more strictly and faster than
// clerk-sdk-go's own middleware: exp is required, the issuer must be exactly
// the instance's (derived from the publishable key or given), azp is
// required when authorized parties are configured, a pending session is
// refused, and the key cache is per verifier with a TTL that hits never
// extend, one single-flight refresh per interval on unknown kids, and known
// keys kept while JWKS is down. Verified tokens are cached until their exp,
// so a token seen again costs a map lookup and no allocation.
//
// The decision is apart from the adapter:
//
//	v, err := middleware.NewClerkVerifier(middleware.ClerkConfig{
//		PublishableKey:    os.Getenv("CLERK_PUBLISHABLE_KEY"),
//		SecretKey:         os.Getenv("CLERK_SECRET_KEY"), // JWKS through the Backend API
//		AuthorizedParties: []string{"https://app.example.com"},
//	})
//	auth, err := middleware.NewAuthenticator(middleware.AuthenticatorConfig{Clerk: v})
//	http.Handle("/api/", auth.Handler(api)) // 401/403/503 per RFC 6750 otherwise
//
//	func api(w http.ResponseWriter, r *http.Request) {
//		p, _ := middleware.PrincipalFrom(r.Context())
//		fmt.Fprintln(w, p.UserID, p.ClerkOrg.ID, p.ClerkOrg.Role)
//	}
//
// Refusals wrap one of a few sentinels (ErrNoCredentials, ErrInvalidToken,
// ErrExpired, ErrForbidden, ErrUpstream) and carry a Reason naming the
// failed check; the client sees only a stable code, the detail goes to the
// configured *slog.Logger.
package middleware
