package api_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ssokit/ssokit/api"
)

// An API key as the server writes it: times in UTC to the microsecond, and
// the unset expiry and last use absent rather than year 1.
func ExampleAPIKey() {
	created := time.Date(2026, 12, 1, 3, 4, 5, 123456789, time.FixedZone("CET", 3600))
	k := api.APIKey{ID: "key_1", OrgID: "acme", Name: "ci", Role: "editor", Prefix: "ssk_live_AbC1", CreatedAt: api.Time(created)}
	b, _ := json.Marshal(k)
	fmt.Println(string(b))
	// Output:
	// {"id":"key_1","org_id":"acme","name":"ci","role":"editor","prefix":"ssk_live_AbC1","created_at":"2026-12-01T02:04:05.123456Z","revoked":false}
}

// Telling refusals apart by their stable code.
func ExampleError() {
	var e api.Error
	_ = json.Unmarshal([]byte(`{"error":"plan_not_entitled","message":"single sign-on is not part of the organization's plan"}`), &e)
	fmt.Println(e.Code)
	// Output: plan_not_entitled
}

// A whoami for a person signed in through Clerk: user_id is the app's ID,
// the Clerk user has its own field.
func ExampleWhoami() {
	b, _ := json.MarshalIndent(api.Whoami{UserID: "usr_42", ClerkUserID: "user_2abc", Email: "ada@acme.com", OrgID: "acme",
		Role: "admin", AuthMethod: api.AuthMethodSSO, IdPName: "okta"}, "", "  ")
	fmt.Println(string(b))
	// Output:
	// {
	//   "user_id": "usr_42",
	//   "clerk_user_id": "user_2abc",
	//   "email": "ada@acme.com",
	//   "org_id": "acme",
	//   "role": "admin",
	//   "auth_method": "sso",
	//   "idp_name": "okta"
	// }
}
