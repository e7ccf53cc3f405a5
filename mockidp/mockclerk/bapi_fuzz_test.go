package mockclerk_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/mockidp"
)

// FuzzBackendAPI sends arbitrary JSON bodies to the mock Clerk Backend
// API's writing routes (those that fetch no URL), as the instance's secret
// key: nothing panics, nothing is a 5xx, and a refusal carries Clerk's
// error shape ({"errors":[{"code":...}]}), as the Clerk SDK expects.
func FuzzBackendAPI(f *testing.F) {
	cfg := mockidp.DefaultConfig()
	cfg.BaseURL = "http://127.0.0.1:1"
	srv, err := mockidp.New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	sk := srv.Clerk("clerk").SecretKey()
	routes := []struct{ method, path string }{
		{"POST", "/organizations"}, {"PATCH", "/organizations/org_acme"}, {"PATCH", "/organizations/org_acme/metadata"},
		{"POST", "/organizations/org_acme/memberships"}, {"PATCH", "/organizations/org_acme/memberships/user_x"},
		{"PATCH", "/users/user_x/metadata"}, {"POST", "/sessions/sess_x/tokens"}, {"POST", "/sessions/sess_x/revoke"},
	}
	for i, s := range []string{`{"name":"Fuzz","slug":"fuzz"}`, `{"name":"Acme 2","max_allowed_memberships":5}`,
		`{"public_metadata":{"a":1},"private_metadata":null}`, `{"user_id":"user_x","role":"org:admin"}`, `{"role":"org:member"}`,
		`{"public_metadata":{"k":[1,2,{"x":null}]}}`, `{"expires_in_seconds":-1}`, `{}`, `null`, `[]`, `{"name":1}`, "\xff", `{"slug":"` + strings.Repeat("s", 300) + `"}`} {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := routes[int(route)%len(routes)]
		req := httptest.NewRequest(rt.method, "/clerk/bapi/v1"+rt.path, strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+sk)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", rt.method, rt.path, body, w.Code, w.Body)
		}
		if w.Code >= 400 && !strings.Contains(w.Body.String(), `"errors":[{"code":"`) {
			t.Fatalf("%s %s %q: %d without Clerk's error shape: %s", rt.method, rt.path, body, w.Code, w.Body)
		}
	})
}
