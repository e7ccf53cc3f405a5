// Package middleware authenticates HTTP requests for a SaaS control plane
// that signs its customers' people in through Clerk. It is the thin
// composition of the credential packages:
//
//   - clerkauth verifies Clerk session tokens (Bearer, or Clerk's __session
//     cookie beside a __client_uat that says the browser is still signed
//     in since the token was issued);
//   - appsession verifies the app's own session cookie;
//   - apikey checks agent API keys (X-API-Key, or a Bearer ssk_live_ key);
//   - admission applies the organization's rules to each (a removed person,
//     require_sso after a password login, API keys disabled).
//
// The decision is apart from the adapter: Authenticate(r) returns a
// *Principal or a refusal; Handler(next) puts the Principal in the request
// context or answers the refusal per RFC 6750 (401 with a Bearer challenge,
// 403 insufficient_scope, 503 with Retry-After), with a JSON body whose
// error code is stable and whose message is generic. RequireRole and
// RequirePermission gate a subtree by the policy of package rbac.
//
//	v, err := clerkauth.New(clerkauth.Config{PublishableKey: pk, SecretKey: sk})
//	auth, err := middleware.NewAuthenticator(middleware.AuthenticatorConfig{Clerk: v})
//	http.Handle("/api/", auth.Handler(http.HandlerFunc(api)))
//
//	func api(w http.ResponseWriter, r *http.Request) {
//		p, _ := middleware.PrincipalFrom(r.Context())
//		fmt.Fprintln(w, p.ClerkUserID, p.ClerkOrg.ID, p.ClerkOrg.Role)
//	}
//
// Credentials that verified are remembered per kind (bounded, never past
// their expiry); with AuthenticatorConfig.Versions the organization's checks
// run again only when the store says something changed.
package middleware
