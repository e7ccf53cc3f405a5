package controlplane_test

import (
	"strings"
	"testing"

	"github.com/ssokit/ssokit/controlplane"
)

// TestBootstrapAdminKeyChecked: New refuses a platform-admin key that is
// short enough to guess or holds a space or control character (which no
// Authorization header can carry at its ends), without echoing it, and
// accepts a random one.
func TestBootstrapAdminKeyChecked(t *testing.T) {
	t.Parallel()
	cfg := func(k string) controlplane.Config {
		return controlplane.Config{AppURL: "https://app.example.com", StateKey: make([]byte, 32),
			EphemeralSessionKey: true, BootstrapAdminKey: k}
	}
	for _, bad := range []string{"short", "fifteen-chars-x", " leading-space-admin-key", "trailing-space-admin-key ",
		"inner space admin key 0123", "tab\tadmin-key-0123456789", "newline-admin-key-0123456789\n", "ünïcode-admin-key-0123"} {
		cp, err := controlplane.New(cfg(bad))
		if err == nil {
			cp.Close()
			t.Errorf("accepted BootstrapAdminKey %q", bad)
			continue
		}
		if !strings.Contains(err.Error(), "BootstrapAdminKey") || strings.Contains(err.Error(), strings.TrimSpace(bad)) {
			t.Errorf("%q: %v, want an error naming BootstrapAdminKey and not the key", bad, err)
		}
	}
	for _, good := range []string{"", "sixteen-chars-ok", "1c2bdd794b6c9f9b64aa1c2bdd794b6c9f9b64aa1c2bdd794b6c9f9b64aa1c2b"} {
		cp, err := controlplane.New(cfg(good))
		if err != nil {
			t.Fatalf("%q: %v", good, err)
		}
		cp.Close()
	}
}
