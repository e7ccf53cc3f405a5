package mockidp_test

import (
	"testing"

	"github.com/ssokit/ssokit/mockidp"
)

// TestMockInATest is the README's picture of the mock in a Go test.
func TestMockInATest(t *testing.T) {
	srv := mockidp.Start(t, mockidp.DefaultConfig()) // like httptest; StartTLS for https
	okta := srv.Persona("okta")                      // okta, azure, google, onelogin, jumpcloud
	// discovery at okta.Issuer(); AuthCodeURL(..., oauth2.SetAuthURLParam("login_hint", "alice@acme.test"))
	// redirects straight back with a code, no page. okta.QueueUser(email) does the same for the next request.
	if err := okta.PutUser(mockidp.UserConfig{Email: "dave@acme.test", Groups: []string{"admins"}}); err != nil {
		t.Fatal(err)
	}
	if err := okta.InjectFault(mockidp.FaultWrongAudience, 1); err != nil { // next ID token only; 0 = until ClearFaults
		t.Fatal(err)
	}
}
