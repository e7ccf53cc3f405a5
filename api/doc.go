// Package api holds the request and response JSON types of ssokit's
// control-plane HTTP API (package controlplane serves it, package client
// calls it). It imports only the standard library, so a program that
// speaks the API links no server, store or SAML/OIDC code.
//
// Conventions every type keeps:
//
//   - Field names are snake_case; the struct tags are the wire format.
//   - Times are RFC 3339 in UTC with up to six fractional digits: the
//     server truncates every time it returns to the microsecond (the
//     precision PostgreSQL keeps), so a time read back later is exactly the
//     time returned when the record was created.
//   - A time that is not set is absent (fields tagged omitzero) or null
//     (pointer fields), never "0001-01-01T00:00:00Z".
//   - A refusal is an Error with a stable code in its "error" member.
//
// Routes and their bodies:
//
//	POST   /v1/auth/login                          LoginRequest        -> Whoami (and the session cookie)
//	POST   /v1/auth/session                        (Clerk Bearer)      -> Whoami (and the session cookie)
//	POST   /v1/auth/logout                                             -> 204
//	GET    /v1/auth/whoami                                             -> Whoami
//	POST   /v1/organizations                       CreateOrgRequest    -> 201 Org
//	PATCH  /v1/organizations/{org}                 UpdateOrgRequest    -> Org
//	PUT    /v1/organizations/{org}/sso             SSOSettings         -> Org
//	GET    /v1/organizations/{org}/sso/status                          -> SSOStatus
//	GET    /v1/organizations/{org}/sso/events[?limit=N]                -> SSOEvents
//	GET    /v1/organizations/{org}/sso/saml                            -> SAMLServiceProvider
//	POST   /v1/organizations/{org}/sso/test        SSOTestRequest      -> SSOTestReport (server-side check)
//	GET    /v1/organizations/{org}/sso/test/start  (a browser)         -> a sign-in, then SSOTestReport with Identity
//	GET    /v1/organizations/{org}/users                               -> []User
//	PATCH  /v1/organizations/{org}/users/{id}      UpdateUserRequest   -> User
//	DELETE /v1/organizations/{org}/users/{id}                          -> 204
//	POST   /v1/organizations/{org}/api-keys        CreateAPIKeyRequest -> 201 NewAPIKey
//	GET    /v1/organizations/{org}/api-keys                            -> []APIKey
//	DELETE /v1/organizations/{org}/api-keys/{id}                       -> 204
//	POST   /webhooks/clerk                         (a Clerk event)     -> 204, or 200 WebhookAck for a duplicate
//
// Any of them may answer an Error instead.
package api
