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

// TestStateKeyFromEnvironment: SSOKIT_STATE_KEY is required and base64.
func TestStateKeyFromEnvironment(t *testing.T) {
	t.Setenv("SSOKIT_STATE_KEY", "")
	if _, err := stateKey(); err == nil || !strings.Contains(err.Error(), "SSOKIT_STATE_KEY") {
		t.Errorf("unset: %v", err)
	}
	t.Setenv("SSOKIT_STATE_KEY", "not base64!")
	if _, err := stateKey(); err == nil {
		t.Error("accepted a key that is not base64")
	}
	want := strings.Repeat("k", 32)
	t.Setenv("SSOKIT_STATE_KEY", base64.StdEncoding.EncodeToString([]byte(want))+"\n")
	if got, err := stateKey(); err != nil || string(got) != want {
		t.Errorf("got %q, %v", got, err)
	}
}
