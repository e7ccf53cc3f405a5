package idp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/sso"
)

// TestUpstreamRefusalsAreGeneric: when the token endpoint or the key set
// a tenant's discovery names cannot be reached, the refusal (whose detail
// an organization's administrators read in the SSO log) says which step
// failed, never the network error: not the address the name resolved to,
// not the guard's verdict on it, not whether the port answered. Those
// stay in the operator's log.
func TestUpstreamRefusalsAreGeneric(t *testing.T) {
	t.Parallel()
	_, sign := newES256(t)
	for _, tc := range []struct {
		name string
		disc map[string]any
		says string
	}{
		{"token endpoint on an internal address", map[string]any{"token_endpoint": "https://token.inside/token"}, "token endpoint"},
		{"token endpoint refuses connections", map[string]any{"token_endpoint": "http://127.0.0.1:1/token"}, "token endpoint"},
		{"key set on an internal address", map[string]any{"jwks_uri": "https://keys.inside/keys"}, "key set"},
		{"key set refuses connections", map[string]any{"jwks_uri": "http://127.0.0.1:1/keys"}, "key set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			op := newFakeOP(t)
			op.disc = tc.disc
			op.token = func(*http.Request) map[string]any {
				return map[string]any{"access_token": "at", "token_type": "Bearer",
					"id_token": sign(`{"alg":"ES256","kid":"k1"}`, `{"iss":"`+op.srv.URL+`","aud":"client-1","sub":"u1","exp":4102444800}`)}
			}
			var logs bytes.Buffer
			c := op.connect(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)),
				HTTPClient: &http.Client{Transport: &http.Transport{DialContext: dialInside}}})
			_, err := op.login(t, c, "code-1")
			if !errors.Is(err, ErrUpstream) || ReasonOf(err) != ReasonUpstream || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("%v, want ErrUpstream (%s) naming the %s", err, ReasonUpstream, tc.says)
			}
			for _, leak := range []string{"10.20.30.40", "10.0.0.0", "inside", "127.0.0.1", "refused", "dial", "not allowed", "safehttp"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("the refusal %q shows %q", err, leak)
				}
			}
			if want := map[bool]string{true: "10.20.30.40", false: "refused"}[strings.Contains(tc.name, "internal")]; !strings.Contains(logs.String(), want) {
				t.Errorf("the operator's log lacks %q: %s", want, logs.String())
			}
		})
	}
}

// TestFetchFailureLogIsBounded: what a tenant's discovery URL answers
// reaches the operator's log bounded, however much of it there is: an
// error page of megabytes, or an issuer of megabytes in a discovery
// document that names another issuer. (Each sign-in start of an
// organization whose connector cannot be built fetches discovery again.)
func TestFetchFailureLogIsBounded(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("A", 1<<20)
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
	}{
		{"error page", func(w http.ResponseWriter, r *http.Request) { http.Error(w, huge, http.StatusNotFound) }},
		{"another issuer", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"issuer":"https://` + huge + `","jwks_uri":"https://idp.test/keys"}`))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tc.h)
			t.Cleanup(srv.Close)
			var logs bytes.Buffer
			_, err := New(context.Background(), Connection{ID: "c", Protocol: sso.OIDC, Vendor: sso.Okta,
				OIDC: &OIDCSettings{Issuer: srv.URL, ClientID: "a", ClientSecret: "b", RedirectURL: "https://app.test/cb"}},
				Options{InsecureAllowLoopback: true, StateKey: make([]byte, 32), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("%v, want ErrConfig", err)
			}
			if !strings.Contains(logs.String(), "AAAA") {
				t.Fatalf("the operator's log lacks what was answered: %s", logs.String())
			}
			if n := logs.Len(); n > 4<<10 {
				t.Fatalf("%d bytes logged for one failed discovery", n)
			}
		})
	}
}
