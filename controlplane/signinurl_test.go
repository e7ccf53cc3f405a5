package controlplane_test

import (
	"strings"
	"testing"

	"github.com/ssokit/ssokit/controlplane"
)

// TestClerkSignInURLChecked: New refuses a Clerk sign-in URL the SSO
// start could not redirect a browser to as it is (another scheme, a
// relative URL, a query or fragment its own query would be appended to,
// user information), and accepts an absolute http(s) one.
func TestClerkSignInURLChecked(t *testing.T) {
	t.Parallel()
	cfg := func(u string) controlplane.Config {
		return controlplane.Config{AppURL: "https://app.example.com", StateKey: make([]byte, 32),
			EphemeralSessionKey: true, ClerkSignInURL: u}
	}
	for _, bad := range []string{"javascript:alert(1)//", "/sign-in", "accounts.example.com/sign-in",
		"ftp://accounts.example.com/sign-in", "https://accounts.example.com/sign-in?x=1", "https://accounts.example.com/sign-in?",
		"https://accounts.example.com/sign-in#top", "https://accounts.example.com/sign-in#", "https://u:p@accounts.example.com/sign-in",
		"https:///sign-in", "https://accounts.example.com/sign in"} {
		if cp, err := controlplane.New(cfg(bad)); err == nil {
			cp.Close()
			t.Errorf("accepted ClerkSignInURL %q", bad)
		} else if !strings.Contains(err.Error(), "ClerkSignInURL") {
			t.Errorf("%q: %v, want an error naming ClerkSignInURL", bad, err)
		}
	}
	for _, good := range []string{"https://accounts.example.com/sign-in", "http://127.0.0.1:4451/clerk/sign-in"} {
		cp, err := controlplane.New(cfg(good))
		if err != nil {
			t.Fatalf("%q: %v", good, err)
		}
		cp.Close()
	}
}
