package mockclerk_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/mockidp"
)

// TestClerkTemplateCannotOverrideDefaultClaims: Clerk's default session
// claims (fva, fea, pla, sts besides the registered ones, sid, v and o)
// cannot be overridden by a session token template; a template naming
// fva as a string gave a token clerk-sdk-go cannot decode ([2]int64).
func TestClerkTemplateCannotOverrideDefaultClaims(t *testing.T) {
	t.Parallel()
	cfg := mockidp.DefaultConfig()
	cfg.Clerk[0].Claims = map[string]string{"fva": "x", "fea": "u:evil", "pla": "u:evil", "sts": "pending", "email": "{{user.primary_email_address}}"}
	srv := mockidp.Start(t, cfg)
	c := srv.Clerk("clerk")
	tok, err := c.MintSessionToken("alice@acme.test", "", "", "http://app.test")
	if err != nil {
		t.Fatal(err)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := jsonUnmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	if fva, ok := claims["fva"].([]any); !ok || len(fva) != 2 {
		t.Errorf("fva %v: overridden by the template", claims["fva"])
	}
	for _, name := range []string{"fea", "pla", "sts"} {
		if v, ok := claims[name]; ok {
			t.Errorf("%s %v: set by the template", name, v)
		}
	}
	if claims["email"] != "alice@acme.test" {
		t.Errorf("custom claim email %v", claims["email"])
	}
}
