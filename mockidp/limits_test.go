package mockidp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/limittest"
)

// TestLimitBodies sends 64 MiB bodies to every kind of endpoint of the
// mock that reads one — the admin API's JSON, the mock Clerk Backend
// API's JSON, the token endpoint's form, the SAML SSO POST binding — and
// checks each refusal: the protocol's error, fast, having read about
// maxBody, never the input. Not parallel: limittest.Allocated reads
// process-wide counters.
func TestLimitBodies(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BaseURL = "http://127.0.0.1:1"
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const huge = 64 << 20
	tests := []struct {
		name, method, path, contentType, auth, prefix string
		status                                        int
		body                                          string // in the answer
	}{
		{"admin API", "PUT", "/admin/v1/personas/okta/users/x@acme.test", "application/json", "", `{"email":"`,
			http.StatusRequestEntityTooLarge, `"error":"too_large"`},
		{"mock Clerk Backend API", "POST", "/clerk/bapi/v1/organizations", "application/json", "Bearer " + srv.Clerk("clerk").SecretKey(), `{"name":"`,
			http.StatusRequestEntityTooLarge, `"code":"request_body_too_large"`},
		{"token endpoint", "POST", "/okta/oauth2/default/v1/token", "application/x-www-form-urlencoded", "", "grant_type=authorization_code&code=",
			http.StatusRequestEntityTooLarge, `"error":"invalid_request"`},
		{"SAML SSO POST", "POST", "/okta/saml/sso", "application/x-www-form-urlencoded", "", "RelayState=x&SAMLRequest=",
			http.StatusBadRequest, ""},
	}
	for _, tc := range tests {
		// Once small first: keys made on first use are not the body's.
		warm := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.prefix))
		warm.RemoteAddr, warm.Host = "127.0.0.1:1234", "127.0.0.1:1"
		warm.Header.Set("Content-Type", tc.contentType)
		srv.Handler().ServeHTTP(httptest.NewRecorder(), warm)
		rec := httptest.NewRecorder()
		alloc, took := limittest.Allocated(func() {
			r := httptest.NewRequest(tc.method, tc.path, limittest.Body(tc.prefix, huge, 'A', ""))
			r.RemoteAddr, r.Host = "127.0.0.1:1234", "127.0.0.1:1" // the admin API answers loopback callers, by its own name
			r.Header.Set("Content-Type", tc.contentType)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			srv.Handler().ServeHTTP(rec, r)
		})
		t.Logf("%s: %d in %s, allocating %d bytes", tc.name, rec.Code, took, alloc)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("%s: %d %.300s, want %d with %s", tc.name, rec.Code, rec.Body, tc.status, tc.body)
		}
		if bound := limittest.Bound(16 * maxBody); alloc > bound {
			t.Errorf("%s: the refusal allocated %d bytes (bound %d): the body was read past the limit", tc.name, alloc, bound)
		}
		if took > 5*time.Second {
			t.Errorf("%s: the refusal took %s", tc.name, took)
		}
	}
}
