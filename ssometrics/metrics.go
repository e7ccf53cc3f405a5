package ssometrics

import (
	"context"
	"errors"
	"time"

	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/sso"
	"github.com/ssokit/ssokit/ssoevent"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope of every ssokit instrument.
const ScopeName = "github.com/ssokit/ssokit"

// Metrics holds ssokit's instruments on one meter.
type Metrics struct {
	meter     metric.Meter
	decisions metric.Int64Counter
}

// New makes the instruments on mp's meter for ScopeName.
func New(mp metric.MeterProvider) (*Metrics, error) {
	if mp == nil {
		return nil, errors.New("ssometrics: a MeterProvider is required")
	}
	m := &Metrics{meter: mp.Meter(ScopeName)}
	var err error
	m.decisions, err = m.meter.Int64Counter("ssokit.decisions",
		metric.WithDescription("Authentication, authorization and sign-in decisions, by outcome and refusal reason."),
		metric.WithUnit("{decision}"))
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Hook counts every event it receives in ssokit.decisions; set it as the
// middleware's AuthenticatorConfig.OnEvent or the control plane's
// Config.OnEvent (chain it with your own hook with Hooks).
func (m *Metrics) Hook() ssoevent.Hook {
	return func(ctx context.Context, e ssoevent.Event) {
		m.decisions.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(
			attribute.String("kind", label(string(e.Kind))),
			attribute.String("outcome", label(string(e.Outcome))),
			attribute.String("reason", label(e.Reason)),
			attribute.String("credential", label(e.Credential)),
			attribute.String("auth_method", label(e.AuthMethod)),
			attribute.String("idp_name", idpLabel(e.IdPName)),
		)))
	}
}

// Hooks calls each non-nil hook in turn.
func Hooks(hooks ...ssoevent.Hook) ssoevent.Hook {
	return func(ctx context.Context, e ssoevent.Event) {
		for _, h := range hooks {
			if h != nil {
				h(ctx, e)
			}
		}
	}
}

// ObserveVerifier publishes v's counters: key set fetches and failures,
// and its token cache's hits and misses (cache="clerk_token").
func (m *Metrics) ObserveVerifier(v *clerkauth.Verifier) error {
	fetches, err := m.meter.Int64ObservableCounter("ssokit.jwks.fetches",
		metric.WithDescription("Fetches of the Clerk key set (JWKS)."), metric.WithUnit("{fetch}"))
	if err != nil {
		return err
	}
	failures, err := m.meter.Int64ObservableCounter("ssokit.jwks.fetch_failures",
		metric.WithDescription("Fetches of the Clerk key set that failed."), metric.WithUnit("{fetch}"))
	if err != nil {
		return err
	}
	lookups, err := m.lookups()
	if err != nil {
		return err
	}
	_, err = m.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := v.Stats()
		o.ObserveInt64(fetches, int64(s.KeySetFetches))
		o.ObserveInt64(failures, int64(s.KeySetFetchFailures))
		observeLookups(o, lookups, "clerk_token", s.TokenCacheHits, s.TokenCacheMisses)
		return nil
	}, fetches, failures, lookups)
	return err
}

// ObserveAuthenticator publishes a's principal caches' hits and misses
// (cache="clerk_session", "app_session", "api_key").
func (m *Metrics) ObserveAuthenticator(a *middleware.Authenticator) error {
	lookups, err := m.lookups()
	if err != nil {
		return err
	}
	_, err = m.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := a.Stats()
		observeLookups(o, lookups, "clerk_session", s.ClerkHits, s.ClerkMisses)
		observeLookups(o, lookups, "app_session", s.AppSessionHits, s.AppSessionMisses)
		observeLookups(o, lookups, "api_key", s.APIKeyHits, s.APIKeyMisses)
		return nil
	}, lookups)
	return err
}

// StoreObserver records each store statement's duration in
// ssokit.store.duration (seconds) by store (sql, redis), op (read, write,
// command) and outcome (ok, error); set it as the control plane's
// Config.StoreObserver.
func (m *Metrics) StoreObserver() (func(store, op string, d time.Duration, err error), error) {
	h, err := m.meter.Float64Histogram("ssokit.store.duration",
		metric.WithDescription("Duration of the store's statements and Redis commands."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
	if err != nil {
		return nil, err
	}
	return func(store, op string, d time.Duration, err error) {
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		h.Record(context.Background(), d.Seconds(), metric.WithAttributeSet(attribute.NewSet(
			attribute.String("store", label(store)), attribute.String("op", label(op)), attribute.String("outcome", outcome))))
	}, nil
}

// ControlPlane is what ObserveControlPlane reads; controlplane.API has it.
type ControlPlane interface {
	Authenticator() *middleware.Authenticator
	// ClerkVerifier is nil when Clerk is not configured.
	ClerkVerifier() *clerkauth.Verifier
}

// ObserveControlPlane publishes a control plane's counters: its
// authenticator's caches and, with Clerk, its verifier's key set and
// token cache. (Its decisions are counted by Hook, set as the control
// plane's Config.OnEvent.)
func (m *Metrics) ObserveControlPlane(cp ControlPlane) error {
	if err := m.ObserveAuthenticator(cp.Authenticator()); err != nil {
		return err
	}
	if v := cp.ClerkVerifier(); v != nil {
		return m.ObserveVerifier(v)
	}
	return nil
}

// lookups is the cache lookup counter (the SDK returns the same
// instrument for the same name).
func (m *Metrics) lookups() (metric.Int64ObservableCounter, error) {
	return m.meter.Int64ObservableCounter("ssokit.cache.lookups",
		metric.WithDescription("Cache lookups by cache and result; hit / (hit + miss) is the hit ratio."),
		metric.WithUnit("{lookup}"))
}

func observeLookups(o metric.Observer, c metric.Int64ObservableCounter, cache string, hits, misses uint64) {
	o.ObserveInt64(c, int64(hits), metric.WithAttributes(attribute.String("cache", cache), attribute.String("result", "hit")))
	o.ObserveInt64(c, int64(misses), metric.WithAttributes(attribute.String("cache", cache), attribute.String("result", "miss")))
}

// label keeps a value from ssokit's vocabularies: lower-case letters,
// digits and underscores, at most 40 bytes, or "" (none). Anything else
// is "other", so no label can carry an address, an ID or a token.
func label(v string) string {
	if len(v) > 40 {
		return "other"
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return "other"
		}
	}
	return v
}

// idpLabel keeps a known vendor's name (and clerk); any other identity
// provider name, which a tenant may choose, is "other".
func idpLabel(v string) string {
	if v == "" || v == "clerk" || sso.Vendor(v).Known() {
		return v
	}
	return "other"
}
