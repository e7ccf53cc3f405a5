// Package ssoevent is the record of ssokit's decisions: every request
// authenticated or refused by the middleware, every authorization refused,
// and every sign-in the control plane accepts or refuses is an Event, with
// who (user, organization), how (credential, auth_method, idp_name), the
// outcome and, for a refusal, its stable reason and the check that failed.
//
// Events never carry a token, a cookie, an assertion or a secret. An
// application receives them through a Hook it sets (metrics, an audit
// trail, the control plane's per-organization SSO log) and, through Log,
// as slog records: refusals and unavailability at Info, acceptances at
// Debug. The library is silent unless a logger or hook is configured.
//
// The package imports only the standard library, so every ssokit package
// can emit events and any metrics or logging backend can read them.
package ssoevent
