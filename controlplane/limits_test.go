package controlplane

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/internal/clerktest"
	"github.com/ssokit/ssokit/internal/limittest"
	"github.com/ssokit/ssokit/internal/testenv"
)

// The tests below send inputs far over each limit and check the stable
// refusal, that it is fast, and that it allocates a few times the limit,
// never the input. They are not parallel: limittest.Allocated reads
// process-wide counters.

func limitsAPI(t *testing.T) (*API, *testenv.LogBuffer, string) {
	t.Helper()
	logs := new(testenv.LogBuffer)
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("limits-secret-limits-secret-32b!"))
	a, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true,
		BootstrapAdminKey: "admin-key-for-limits", WebhookSecret: secret,
		Clerk:  clerkauth.Config{Issuer: "https://clerk.app.test", PublicKeyPEM: clerktest.PEM(t, &clerktest.Keys()[0].PublicKey)},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return a, logs, secret
}

func wantLimit(t *testing.T, what string, rec *httptest.ResponseRecorder, status int, code string, alloc uint64, took time.Duration, bound uint64) {
	t.Helper()
	t.Logf("%s: %d in %s, allocating %d bytes", what, rec.Code, took, alloc)
	if rec.Code != status || !strings.Contains(rec.Body.String(), `"error":"`+code+`"`) {
		t.Errorf("%s: %d %s, want %d %s", what, rec.Code, rec.Body, status, code)
	}
	if bound = limittest.Bound(bound); alloc > bound {
		t.Errorf("%s: the refusal allocated %d bytes (bound %d): the input was read past the limit", what, alloc, bound)
	}
	if took > 5*time.Second {
		t.Errorf("%s: the refusal took %s", what, took)
	}
}

// TestLimitJSONBodies: a JSON body over Config.MaxBodyBytes (default
// DefaultMaxBodyBytes) is 413 too_large, on the API and on the webhook.
func TestLimitJSONBodies(t *testing.T) {
	a, _, secret := limitsAPI(t)
	const huge = 64 << 20
	for _, tc := range []struct{ path, auth string }{
		{"/v1/organizations", "Bearer admin-key-for-limits"},
		{"/webhooks/clerk", ""},
	} {
		rec := httptest.NewRecorder()
		alloc, took := limittest.Allocated(func() {
			r := httptest.NewRequest("POST", tc.path, limittest.Body(`{"id":"acme","name":"`, huge, 'a', `"}`))
			r.Header.Set("Content-Type", "application/json")
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			} else {
				r.Header.Set("svix-id", "msg_1")
				r.Header.Set("svix-timestamp", fmt.Sprint(time.Now().Unix()))
				r.Header.Set("svix-signature", "v1,"+base64.StdEncoding.EncodeToString([]byte(secret[:32])))
			}
			a.ServeHTTP(rec, r)
		})
		wantLimit(t, tc.path, rec, http.StatusRequestEntityTooLarge, codeTooLarge, alloc, took, 4*DefaultMaxBodyBytes)
	}
}

// TestLimitTokens: a credential over its bound — a Clerk session token
// (clerkauth.DefaultMaxTokenBytes), an app session cookie
// (appsession.DefaultMaxTokenBytes), an API key — is 401 invalid_token,
// refused as too large (or malformed) before it is decoded.
func TestLimitTokens(t *testing.T) {
	a, logs, _ := limitsAPI(t)
	const huge = 4 << 20
	seg := strings.Repeat("eyJhbGciOiJSUzI1NiJ9", huge/20/2)
	jwt := seg + "." + seg + ".c2ln"
	for _, tc := range []struct {
		name, header, value, reason string
	}{
		{"Clerk session token", "Authorization", "Bearer " + jwt, "too_large"},
		{"Clerk session cookie", "Cookie", "__session=" + jwt, "too_large"},
		{"app session cookie", "Cookie", appsession.DefaultCookie + "=" + jwt, "too_large"},
		{"API key", "Authorization", "Bearer ssk_live_" + strings.Repeat("A", huge), "malformed"},
	} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/v1/auth/whoami", nil)
		r.Header.Set(tc.header, tc.value)
		before := len(logs.String())
		alloc, took := limittest.Allocated(func() { a.ServeHTTP(rec, r) })
		wantLimit(t, tc.name, rec, http.StatusUnauthorized, "invalid_token", alloc, took, 256<<10)
		if logged := logs.String()[before:]; !strings.Contains(logged, "reason="+tc.reason) {
			t.Errorf("%s: refused for another reason than %s: %s", tc.name, tc.reason, logged)
		}
	}
}

// TestLimitHeaderBytes: a server set up as MaxHeaderBytes recommends
// answers 431 to a request whose headers are over it, before the API runs.
func TestLimitHeaderBytes(t *testing.T) {
	a, _, _ := limitsAPI(t)
	srv := httptest.NewUnstartedServer(a)
	srv.Config.MaxHeaderBytes = MaxHeaderBytes
	srv.Start()
	defer srv.Close()
	for _, n := range []int{32 << 10, 256 << 10} { // under and over 64 KiB
		r, _ := http.NewRequest("GET", srv.URL+"/v1/auth/whoami", nil)
		r.Header.Set("X-Padding", strings.Repeat("p", n))
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusUnauthorized
		if n > 64<<10 {
			want = http.StatusRequestHeaderFieldsTooLarge
		}
		if resp.StatusCode != want {
			t.Errorf("%d bytes of headers: %d, want %d", n, resp.StatusCode, want)
		}
	}
}
