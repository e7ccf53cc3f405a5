package clerkauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/ssoerr"
)

// TestUsersEmail: only the primary address, and only once Clerk has
// verified it, is a user's email; any other address on the account is
// something its holder typed.
func TestUsersEmail(t *testing.T) {
	addr := func(id, email, status string) string {
		v := `null`
		if status != "" {
			v = `{"status":"` + status + `","strategy":"email_code","attempts":null,"expire_at":null}`
		}
		return `{"id":"` + id + `","object":"email_address","email_address":"` + email + `","reserved":false,"verification":` + v + `,"linked_to":[]}`
	}
	users := map[string]string{
		"user_primary":      `"primary_email_address_id":"idn_2","email_addresses":[` + addr("idn_1", "other@acme.test", "verified") + `,` + addr("idn_2", "pat@acme.test", "verified") + `]`,
		"user_sso":          `"primary_email_address_id":"idn_1","email_addresses":[{"id":"idn_1","object":"email_address","email_address":"sam@acme.test","verification":{"status":"verified","strategy":"saml"},"linked_to":[{"id":"saml_1","type":"saml_account"}]}]`,
		"user_no_primary":   `"primary_email_address_id":null,"email_addresses":[` + addr("idn_1", "ceo@acme.test", "unverified") + `]`,
		"user_no_primary_v": `"primary_email_address_id":null,"email_addresses":[` + addr("idn_1", "ceo@acme.test", "verified") + `]`,
		"user_unverified":   `"primary_email_address_id":"idn_1","email_addresses":[` + addr("idn_1", "ceo@acme.test", "unverified") + `]`,
		"user_no_verif":     `"primary_email_address_id":"idn_1","email_addresses":[` + addr("idn_1", "ceo@acme.test", "") + `]`,
		"user_dangling":     `"primary_email_address_id":"idn_9","email_addresses":[` + addr("idn_1", "ceo@acme.test", "verified") + `]`,
		"user_no_emails":    `"primary_email_address_id":null,"email_addresses":[]`,
	}
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		id, ok := strings.CutPrefix(r.URL.Path, "/v1/users/")
		body, known := users[id]
		if !ok || !known || r.Header.Get("Authorization") != "Bearer sk_test_users" {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"errors":[{"code":"resource_not_found","message":"not found"}]}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"object":"user","id":"` + id + `",` + body + `}`))
	}))
	defer srv.Close()
	u, err := NewUsers(UsersConfig{SecretKey: "sk_test_users", APIURL: srv.URL + "/v1", InsecureHTTPLoopback: true, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want := map[string]string{
		"user_primary": "pat@acme.test", "user_sso": "sam@acme.test",
		"user_no_primary": "", "user_no_primary_v": "", "user_unverified": "", "user_no_verif": "",
		"user_dangling": "", "user_no_emails": "",
	}
	for id, w := range want {
		got, err := u.Email(ctx, id)
		if err != nil || got != w {
			t.Errorf("%s: %q, %v; want %q", id, got, err, w)
		}
	}
	// Answers are cached, "" included.
	before := calls
	for id := range want {
		u.Email(ctx, id)
	}
	if calls != before {
		t.Errorf("%d Backend API calls for cached answers", calls-before)
	}
	if _, err := u.Email(ctx, "user_missing"); !errors.Is(err, ssoerr.ErrUpstream) {
		t.Errorf("unknown user: %v, want ErrUpstream", err)
	}
}
