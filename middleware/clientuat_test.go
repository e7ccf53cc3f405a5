package middleware

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoerr"
)

// TestClerkCookieFollowsClientUAT: Clerk's __session cookie counts only
// beside the browser's __client_uat, as Clerk's SDK reads the pair: a
// client that signed out (__client_uat 0 or missing) or signed in again
// after the token was issued (iat before __client_uat) has no session
// here, whatever the token; a Bearer token is not a cookie and carries no
// such pair.
func TestClerkCookieFollowsClientUAT(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testKid, nil)
	now := f.clk.Now()
	tok := mint(t, f.keys[0], hdr(testKid), v1Claims(now))
	a, err := NewAuthenticator(AuthenticatorConfig{Clerk: f.v})
	if err != nil {
		t.Fatal(err)
	}
	uat := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
	for name, tc := range map[string]struct {
		uat    []string // __client_uat cookies
		reason ssoerr.Reason
	}{
		"signed in before the token":    {uat: []string{uat(now.Add(-time.Minute))}},
		"signed in as the token":        {uat: []string{uat(now)}},
		"no client_uat":                 {reason: ssoerr.ReasonClientSignedOut},
		"client signed out":             {uat: []string{"0"}, reason: ssoerr.ReasonClientSignedOut},
		"signed in again after":         {uat: []string{uat(now.Add(time.Second))}, reason: ssoerr.ReasonClientSignedOut},
		"not a number":                  {uat: []string{"soon"}, reason: ssoerr.ReasonClientSignedOut},
		"negative":                      {uat: []string{"-5"}, reason: ssoerr.ReasonClientSignedOut},
		"client_uat sent twice":         {uat: []string{uat(now), "0"}, reason: ssoerr.ReasonAmbiguous},
		"empty client_uat":              {uat: []string{""}, reason: ssoerr.ReasonClientSignedOut},
		"signed in long before a token": {uat: []string{"1"}},
	} {
		t.Run(name, func(t *testing.T) {
			for range 2 { // the second answer comes from the principal cache
				r := httptest.NewRequest("GET", "/api", nil)
				r.AddCookie(&http.Cookie{Name: DefaultSessionCookie, Value: tok})
				for _, v := range tc.uat {
					r.AddCookie(&http.Cookie{Name: "__client_uat", Value: v})
				}
				p, err := a.Authenticate(r)
				if tc.reason == "" {
					if err != nil || p.ClerkUserID != "user_1" {
						t.Fatalf("principal %+v, err %v", p, err)
					}
					continue
				}
				if p != nil || ssoerr.ReasonOf(err) != tc.reason {
					t.Fatalf("principal %+v, err %v; want a %s refusal", p, err, tc.reason)
				}
			}
		})
	}
	t.Run("bearer needs no client_uat", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/api", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		r.AddCookie(&http.Cookie{Name: "__client_uat", Value: "0"})
		if p, err := a.Authenticate(r); err != nil || p.ClerkUserID != "user_1" {
			t.Fatalf("principal %+v, err %v", p, err)
		}
	})
	t.Run("suffixed cookie pairs with the suffixed client_uat", func(t *testing.T) {
		sa, err := NewAuthenticator(AuthenticatorConfig{Clerk: f.v, SessionCookie: "__session_Ab3-xY_z"})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/api", nil)
		r.AddCookie(&http.Cookie{Name: "__session_Ab3-xY_z", Value: tok})
		r.AddCookie(&http.Cookie{Name: "__client_uat", Value: uat(now)})
		if _, err := sa.Authenticate(r); ssoerr.ReasonOf(err) != ssoerr.ReasonClientSignedOut {
			t.Fatalf("err %v with only the plain client_uat", err)
		}
		r.AddCookie(&http.Cookie{Name: "__client_uat_Ab3-xY_z", Value: uat(now)})
		if p, err := sa.Authenticate(r); err != nil || p.ClerkUserID != "user_1" {
			t.Fatalf("principal %+v, err %v", p, err)
		}
	})
}
