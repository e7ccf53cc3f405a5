package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/rbac"
)

// Tokens from the mock Clerk through the chi router: a member reads, only
// an admin reaches the editor-only route, no token is a 401.
func TestChiRouter(t *testing.T) {
	mock := mockidp.Start(t, mockidp.DefaultConfig())
	clerk := mock.Clerk("clerk")
	v, err := clerkauth.New(clerkauth.Config{PublishableKey: clerk.PublishableKey(), SecretKey: clerk.SecretKey(),
		APIURL: clerk.BackendAPIURL(), InsecureHTTPLoopback: true, HTTPClient: mock.Client()})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := middleware.NewAuthenticator(middleware.AuthenticatorConfig{Clerk: v,
		ClerkRoles: map[string]rbac.Role{"org:admin": rbac.Admin, "org:member": rbac.Viewer}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newRouter(auth))
	defer srv.Close()
	admin, err := clerk.MintSessionToken("alice@acme.test", "org_acme", "org:admin", "")
	if err != nil {
		t.Fatal(err)
	}
	member, err := clerk.MintSessionToken("bob@acme.test", "org_acme", "org:member", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path, token string
		status              int
	}{
		{"GET", "/api/whoami", member, 200},
		{"POST", "/api/reindex", member, 403},
		{"POST", "/api/reindex", admin, 202},
		{"GET", "/api/whoami", "", 401},
		{"GET", "/healthz", "", 200},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
	}
}
