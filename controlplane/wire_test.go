package controlplane

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/sso"
	"github.com/ssokit/ssokit/store"
)

// TestWireTimes: an unset store time is absent on the wire (never year 1),
// and a set one round-trips through JSON exactly, so a record read later
// equals the one returned at creation.
func TestWireTimes(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]any{
		"org":  orgOut(store.Org{ID: "acme"}),
		"user": userOut(store.User{ID: "u"}),
		"key":  keyOut(store.APIKey{ID: "k"}),
		"new":  newKeyOut("ssk_x", store.APIKey{ID: "k"}),
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, unset := range []string{"0001-01-01", "require_sso_since", "last_sso_login", "last_login", "expires_at", "last_used"} {
			if strings.Contains(string(b), unset) {
				t.Errorf("%s: %q on the wire while unset: %s", name, unset, b)
			}
		}
	}

	// Nanoseconds, a zone and a monotonic reading: what time.Now gives a store.
	set := time.Now().In(time.FixedZone("UTC+5:30", 5*3600+1800)).Add(987 * time.Nanosecond)
	created := keyOut(store.APIKey{ID: "k", Created: set, Expires: set.Add(time.Hour), LastUsed: set})
	b, _ := json.Marshal(created)
	var back api.APIKey
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != created {
		t.Fatalf("round trip changed the key:\n got %+v\nwant %+v", back, created)
	}
	listed := keysOut([]store.APIKey{{ID: "k", Created: set, Expires: set.Add(time.Hour), LastUsed: set}})[0]
	if listed != back || !back.CreatedAt.Equal(set.Truncate(time.Microsecond)) {
		t.Fatalf("listed %+v, created %+v", listed, back)
	}
}

// TestIdentityOut: a normalized sign-in on the wire keeps what an
// administrator checks and drops the raw attributes and SAML session
// details.
func TestIdentityOut(t *testing.T) {
	t.Parallel()
	id := idp.Identity{Subject: "00u1", Email: "ada@acme.test", EmailVerified: true, Groups: []string{"admins"}, IdP: sso.Okta,
		Protocol: sso.SAML, ConnectionID: "acme", NameID: "secret-nameid", SessionIndex: "idx", Raw: map[string]any{"x": 1}}
	b, err := json.Marshal(identityOut(id))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"subject":"00u1","email":"ada@acme.test","email_verified":true,"groups":["admins"],"idp":"okta","protocol":"saml","connection_id":"acme"}`
	if string(b) != want {
		t.Fatalf("identity on the wire\n got %s\nwant %s", b, want)
	}
}
