package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestDemoCommand(t *testing.T) {
	t.Parallel()
	ready, stop := startCommand(t, "demo", "--app-addr", "127.0.0.1:0", "--mock-addr", "127.0.0.1:0")
	app, _ := ready["app"].(string)
	mock, _ := ready["mock"].(string)
	if ready["ready"] != true || !strings.HasPrefix(app, "http://127.0.0.1:") || !strings.HasPrefix(mock, "http://127.0.0.1:") || len(ready) != 3 {
		t.Fatalf("ready line %v", ready)
	}
	for _, u := range []string{app + "/", mock + "/", app + "/.well-known/jwks.json"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(body) == 0 {
			t.Errorf("GET %s: %d", u, resp.StatusCode)
		}
		if u == app+"/" && !strings.Contains(string(body), "Sign in with SSO") {
			t.Errorf("dashboard lacks the SSO button:\n%s", body)
		}
	}
	rest, stderr, code := stop()
	if code != 0 || rest != "" {
		t.Fatalf("exit %d, more stdout %q", code, rest)
	}
	for _, want := range []string{app, mock, "alice@acme.test", "carol@contoso.test", "dave@acme.test", "domain_not_allowed", "ephemeral key"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
}

func TestDemoCommandBadAddress(t *testing.T) {
	t.Parallel()
	var out, errb strings.Builder
	if code := run(t.Context(), []string{"demo", "--app-addr", "256.0.0.1:1"}, nil, &out, &errb); code != 1 || out.Len() != 0 {
		t.Fatalf("exit %d, stdout %q", code, out.String())
	}
	if !strings.Contains(errb.String(), `address "256.0.0.1:1"`) || !strings.Contains(errb.String(), "loopback only") {
		t.Errorf("stderr %q", errb.String())
	}
	// A loopback address that cannot be listened on says so.
	errb.Reset()
	if code := run(t.Context(), []string{"demo", "--app-addr", "127.0.0.1:99999"}, nil, &out, &errb); code != 1 || out.Len() != 0 {
		t.Fatalf("exit %d, stdout %q", code, out.String())
	}
	if !strings.Contains(errb.String(), "app address") {
		t.Errorf("stderr %q", errb.String())
	}
}
