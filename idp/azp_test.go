package idp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestIDTokenAuthorizedParty: OpenID Connect Core 3.1.3.7, steps 4 and
// 5. An ID token whose azp names another client was issued to that
// client, whatever its aud lists beside this one, and one with several
// audiences must say which of them it was issued to.
func TestIDTokenAuthorizedParty(t *testing.T) {
	t.Parallel()
	key, sign := newES256(t)
	jwk, err := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		aud  any
		azp  string
		ok   bool
	}{
		{"one audience, no azp", "client-1", "", true},
		{"one audience, azp this client", "client-1", "client-1", true},
		{"two audiences, azp this client", []string{"client-1", "other"}, "client-1", true},
		{"one audience, azp another client", "client-1", "other", false},
		{"two audiences, azp another client", []string{"client-1", "other"}, "other", false},
		{"two audiences, no azp", []string{"client-1", "other"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			op := newFakeOP(t)
			op.keys = `{"keys":[` + string(jwk) + `]}`
			op.token = func(*http.Request) map[string]any {
				claims := map[string]any{"iss": op.srv.URL, "aud": tc.aud, "sub": "u1", "nonce": op.nonce,
					"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "email": "pat@acme.test", "email_verified": true}
				if tc.azp != "" {
					claims["azp"] = tc.azp
				}
				b, _ := json.Marshal(claims)
				return map[string]any{"access_token": "at", "token_type": "Bearer", "id_token": sign(`{"alg":"ES256","kid":"k1"}`, string(b))}
			}
			id, err := op.login(t, op.connect(t, Options{}), "code-1")
			if tc.ok {
				if err != nil || id.Subject != "u1" {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidResponse) || ReasonOf(err) != ReasonAudience {
				t.Fatalf("%s, want ErrInvalidResponse (%s)", fmt.Sprint(err), ReasonAudience)
			}
		})
	}
}
