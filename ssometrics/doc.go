// Package ssometrics records ssokit's decisions and counters through
// OpenTelemetry's metric API, so any OpenTelemetry exporter (Prometheus,
// OTLP) can publish them. It imports only OpenTelemetry's API; with its
// exporter package ssometrics/prom, it is the only ssokit package that
// imports OpenTelemetry: the core packages (clerkauth, middleware, idp,
// store, controlplane) keep no metrics dependency and expose plain
// counters and ssoevent hooks that this package reads.
//
// Instruments (names as OpenTelemetry writes them; a Prometheus exporter
// adds _total to counters):
//
//	ssokit.decisions             counter   kind, outcome, reason, credential, auth_method, idp_name
//	ssokit.jwks.fetches          counter   (observed) the Clerk key set fetched
//	ssokit.jwks.fetch_failures   counter   (observed) fetches that failed
//	ssokit.cache.lookups         counter   (observed) cache, result (hit, miss)
//	ssokit.store.duration        histogram store (sql, redis), op, outcome; seconds
//
// Labels come from ssokit's own closed vocabularies; a value outside them
// (an identity provider name a tenant chose, say) is reported as "other".
// No label ever carries an email address, an organization or user ID, or
// a token.
package ssometrics
