package peers_test

import (
	"testing"

	"github.com/ssokit/ssokit/sso"
)

// TestReplaceResolves checks that this module builds against the library in
// the parent directory: go.mod requires the placeholder version
// v0.0.0-00010101000000-000000000000, which exists nowhere else, so this
// file compiles only through the replace directive.
func TestReplaceResolves(t *testing.T) {
	if !sso.Okta.Known() {
		t.Fatal("sso.Okta is not a known vendor")
	}
}
