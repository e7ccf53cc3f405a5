package controlplane

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ssokit/ssokit/store"
)

// FuzzAPIBodies posts arbitrary bodies to every route that reads JSON, as
// the platform administrator: a body the route cannot use is a 4xx with a
// stable code, never a 500 or a panic.
func FuzzAPIBodies(f *testing.F) {
	a, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true,
		BootstrapAdminKey: "admin-key-for-fuzzing"})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	if err := a.Store().CreateOrg(ctx, store.Org{ID: "acme", Plan: "enterprise"}); err != nil {
		f.Fatal(err)
	}
	if _, _, err := a.Store().CreateUserIfAbsent(ctx, store.User{ID: "u1", OrgID: "acme", Email: "a@acme.test", Role: "viewer"}); err != nil {
		f.Fatal(err)
	}
	routes := []struct{ method, path string }{
		{"POST", "/v1/organizations"}, {"PATCH", "/v1/organizations/acme"}, {"PUT", "/v1/organizations/acme/sso"},
		{"POST", "/v1/organizations/acme/api-keys"}, {"PATCH", "/v1/organizations/acme/users/u1"},
		{"POST", "/v1/organizations/acme/sso/test"}, {"POST", "/v1/auth/login"},
	}
	for i, s := range []string{`{"id":"x","name":"X","plan":"growth"}`, `{"plan":"enterprise","require_sso":true}`,
		`{"allowed_domains":["acme.test"],"clerk_org_id":"org_1"}`, `{"name":"k","role":"editor","expires_at":"2099-01-01T00:00:00Z"}`,
		`{"role":"admin"}`, `{}`, `{"org":"acme","email":"a@acme.test","password":"x"}`, `{"a":1}{`, "\xff"} {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := routes[int(route)%len(routes)]
		req := httptest.NewRequest(r.method, r.path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer admin-key-for-fuzzing")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable && rec.Code != http.StatusBadGateway {
			t.Fatalf("%s %s %q: %d %s", r.method, r.path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && !bytes.Contains(rec.Body.Bytes(), []byte(`"error":`)) {
			t.Fatalf("%s %s %q: %d without a JSON error code: %s", r.method, r.path, body, rec.Code, rec.Body)
		}
	})
}
