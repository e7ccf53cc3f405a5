package controlplane

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/store"
)

// TestListsOfUnknownOrgNotFound: the people and the API keys of an
// organization that does not exist (a mistyped ID) are answered 404
// not_found, as every other route of an organization answers, not an
// empty list that reads as an organization without people or keys.
func TestListsOfUnknownOrgNotFound(t *testing.T) {
	const platform = "platform-admin-key-0123456789"
	a, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true,
		BootstrapAdminKey: platform})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.st.CreateOrg(t.Context(), store.Org{ID: "acme", Name: "acme", Plan: "enterprise", DefaultRole: "viewer"}); err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Authorization", "Bearer "+platform)
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	for _, p := range []string{"/v1/organizations/acme/users", "/v1/organizations/acme/api-keys"} {
		if code, body := get(p); code != http.StatusOK || strings.TrimSpace(body) != "[]" {
			t.Errorf("GET %s: %d %s, want 200 []", p, code, body)
		}
	}
	for _, p := range []string{"/v1/organizations/acme-typo/users", "/v1/organizations/acme-typo/api-keys"} {
		if code, body := get(p); code != http.StatusNotFound || !strings.Contains(body, `"not_found"`) {
			t.Errorf("GET %s: %d %s, want 404 not_found", p, code, body)
		}
	}
}
