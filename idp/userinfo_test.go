package idp

import (
	"context"
	"crypto"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/internal/jwks"
	"golang.org/x/oauth2"
)

// TestUserinfoAnswers: the userinfo endpoint is asked with the access
// token; a JSON answer gives its claims, a signed one (application/jwt)
// only when it verifies with the connection's keys and algorithms and
// names the connection as issuer and the client as audience; a failure is
// reported by its status, never its body; an answer over maxUserinfo, or
// not a JSON object, is refused.
func TestUserinfoAnswers(t *testing.T) {
	key, signKey := newES256(t)
	_, signOther := newES256(t)
	const iss, client = "https://idp.test", "client-1"
	var answer struct {
		status int
		ctype  string
		body   string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer at-1" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", answer.ctype)
		w.WriteHeader(answer.status)
		w.Write([]byte(answer.body))
	}))
	defer srv.Close()
	o := &oidcConnector{
		conn:        Connection{ID: "c1", OIDC: &OIDCSettings{Issuer: iss}},
		opts:        Options{InsecureAllowLoopback: true},
		oauth:       oauth2.Config{ClientID: client},
		userinfoURL: srv.URL + "/userinfo",
		keys: &jwks.Cache{Fetch: func(context.Context) (map[string]crypto.PublicKey, error) {
			return map[string]crypto.PublicKey{"k1": &key.PublicKey}, nil
		}},
	}
	es256 := `{"alg":"ES256","kid":"k1","typ":"JWT"}`
	for _, c := range []struct {
		name          string
		status        int
		ctype, body   string
		email, reason string
		sentinel      error
	}{
		{"json", 200, "application/json; charset=utf-8", `{"sub":"u1","email":"pat@acme.test"}`, "pat@acme.test", "", nil},
		{"signed", 200, "application/jwt", signKey(es256, `{"sub":"u1","email":"pat@acme.test","iss":"`+iss+`","aud":["`+client+`","x"]}`), "pat@acme.test", "", nil},
		{"signed without iss and aud", 200, "application/jwt", signKey(es256, `{"sub":"u1","email":"pat@acme.test"}`), "", ReasonIssuer, ErrInvalidResponse},
		{"signed without iss", 200, "application/jwt", signKey(es256, `{"sub":"u1","aud":"`+client+`"}`), "", ReasonIssuer, ErrInvalidResponse},
		{"signed without aud", 200, "application/jwt", signKey(es256, `{"sub":"u1","iss":"`+iss+`"}`), "", ReasonAudience, ErrInvalidResponse},
		{"signed, iss not a string", 200, "application/jwt", signKey(es256, `{"sub":"u1","iss":["`+iss+`"],"aud":"`+client+`"}`), "", ReasonIssuer, ErrInvalidResponse},
		{"signed by another key", 200, "application/jwt", signOther(es256, `{"sub":"u1"}`), "", ReasonSignature, ErrInvalidResponse},
		{"signed, unknown kid", 200, "application/jwt", signKey(`{"alg":"ES256","kid":"k9"}`, `{"sub":"u1"}`), "", ReasonUnknownKey, ErrInvalidResponse},
		{"HS256", 200, "application/jwt", b64seg(`{"alg":"HS256","kid":"k1"}`) + "." + b64seg(`{"sub":"u1"}`) + ".c2ln", "", ReasonAlgorithm, ErrInvalidResponse},
		{"EdDSA", 200, "application/jwt", b64seg(`{"alg":"EdDSA","kid":"k1"}`) + "." + b64seg(`{"sub":"u1"}`) + ".c2ln", "", ReasonAlgorithm, ErrInvalidResponse},
		{"unsigned", 200, "application/jwt", b64seg(`{"alg":"none","kid":"k1"}`) + "." + b64seg(`{"sub":"u1"}`) + ".", "", ReasonAlgorithm, ErrInvalidResponse},
		{"signed, another issuer", 200, "application/jwt", signKey(es256, `{"sub":"u1","iss":"https://evil.test"}`), "", ReasonIssuer, ErrInvalidResponse},
		{"signed, another audience", 200, "application/jwt", signKey(es256, `{"sub":"u1","iss":"`+iss+`","aud":"other-client"}`), "", ReasonAudience, ErrInvalidResponse},
		{"error page", 500, "text/html", "<h1>SECRET internal page</h1>", "", ReasonUserinfo, ErrUpstream},
		{"not an object", 200, "application/json", `["sub"]`, "", ReasonUserinfo, ErrInvalidResponse},
		{"null", 200, "application/json", `null`, "", ReasonUserinfo, ErrInvalidResponse},
		{"too large", 200, "application/json", `{"sub":"u1","x":"` + strings.Repeat("a", maxUserinfo) + `"}`, "", ReasonUserinfo, ErrInvalidResponse},
	} {
		t.Run(c.name, func(t *testing.T) {
			answer.status, answer.ctype, answer.body = c.status, c.ctype, c.body
			claims, err := o.userinfo(context.Background(), &oauth2.Token{AccessToken: "at-1", TokenType: "Bearer"}, iss)
			if c.reason == "" {
				if err != nil || claims["email"] != c.email {
					t.Fatalf("claims %v, %v; want email %q", claims, err, c.email)
				}
				return
			}
			if !errors.Is(err, c.sentinel) || ReasonOf(err) != c.reason {
				t.Fatalf("%v, want %v with reason %s", err, c.sentinel, c.reason)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("the IdP's page reached the refusal: %v", err)
			}
		})
	}
}
