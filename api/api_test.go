package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/api"
)

// TestUnsetTimesAreAbsentOrNull: no zero time is ever written as year 1.
func TestUnsetTimesAreAbsentOrNull(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]any{
		"Org":       api.Org{ID: "acme"},
		"User":      api.User{ID: "u"},
		"APIKey":    api.APIKey{ID: "k"},
		"NewAPIKey": api.NewAPIKey{APIKey: api.APIKey{ID: "k"}, Key: "ssk"},
		"SSOStatus": api.SSOStatus{},
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"0001-01-01", "created_at", "updated_at", "require_sso_since", "last_sso_login", "last_login\":\"", "expires_at", "last_used"} {
			if strings.Contains(string(b), f) {
				t.Errorf("%s: %s written while unset: %s", name, f, b)
			}
		}
	}
	b, _ := json.Marshal(api.SSOStatus{})
	if !strings.Contains(string(b), `"last_login":null`) {
		t.Errorf("SSOStatus.last_login unset = %s, want null", b)
	}
}

// TestTimeRoundTrip: a time as the API writes it reads back equal, so a
// record listed later compares equal to the one returned at creation.
func TestTimeRoundTrip(t *testing.T) {
	t.Parallel()
	in := api.Time(time.Date(2026, 12, 1, 3, 4, 5, 987654321, time.FixedZone("X", -7*3600)))
	if in.Location() != time.UTC || in.Nanosecond()%1000 != 0 {
		t.Fatalf("Time = %v, want UTC to the microsecond", in)
	}
	b, _ := json.Marshal(api.User{ID: "u", CreatedAt: in, LastLogin: in})
	var out api.User
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.CreatedAt != in || out.LastLogin != in {
		t.Fatalf("round trip: %v / %v, want %v", out.CreatedAt, out.LastLogin, in)
	}
	if api.TimePtr(time.Time{}) != nil || !api.Time(time.Time{}).IsZero() {
		t.Fatal("the zero time must stay unset")
	}
}
