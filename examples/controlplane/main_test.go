package main

import (
	"encoding/base64"
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
