// Package clerkauth verifies Clerk session tokens and looks up Clerk users,
// more strictly than clerk-sdk-go's own verification: exp is required and
// nbf and iat checked with a small leeway; the issuer must be exactly the
// instance's (derived from the publishable key, or given); azp is required
// and matched exactly when authorized parties are configured; a pending
// session is refused, and so is a token whose cat header names a JWT
// template or a machine token (signed with the same key, but not a
// session). Keys come from the instance's JWKS through a cache
// that is per verifier, honours its TTL (hits never extend it), refreshes
// on an unknown kid at most once per interval with one fetch for all
// waiters, and keeps serving known keys while JWKS is down; or from the
// instance's PEM public key with no network at all.
//
// Verified tokens are cached until their exp, so a token seen again costs a
// map lookup and no allocation. Users looks up the email of a session
// whose token carries none: the user's primary address, only once Clerk
// has verified it.
//
//	v, err := clerkauth.New(clerkauth.Config{
//		PublishableKey:    os.Getenv("CLERK_PUBLISHABLE_KEY"),
//		SecretKey:         os.Getenv("CLERK_SECRET_KEY"), // JWKS through the Backend API
//		AuthorizedParties: []string{"https://app.example.com"},
//	})
//	s, err := v.Verify(ctx, token) // *Session, or an *ssoerr.Error
//
// Every refusal is an *ssoerr.Error wrapping ssoerr.ErrInvalidToken,
// ErrExpired or ErrUpstream, with the Reason of the failed check. The
// package links no SAML or OIDC code: a program that only verifies Clerk
// tokens stays small.
package clerkauth
