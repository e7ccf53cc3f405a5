package controlplane_test

import (
	"strings"
	"testing"

	"github.com/ssokit/ssokit/controlplane"
)

// TestAppURLChecked: New refuses an app URL with user information (which
// would reach logs and every callback URL handed to Clerk and identity
// providers), a query or a fragment (which the callback paths appended to
// it would land in), without echoing it.
func TestAppURLChecked(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"https://admin:hunter2@app.example.com", "https://app.example.com/?x=1",
		"https://app.example.com/?", "https://app.example.com/#top", "https://app.example.com#", "/app", "ftp://app.example.com"} {
		cp, err := controlplane.New(controlplane.Config{AppURL: bad, StateKey: make([]byte, 32), EphemeralSessionKey: true})
		if err == nil {
			cp.Close()
			t.Errorf("accepted AppURL %q", bad)
			continue
		}
		if !strings.Contains(err.Error(), "AppURL") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	for _, good := range []string{"https://app.example.com", "https://app.example.com/base/", "http://127.0.0.1:4450"} {
		cp, err := controlplane.New(controlplane.Config{AppURL: good, StateKey: make([]byte, 32), EphemeralSessionKey: true})
		if err != nil {
			t.Fatalf("%q: %v", good, err)
		}
		cp.Close()
	}
}
