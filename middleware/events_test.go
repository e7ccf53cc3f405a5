package middleware

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/apikey"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/ssoevent"
	"github.com/ssokit/ssokit/store"
)

// TestDecisionsAreEvents: every authentication decision reaches the hook
// with who, how, the outcome and the refusal's reason; a store outage is
// "unavailable", not a refusal; an authorization refusal is its own kind;
// the logger gets refusals at Info and acceptances only at Debug; no event
// and no log line carries the credential.
func TestDecisionsAreEvents(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testKid, nil)
	mem, _ := store.NewMemory(store.MemoryConfig{Now: f.clk.Now})
	st := &downStore{Memory: mem}
	ctx := context.Background()
	mem.CreateOrg(ctx, store.Org{ID: "acme", Plan: "enterprise", ClerkOrgID: "org_acme", AllowedDomains: []string{"acme.test"}, AutoCreateUsers: true})
	keys, _ := apikey.New(apikey.Config{Store: st, Now: f.clk.Now})
	adm, _ := admission.New(admission.Config{Store: st, Now: f.clk.Now})
	var (
		mu     sync.Mutex
		events []ssoevent.Event
		logs   bytes.Buffer
	)
	hook := func(_ context.Context, e ssoevent.Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := NewAuthenticator(AuthenticatorConfig{Clerk: f.v, APIKeys: keys, Admission: adm, Now: f.clk.Now, OnEvent: hook, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := keys.Create(ctx, "acme", "ci", "viewer", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	expired := mint(t, f.keys[0], hdr(testKid), with(v1Claims(f.clk.Now().Add(-time.Hour)), "sub", "user_ann"))
	h := a.Handler(a.RequireRole(rbac.Role("admin"))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	do := func(set func(*http.Request)) {
		r := httptest.NewRequest("GET", "/api/things", nil)
		set(r)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	last := func() ssoevent.Event {
		mu.Lock()
		defer mu.Unlock()
		if len(events) == 0 {
			t.Fatal("no event")
		}
		return events[len(events)-1]
	}

	do(func(r *http.Request) { r.Header.Set("X-API-Key", plain) })
	// The key is a viewer: authenticated, then refused the admin route.
	mu.Lock()
	got := append([]ssoevent.Event(nil), events...)
	mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("events %+v", got)
	}
	if e := got[0]; e.Kind != ssoevent.Authentication || e.Outcome != ssoevent.Accepted || e.Credential != "api_key" ||
		e.OrgID != "acme" || e.AuthMethod != "api_key" || e.Path != "/api/things" || e.Time.IsZero() {
		t.Errorf("acceptance %+v", e)
	}
	if e := got[1]; e.Kind != ssoevent.Authorization || e.Outcome != ssoevent.Refused || e.Reason == "" || e.OrgID != "acme" {
		t.Errorf("authorization refusal %+v", e)
	}

	do(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+expired) })
	if e := last(); e.Kind != ssoevent.Authentication || e.Outcome != ssoevent.Refused || e.Reason != "expired" || e.Credential != "" {
		t.Errorf("expired token %+v", e)
	}
	do(func(r *http.Request) {})
	if e := last(); e.Outcome != ssoevent.Refused || e.Reason != "no_credentials" {
		t.Errorf("no credentials %+v", e)
	}
	st.down.Store(true)
	do(func(r *http.Request) { r.Header.Set("X-API-Key", plain) })
	st.down.Store(false)
	if e := last(); e.Outcome != ssoevent.Unavailable || e.Reason != "store_unavailable" {
		t.Errorf("store outage %+v", e)
	}

	// The API key was verified once, then found in the cache.
	if cs := a.Stats(); cs.APIKeyMisses != 1 || cs.APIKeyHits < 1 || cs.ClerkHits != 0 {
		t.Errorf("cache stats %+v", cs)
	}

	out := logs.String()
	if strings.Contains(out, "outcome=accepted") {
		t.Errorf("an acceptance was logged at Info:\n%s", out)
	}
	for _, want := range []string{"reason=expired", "kind=authorization", "outcome=unavailable"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	mu.Lock()
	all := fmt.Sprintf("%+v", events)
	mu.Unlock()
	for _, secret := range []string{plain, expired} {
		if strings.Contains(all, secret) || strings.Contains(out, secret) {
			t.Error("a credential reached an event or the log")
		}
	}
}

// TestSilentByDefault: without a logger or hook, no event is built (the
// hot path pays nothing) and nothing is written.
func TestSilentByDefault(t *testing.T) {
	f := newFixture(t, testKid, nil)
	a, err := NewAuthenticator(AuthenticatorConfig{Clerk: f.v, Now: f.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if a.emitting {
		t.Fatal("an authenticator without logger or hook emits events")
	}
	tok := mint(t, f.keys[0], hdr(testKid), with(v1Claims(f.clk.Now()), "sub", "user_ann"))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if _, err := a.Authenticate(r); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(50, func() { a.Authenticate(r) })
	if allocs > 0 {
		t.Errorf("a cached, silent authentication allocates %.0f times", allocs)
	}
}
