package controlplane

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
)

// TestNoKeyRevokedAboveOwnRank: as with people, an organization admin
// revokes no API key holding a role ranked above their own (an owner's
// key the platform administrator made); keys up to their rank they may,
// and the platform administrator any.
func TestNoKeyRevokedAboveOwnRank(t *testing.T) {
	ctx := t.Context()
	pol, err := rbac.NewPolicy(append(rbac.DefaultRoles(), rbac.RoleDef{Name: "owner", Rank: 40, Inherits: []rbac.Role{rbac.Admin}})...)
	if err != nil {
		t.Fatal(err)
	}
	const platform = "platform-admin-key-0123456789"
	a, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true,
		Policy: pol, BootstrapAdminKey: platform})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.st.CreateOrg(ctx, store.Org{ID: "acme", Name: "acme", Plan: "enterprise", DefaultRole: "viewer"}); err != nil {
		t.Fatal(err)
	}
	adminKey, _, err := a.apiKeys.Create(ctx, "acme", "admin-bot", "admin", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	_, ownerKey, err := a.apiKeys.Create(ctx, "acme", "owner-bot", "owner", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	_, editorKey, err := a.apiKeys.Create(ctx, "acme", "editor-bot", "editor", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	revoke := func(cred, id string) (int, string) {
		t.Helper()
		r := httptest.NewRequest("DELETE", "/v1/organizations/acme/api-keys/"+id, nil)
		if cred == platform {
			r.Header.Set("Authorization", "Bearer "+cred)
		} else {
			r.Header.Set("X-API-Key", cred)
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	revoked := func(id string) bool {
		ks, _ := a.st.ListAPIKeys(ctx, "acme")
		for _, k := range ks {
			if k.ID == id {
				return k.Revoked
			}
		}
		t.Fatalf("no key %s", id)
		return false
	}
	if code, body := revoke(adminKey, ownerKey.ID); code != http.StatusForbidden || !strings.Contains(body, "insufficient_scope") {
		t.Errorf("admin revokes the owner's key: %d %s, want 403 insufficient_scope", code, body)
	}
	if revoked(ownerKey.ID) {
		t.Error("the owner's key was revoked by an admin")
	}
	if code, body := revoke(adminKey, editorKey.ID); code != http.StatusNoContent || !revoked(editorKey.ID) {
		t.Errorf("admin revokes an editor's key: %d %s", code, body)
	}
	if code, body := revoke(adminKey, "no-such-key"); code != http.StatusNotFound {
		t.Errorf("admin revokes an unknown key: %d %s, want 404", code, body)
	}
	if code, body := revoke(platform, ownerKey.ID); code != http.StatusNoContent || !revoked(ownerKey.ID) {
		t.Errorf("platform admin revokes the owner's key: %d %s", code, body)
	}
}
