package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInsecureCookieOnlyOnLoopback: the session cookie loses Secure by
// itself only for a plain-http app URL on a loopback host.
func TestInsecureCookieOnlyOnLoopback(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "127.8.0.1": true, "::1": true,
		"app.example.com": false, "10.0.0.1": false, "localhost.example.com": false} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestStateKeyFromEnvironment: SSOKIT_STATE_KEY is required and base64;
// SSOKIT_PREVIOUS_STATE_KEYS is an optional comma-separated list of them.
func TestStateKeyFromEnvironment(t *testing.T) {
	t.Setenv("SSOKIT_STATE_KEY", "")
	t.Setenv("SSOKIT_PREVIOUS_STATE_KEYS", "")
	if _, _, err := stateKeys(); err == nil || !strings.Contains(err.Error(), "SSOKIT_STATE_KEY") {
		t.Errorf("unset: %v", err)
	}
	t.Setenv("SSOKIT_STATE_KEY", "not base64!")
	if _, _, err := stateKeys(); err == nil {
		t.Error("accepted a key that is not base64")
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	want, old1, old2 := strings.Repeat("k", 32), strings.Repeat("o", 32), strings.Repeat("p", 32)
	t.Setenv("SSOKIT_STATE_KEY", b64(want)+"\n")
	if got, prev, err := stateKeys(); err != nil || string(got) != want || len(prev) != 0 {
		t.Errorf("got %q %q, %v", got, prev, err)
	}
	t.Setenv("SSOKIT_PREVIOUS_STATE_KEYS", b64(old1)+", "+b64(old2))
	if _, prev, err := stateKeys(); err != nil || len(prev) != 2 || string(prev[0]) != old1 || string(prev[1]) != old2 {
		t.Errorf("previous keys %q, %v", prev, err)
	}
	t.Setenv("SSOKIT_PREVIOUS_STATE_KEYS", b64(old1)+",not base64!")
	if _, _, err := stateKeys(); err == nil || !strings.Contains(err.Error(), "SSOKIT_PREVIOUS_STATE_KEYS") {
		t.Errorf("a previous key that is not base64: %v", err)
	}
}

// TestSessionKeyFileBounded: a session key file past 64 KiB (or /dev/zero
// named by mistake) is refused with an error naming the variable, not
// read into memory whole.
func TestSessionKeyFileBounded(t *testing.T) {
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(p, bytes.Repeat([]byte("a"), 64<<10+1), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSOKIT_SESSION_KEY", "")
	t.Setenv("SSOKIT_SESSION_KEY_FILE", p)
	if _, err := sessionKey(); err == nil || !strings.Contains(err.Error(), "SSOKIT_SESSION_KEY_FILE") || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a huge key file: %v", err)
	}
}

// TestAppURLFromTheListener: without --app-url the app URL is the address
// listened on, with the port picked for :0 (never "…:0"); an address on
// every interface names no URL a browser can follow and is refused.
func TestAppURLFromTheListener(t *testing.T) {
	l, u, err := listen("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if u != "http://"+l.Addr().String() || strings.HasSuffix(u, ":0") {
		t.Errorf("app URL %q for a listener on %s", u, l.Addr())
	}
	l, u, err = listen("127.0.0.1:0", "https://app.example")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if u != "https://app.example" {
		t.Errorf("--app-url replaced: %q", u)
	}
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		l, _, err := listen(addr, "")
		if err == nil {
			l.Close()
			t.Errorf("%s: an app URL on every interface", addr)
		} else if !strings.Contains(err.Error(), "--app-url") {
			t.Errorf("%s: %v", addr, err)
		}
	}
}
