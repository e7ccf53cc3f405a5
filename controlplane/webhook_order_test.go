package controlplane_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ssokit/ssokit/api"
)

// capturedHook is one webhook delivery as the mock Clerk sent it.
type capturedHook struct {
	header http.Header
	body   []byte
}

// TestMembershipWebhooksOutOfOrder: svix delivers Clerk's events in no
// guaranteed order. A person's Clerk role is changed twice (member to
// admin, then back to member) and the two organizationMembership.updated
// events reach the app newest first: the app reads the membership back
// from Clerk's Backend API and ends with the role Clerk holds now
// (viewer, through clerk_role_map), never the older event's admin, and
// his session, whose role did not change, stands. A promotion followed by
// the membership's removal, delivered removal first, gives no role and
// ends his sessions.
func TestMembershipWebhooksOutOfOrder(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	ctx := context.Background()
	// Acme's roles come from Clerk roles (no group rules), as a
	// membership webhook applies them.
	if _, err := p.admin.Organizations.ConfigureSSO(ctx, "acme", api.SSOSettings{ClerkOrgID: "org_acme", AllowedDomains: []string{"acme.test"},
		DefaultRole: "viewer", AutoCreateUsers: true, ClerkRoleMap: map[string]string{"org:admin": "admin", "org:member": "viewer"}}); err != nil {
		t.Fatal(err)
	}
	bob, _, _ := p.browser(t, "bob@acme.test")
	me, err := bob.Auth.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, err := p.st.GetUser(ctx, me.UserID)
	if err != nil || u.ClerkUserID == "" {
		t.Fatalf("bob: %+v %v", u, err)
	}
	// The events are held back, to be delivered in another order.
	var (
		mu   sync.Mutex
		held []capturedHook
	)
	hold := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		held = append(held, capturedHook{header: r.Header.Clone(), body: body})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hold.Close)
	p.clerk.SetWebhooks(hold.URL)
	clerkAPI := func(method, path, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, p.clerk.BackendAPIURL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+p.clerk.SecretKey())
		req.Header.Set("Content-Type", "application/json")
		resp, err := p.mock.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
		}
	}
	membership := "/organizations/org_acme/memberships/" + u.ClerkUserID
	for _, role := range []string{"org:admin", "org:member"} {
		clerkAPI("PATCH", membership, `{"role":"`+role+`"}`)
		p.clerk.Wait()
	}
	deliver := func(h capturedHook) {
		t.Helper()
		req, _ := http.NewRequest("POST", p.app.URL+"/webhooks/clerk", bytes.NewReader(h.body))
		req.Header = h.header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("delivery: %d", resp.StatusCode)
		}
	}
	mu.Lock()
	updates := append([]capturedHook(nil), held...)
	held = nil
	mu.Unlock()
	if len(updates) != 2 || !bytes.Contains(updates[0].body, []byte(`"org:admin"`)) || !bytes.Contains(updates[1].body, []byte(`"org:member"`)) {
		t.Fatalf("held %d events", len(updates))
	}
	deliver(updates[1]) // org:member, the newest, first
	deliver(updates[0]) // then org:admin, older
	if u, _ := p.st.GetUser(ctx, me.UserID); u.Role != "viewer" {
		t.Errorf("after the events newest first: role %q, want viewer (Clerk's org:member now)", u.Role)
	}
	if _, err := bob.Auth.WhoAmI(ctx); err != nil {
		t.Errorf("bob's session ended though his role did not change: %v", err)
	}
	// A promotion and then the removal, delivered removal first: the
	// promotion, read back, finds no membership; no role comes of it and
	// the sessions end.
	clerkAPI("PATCH", membership, `{"role":"org:admin"}`)
	p.clerk.Wait()
	clerkAPI("DELETE", membership, ``)
	p.clerk.Wait()
	mu.Lock()
	last := append([]capturedHook(nil), held...)
	mu.Unlock()
	if len(last) != 2 || !bytes.Contains(last[1].body, []byte(`organizationMembership.deleted`)) {
		t.Fatalf("held %d events", len(last))
	}
	deliver(last[1])
	deliver(last[0])
	if u, _ := p.st.GetUser(ctx, me.UserID); u.Role != "viewer" || u.ValidAfter.IsZero() {
		t.Errorf("after the removal and the older promotion: role %q, sessions ended before %v", u.Role, u.ValidAfter)
	}
	if _, err := bob.Auth.WhoAmI(ctx); err == nil {
		t.Error("bob's session survived the removal of his membership")
	}
}
