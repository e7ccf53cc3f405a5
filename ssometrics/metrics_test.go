package ssometrics_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/internal/clerktest"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/ssoevent"
	"github.com/ssokit/ssokit/ssometrics"
	"github.com/ssokit/ssokit/ssometrics/prom"
)

// newMetrics is ssokit's instruments on a fresh Prometheus exporter.
func newMetrics(t *testing.T) (*prom.Exporter, *ssometrics.Metrics) {
	t.Helper()
	exp, err := prom.New()
	if err != nil {
		t.Fatal(err)
	}
	m, err := ssometrics.New(exp.Provider)
	if err != nil {
		t.Fatal(err)
	}
	return exp, m
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return string(b)
}

// value finds one sample: name and its labels exactly as Prometheus
// writes them (sorted).
func value(t *testing.T, out, sample string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`)
	m := re.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no sample %s in:\n%s", sample, out)
	}
	return m[1]
}

// TestDecisionsScraped: known decisions through a real Authenticator and
// Verifier show up in a Prometheus scrape as the expected counter values:
// decisions by outcome and reason, key set fetches, cache hits and misses.
func TestDecisionsScraped(t *testing.T) {
	exp, m := newMetrics(t)
	clk := clerktest.NewClock()
	keys := clerktest.Keys()
	jwks := clerktest.NewJWKSServer(t, map[string]*rsa.PublicKey{"kid_a": &keys[0].PublicKey})
	v, err := clerkauth.New(clerkauth.Config{Issuer: clerktest.Issuer, JWKSURL: jwks.URL + "/.well-known/jwks.json",
		InsecureHTTPLoopback: true, AuthorizedParties: []string{clerktest.Azp}, Now: clk.Now, HTTPClient: jwks.Client()})
	if err != nil {
		t.Fatal(err)
	}
	a, err := middleware.NewAuthenticator(middleware.AuthenticatorConfig{Clerk: v, Now: clk.Now, OnEvent: m.Hook()})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ObserveVerifier(v); err != nil {
		t.Fatal(err)
	}
	if err := m.ObserveAuthenticator(a); err != nil {
		t.Fatal(err)
	}
	good := clerktest.Mint(t, keys[0], clerktest.Header("kid_a"), clerktest.With(clerktest.V1Claims(clk.Now()), "sub", "user_1", "email", "pat@acme.test"))
	expired := clerktest.Mint(t, keys[0], clerktest.Header("kid_a"), clerktest.V1Claims(clk.Now().Add(-time.Hour)))
	for _, tok := range []string{good, good, good, expired, "garbage"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		_, _ = a.Authenticate(r)
	}
	out := scrape(t, exp.Handler)
	accepted := `ssokit_decisions_total{auth_method="",credential="clerk_session",idp_name="",kind="authentication",outcome="accepted",reason=""}`
	if got := value(t, out, accepted); got != "3" {
		t.Errorf("accepted = %s, want 3", got)
	}
	if got := value(t, out, `ssokit_decisions_total{auth_method="",credential="",idp_name="",kind="authentication",outcome="refused",reason="expired"}`); got != "1" {
		t.Errorf("expired = %s, want 1", got)
	}
	if got := value(t, out, `ssokit_decisions_total{auth_method="",credential="",idp_name="",kind="authentication",outcome="refused",reason="malformed"}`); got != "1" {
		t.Errorf("malformed = %s, want 1", got)
	}
	if got := value(t, out, `ssokit_jwks_fetches_total`); got != "1" {
		t.Errorf("jwks fetches = %s, want 1", got)
	}
	if got := value(t, out, `ssokit_jwks_fetch_failures_total`); got != "0" {
		t.Errorf("jwks failures = %s, want 0", got)
	}
	// The principal cache: the first good token missed, the next two hit.
	if got := value(t, out, `ssokit_cache_lookups_total{cache="clerk_session",result="hit"}`); got != "2" {
		t.Errorf("session cache hits = %s, want 2", got)
	}
	if got := value(t, out, `ssokit_cache_lookups_total{cache="clerk_session",result="miss"}`); got != "3" {
		t.Errorf("session cache misses = %s, want 3 (the first good token, expired, garbage)", got)
	}
	if strings.Contains(out, "pat@acme.test") || strings.Contains(out, "user_1") {
		t.Error("a person reached the metrics")
	}
}

// TestLabelsCarryNoPerson: whatever an event carries (an email, IDs, a
// tenant-chosen IdP name, a reason that is not one of ssokit's), the
// labels hold only ssokit's vocabulary or "other".
func TestLabelsCarryNoPerson(t *testing.T) {
	exp, m := newMetrics(t)
	hostile := []string{"pat@acme.test", "org_2abcDEF", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig", "Acme Corp", `a"b\c`}
	for _, h := range hostile {
		m.Hook()(context.Background(), ssoevent.Event{Kind: ssoevent.SignIn, Outcome: ssoevent.Refused, Reason: h,
			Credential: h, AuthMethod: h, IdPName: h, Email: h, UserID: h, OrgID: h, Check: h, Path: "/" + h})
	}
	m.Hook()(context.Background(), ssoevent.Event{Kind: ssoevent.SignIn, Outcome: ssoevent.Accepted, IdPName: "okta", AuthMethod: "sso"})
	out := scrape(t, exp.Handler)
	for _, h := range hostile {
		if strings.Contains(out, h) {
			t.Errorf("%q reached the metrics:\n%s", h, out)
		}
	}
	if got := value(t, out, `ssokit_decisions_total{auth_method="other",credential="other",idp_name="other",kind="sign_in",outcome="refused",reason="other"}`); got != "5" {
		t.Errorf("hostile events = %s, want 5", got)
	}
	if got := value(t, out, `ssokit_decisions_total{auth_method="sso",credential="",idp_name="okta",kind="sign_in",outcome="accepted",reason=""}`); got != "1" {
		t.Errorf("okta sign-in = %s, want 1", got)
	}
}

// TestStoreDurations: the store observer's durations are a histogram by
// store, op and outcome.
func TestStoreDurations(t *testing.T) {
	exp, m := newMetrics(t)
	observe, err := m.StoreObserver()
	if err != nil {
		t.Fatal(err)
	}
	observe("sql", "read", 2*time.Millisecond, nil)
	observe("sql", "read", 3*time.Millisecond, nil)
	observe("redis", "command", time.Millisecond, errors.New("connection refused"))
	out := scrape(t, exp.Handler)
	if got := value(t, out, `ssokit_store_duration_seconds_count{op="read",outcome="ok",store="sql"}`); got != "2" {
		t.Errorf("sql reads = %s, want 2", got)
	}
	if got := value(t, out, `ssokit_store_duration_seconds_count{op="command",outcome="error",store="redis"}`); got != "1" {
		t.Errorf("redis errors = %s, want 1", got)
	}
	if strings.Contains(out, "connection refused") {
		t.Error("an error's text reached the metrics")
	}
}
