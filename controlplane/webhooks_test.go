package controlplane

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/store"
	svix "github.com/svix/svix-webhooks/go"
)

var errStoreDown = errors.New("store down")

// faultStore is a memory store whose named methods fail while armed, and
// whose ListUsers waits on block when it is set.
type faultStore struct {
	store.Store
	mu      sync.Mutex
	fail    map[string]bool
	block   chan struct{} // the next ListUsers closes entered, then waits on it
	entered chan struct{}
}

func (s *faultStore) arm(method string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[method] = on
}

func (s *faultStore) down(method string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fail[method]
}

func (s *faultStore) CreateOrg(ctx context.Context, o store.Org) error {
	if s.down("CreateOrg") {
		return errStoreDown
	}
	return s.Store.CreateOrg(ctx, o)
}

func (s *faultStore) OrgByClerkID(ctx context.Context, id string) (store.Org, error) {
	if s.down("OrgByClerkID") {
		return store.Org{}, errStoreDown
	}
	return s.Store.OrgByClerkID(ctx, id)
}

func (s *faultStore) ListOrgs(ctx context.Context) ([]store.Org, error) {
	if s.down("ListOrgs") {
		return nil, errStoreDown
	}
	return s.Store.ListOrgs(ctx)
}

func (s *faultStore) ListUsers(ctx context.Context, orgID string) ([]store.User, error) {
	s.mu.Lock()
	block, entered := s.block, s.entered
	s.block = nil
	s.mu.Unlock()
	if block != nil {
		close(entered)
		<-block
	}
	if s.down("ListUsers") {
		return nil, errStoreDown
	}
	return s.Store.ListUsers(ctx, orgID)
}

func (s *faultStore) ChangeRole(ctx context.Context, id, role string, at time.Time) (store.User, error) {
	if s.down("ChangeRole") {
		return store.User{}, errStoreDown
	}
	return s.Store.ChangeRole(ctx, id, role, at)
}

func (s *faultStore) UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (store.User, error) {
	if s.down("UpdateUser") {
		return store.User{}, errStoreDown
	}
	return s.Store.UpdateUser(ctx, id, fn)
}

// hookPlane is a control plane with webhooks, a settable clock and a
// fault-injecting store holding org acme (Clerk org_acme, role map) with
// Bob (Clerk user_bob, viewer).
type hookPlane struct {
	a     *API
	st    *faultStore
	wh    *svix.Webhook
	mu    sync.Mutex
	clock time.Time
	bobID string
}

func (p *hookPlane) now() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.clock
}

func (p *hookPlane) advance(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clock = p.clock.Add(d)
}

func newHookPlane(t *testing.T) *hookPlane {
	t.Helper()
	return newHookPlaneWith(t, func(c *Config) { c.AutoProvisionOrgs = true })
}

// newHookPlaneWith is newHookPlane with mod applied to its Config.
func newHookPlaneWith(t *testing.T, mod func(*Config)) *hookPlane {
	t.Helper()
	p := &hookPlane{clock: time.Unix(1_800_000_000, 0)}
	mem, _ := store.NewMemory(store.MemoryConfig{Now: p.now})
	p.st = &faultStore{Store: mem, fail: map[string]bool{}}
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("webhook-test-secret-webhook-test"))
	cfg := Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true,
		WebhookSecret: secret, Store: p.st, Now: p.now}
	mod(&cfg)
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.a = a
	p.wh, _ = svix.NewWebhook(secret)
	ctx := context.Background()
	if err := mem.CreateOrg(ctx, store.Org{ID: "acme", Name: "Acme", Plan: "enterprise", ClerkOrgID: "org_acme", DefaultRole: "viewer",
		ClerkRoleMap: map[string]string{"org:admin": "admin", "org:member": "viewer"}}); err != nil {
		t.Fatal(err)
	}
	u, _, err := mem.CreateUserIfAbsent(ctx, store.User{ID: "u_bob", OrgID: "acme", Email: "bob@acme.test", Role: "viewer", ClerkUserID: "user_bob"})
	if err != nil {
		t.Fatal(err)
	}
	p.bobID = u.ID
	return p
}

// delivery is one signed request: svix's headers over id, at and body.
type delivery struct {
	id   string
	at   time.Time
	body string
}

func (p *hookPlane) headers(t *testing.T, d delivery) http.Header {
	t.Helper()
	sig, err := p.wh.Sign(d.id, d.at, []byte(d.body))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("svix-id", d.id)
	h.Set("svix-timestamp", fmt.Sprint(d.at.Unix()))
	h.Set("svix-signature", sig)
	return h
}

// post sends d, signed at d.at (the plane's clock when zero), and returns
// the status, the error code or ack status, and the response.
func (p *hookPlane) post(t *testing.T, d delivery) (int, string, *httptest.ResponseRecorder) {
	t.Helper()
	if d.at.IsZero() {
		d.at = p.now()
	}
	rec := p.postWith(d.body, p.headers(t, d))
	var out struct {
		Error  string `json:"error"`
		Status string `json:"status"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out.Error + out.Status, rec
}

// postWith sends body with headers h as they are.
func (p *hookPlane) postWith(body string, h http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/webhooks/clerk", strings.NewReader(body))
	req.Header = h
	rec := httptest.NewRecorder()
	p.a.ServeHTTP(rec, req)
	return rec
}

func (p *hookPlane) bob(t *testing.T) store.User {
	t.Helper()
	u, err := p.st.Store.GetUser(context.Background(), p.bobID)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

const (
	evMembershipDeleted = `{"type":"organizationMembership.deleted","data":{"organization":{"id":"org_acme"},"public_user_data":{"user_id":"user_bob"}}}`
	evUserDeleted       = `{"type":"user.deleted","data":{"id":"user_bob"}}`
	evOrgCreated        = `{"type":"organization.created","data":{"id":"org_new","name":"New","slug":"newco"}}`
)

func evRole(role string) string {
	return `{"type":"organizationMembership.updated","data":{"role":"` + role + `","organization":{"id":"org_acme"},"public_user_data":{"user_id":"user_bob"}}}`
}

// A store error while applying an event is a 503 with Retry-After, never
// an acknowledgement; and it leaves the svix-id unrecorded, so svix's
// retry (same svix-id, a new timestamp) applies the event once the store
// is back.
func TestWebhookStoreErrorIsRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, method, body string
		applied            func(p *hookPlane) bool
	}{
		{"membership deleted, org lookup", "OrgByClerkID", evMembershipDeleted, func(p *hookPlane) bool { return !p.bob(t).ValidAfter.IsZero() }},
		{"membership deleted, people", "ListUsers", evMembershipDeleted, func(p *hookPlane) bool { return !p.bob(t).ValidAfter.IsZero() }},
		{"membership deleted, revocation", "UpdateUser", evMembershipDeleted, func(p *hookPlane) bool { return !p.bob(t).ValidAfter.IsZero() }},
		{"membership updated, org lookup", "OrgByClerkID", evRole("org:admin"), func(p *hookPlane) bool { return p.bob(t).Role == "admin" }},
		{"membership updated, role", "UpdateUser", evRole("org:admin"), func(p *hookPlane) bool { return p.bob(t).Role == "admin" }},
		{"membership updated, role and sessions", "UpdateUser", evRole("org:admin"), func(p *hookPlane) bool { return !p.bob(t).ValidAfter.IsZero() }},
		{"user deleted, orgs", "ListOrgs", evUserDeleted, func(p *hookPlane) bool { return !p.bob(t).ValidAfter.IsZero() }},
		{"user deleted, people", "ListUsers", evUserDeleted, func(p *hookPlane) bool { return !p.bob(t).ValidAfter.IsZero() }},
		{"organization created", "CreateOrg", evOrgCreated, func(p *hookPlane) bool {
			_, err := p.st.Store.GetOrg(context.Background(), "newco")
			return err == nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newHookPlane(t)
			p.st.arm(tc.method, true)
			status, code, rec := p.post(t, delivery{id: "msg_1", body: tc.body})
			if status != http.StatusServiceUnavailable || code != codeUpstream || rec.Header().Get("Retry-After") == "" {
				t.Fatalf("store down: %d %q Retry-After %q", status, code, rec.Header().Get("Retry-After"))
			}
			if tc.applied(p) {
				t.Fatal("applied while the store was down")
			}
			p.st.arm(tc.method, false)
			p.advance(5 * time.Second) // svix's first retry
			if status, code, _ := p.post(t, delivery{id: "msg_1", body: tc.body}); status != http.StatusNoContent {
				t.Fatalf("the retry was not applied: %d %q", status, code)
			}
			if !tc.applied(p) {
				t.Fatal("the retry answered 204 without applying the event")
			}
		})
	}
}

// Only a genuine store.ErrNotFound (a Clerk org that is not ours) is
// acknowledged without a change.
func TestWebhookUnknownClerkOrgIsAcknowledged(t *testing.T) {
	t.Parallel()
	p := newHookPlane(t)
	body := strings.Replace(evMembershipDeleted, "org_acme", "org_elsewhere", 1)
	if status, code, _ := p.post(t, delivery{id: "msg_1", body: body}); status != http.StatusNoContent {
		t.Fatalf("%d %q", status, code)
	}
	if !p.bob(t).ValidAfter.IsZero() {
		t.Fatal("another org's membership event revoked Bob")
	}
}

// A well-signed event that does not decode, or lacks a field its type
// needs, is a 400 invalid_json that changes nothing; a type the endpoint
// does not handle is acknowledged.
func TestWebhookUndecodableEventIsRefused(t *testing.T) {
	t.Parallel()
	p := newHookPlane(t)
	for name, body := range map[string]string{
		"not JSON":                  `{"type":`,
		"empty":                     ``,
		"array":                     `[]`,
		"null":                      `null`,
		"type a number":             `{"type":7,"data":{}}`,
		"no type":                   `{"data":{"id":"user_bob"}}`,
		"user id a number":          `{"type":"user.deleted","data":{"id":7}}`,
		"user without id":           `{"type":"user.deleted","data":{}}`,
		"user data null":            `{"type":"user.deleted","data":null}`,
		"user data a string":        `{"type":"user.deleted","data":"user_bob"}`,
		"membership org a string":   `{"type":"organizationMembership.deleted","data":{"organization":"org_acme","public_user_data":{"user_id":"user_bob"}}}`,
		"membership without user":   `{"type":"organizationMembership.deleted","data":{"organization":{"id":"org_acme"}}}`,
		"membership without org":    `{"type":"organizationMembership.updated","data":{"role":"org:admin","public_user_data":{"user_id":"user_bob"}}}`,
		"membership role an object": `{"type":"organizationMembership.updated","data":{"role":{},"organization":{"id":"org_acme"},"public_user_data":{"user_id":"user_bob"}}}`,
		"org without id":            `{"type":"organization.created","data":{"name":"New","slug":"newco"}}`,
		"org name a number":         `{"type":"organization.created","data":{"id":"org_new","name":1,"slug":"newco"}}`,
	} {
		if status, code, _ := p.post(t, delivery{id: "msg_" + name, body: body}); status != http.StatusBadRequest || code != codeInvalidJSON {
			t.Errorf("%s: %d %q", name, status, code)
		}
	}
	if u := p.bob(t); !u.ValidAfter.IsZero() || u.Role != "viewer" {
		t.Fatalf("a refused event changed Bob: %+v", u)
	}
	if _, err := p.st.Store.GetOrg(context.Background(), "newco"); err == nil {
		t.Fatal("a refused event created an org")
	}
	if status, code, _ := p.post(t, delivery{id: "msg_other", body: `{"type":"session.created","data":{"id":"sess_1"}}`}); status != http.StatusNoContent {
		t.Fatalf("an unhandled type: %d %q", status, code)
	}
}

// A well-signed webhook whose timestamp is more than five minutes from
// the API's clock, either way, is refused as stale_webhook and not
// applied; the same event signed within the tolerance is.
func TestWebhookStaleTimestampIsRefused(t *testing.T) {
	t.Parallel()
	p := newHookPlane(t)
	now := p.now()
	for _, off := range []time.Duration{-webhookTolerance - time.Second, webhookTolerance + time.Second, -time.Hour, 24 * time.Hour, -365 * 24 * time.Hour} {
		if status, code, _ := p.post(t, delivery{id: "msg_1", at: now.Add(off), body: evMembershipDeleted}); status != http.StatusUnauthorized || code != codeStaleWebhook {
			t.Errorf("signed %v from now: %d %q", off, status, code)
		}
	}
	if !p.bob(t).ValidAfter.IsZero() {
		t.Fatal("a stale webhook was applied")
	}
	for _, off := range []time.Duration{-webhookTolerance + time.Second, webhookTolerance - time.Second} {
		if status, code, _ := p.post(t, delivery{id: fmt.Sprint("msg_in_", off), at: now.Add(off), body: evMembershipDeleted}); status != http.StatusNoContent {
			t.Errorf("signed %v from now: %d %q", off, status, code)
		}
	}
	if p.bob(t).ValidAfter.IsZero() {
		t.Fatal("a webhook within the tolerance was not applied")
	}
}

// A timestamp spelled otherwise than svix writes it (a leading zero or
// plus sign, which svix's own check reads as the same integer and so
// accepts with that integer's signature) is refused and not applied.
func TestWebhookTimestampSpellingIsRefused(t *testing.T) {
	t.Parallel()
	p := newHookPlane(t)
	d := delivery{id: "msg_spelling", at: p.now(), body: evMembershipDeleted}
	ts := fmt.Sprint(d.at.Unix())
	for _, stamp := range []string{"0" + ts, "+" + ts, "00" + ts, ts + " ", " " + ts} {
		h := p.headers(t, d)
		h.Set("svix-timestamp", stamp)
		if rec := p.postWith(d.body, h); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"error":"`+codeInvalidSignature+`"`) {
			t.Errorf("svix-timestamp %q: %d %s", stamp, rec.Code, rec.Body)
		}
	}
	if !p.bob(t).ValidAfter.IsZero() {
		t.Fatal("a webhook with a respelled timestamp was applied")
	}
	if status, code, _ := p.post(t, d); status != http.StatusNoContent {
		t.Fatalf("the same delivery spelled as svix writes it: %d %q", status, code)
	}
}

// A replayed svix-id (the captured request itself, or re-signed by svix
// as a retry) is acknowledged as a duplicate and not applied again: an
// old role change replayed after a newer one does not undo it.
func TestWebhookReplayIsNotApplied(t *testing.T) {
	t.Parallel()
	p := newHookPlane(t)
	promote := delivery{id: "msg_promote", at: p.now(), body: evRole("org:admin")}
	if status, code, _ := p.post(t, promote); status != http.StatusNoContent || p.bob(t).Role != "admin" {
		t.Fatalf("promotion: %d %q, role %s", status, code, p.bob(t).Role)
	}
	p.advance(time.Minute)
	if status, code, _ := p.post(t, delivery{id: "msg_demote", body: evRole("org:member")}); status != http.StatusNoContent || p.bob(t).Role != "viewer" {
		t.Fatalf("demotion: %d %q, role %s", status, code, p.bob(t).Role)
	}
	revokedAt := p.bob(t).ValidAfter
	p.advance(time.Minute)
	for name, d := range map[string]delivery{
		"captured request": promote,
		"svix retry":       {id: promote.id, body: promote.body}, // re-signed now
	} {
		status, ack, rec := p.post(t, d)
		if status != http.StatusOK || ack != api.WebhookDuplicate {
			t.Errorf("%s: %d %q %s", name, status, ack, rec.Body)
		}
	}
	if u := p.bob(t); u.Role != "viewer" || !u.ValidAfter.Equal(revokedAt) {
		t.Fatalf("the replay was applied: role %s, sessions revoked at %v (was %v)", u.Role, u.ValidAfter, revokedAt)
	}
}

// While one delivery of an svix-id is being applied, another is answered
// 409 in_progress (not acknowledged: if the first fails, svix still has
// the event to retry); once the first is applied, it is a duplicate.
func TestWebhookConcurrentDeliveryIsNotAcknowledged(t *testing.T) {
	t.Parallel()
	p := newHookPlane(t)
	block, entered := make(chan struct{}), make(chan struct{})
	p.st.mu.Lock()
	p.st.block, p.st.entered = block, entered
	p.st.mu.Unlock()
	first := make(chan int, 1)
	go func() {
		status, _, _ := p.post(t, delivery{id: "msg_1", body: evMembershipDeleted})
		first <- status
	}()
	<-entered // the first delivery holds the claim and is applying
	status, code, _ := p.post(t, delivery{id: "msg_1", body: evMembershipDeleted})
	close(block)
	if status != http.StatusConflict || code != codeInProgress {
		t.Fatalf("a concurrent delivery: %d %q", status, code)
	}
	if s := <-first; s != http.StatusNoContent {
		t.Fatalf("the first delivery: %d", s)
	}
	if status, ack, _ := p.post(t, delivery{id: "msg_1", body: evMembershipDeleted}); status != http.StatusOK || ack != api.WebhookDuplicate {
		t.Fatalf("after it: %d %q", status, ack)
	}
}

// An svix-id over maxSvixIDLen is refused before it reaches the log or a
// log line.
func TestWebhookLongSvixIDIsRefused(t *testing.T) {
	t.Parallel()
	p := newHookPlane(t)
	for _, n := range []int{maxSvixIDLen + 1, 4096, 64 << 10} {
		status, code, _ := p.post(t, delivery{id: strings.Repeat("m", n), body: evMembershipDeleted})
		if status != http.StatusBadRequest || code != codeInvalidHeader {
			t.Errorf("svix-id of %d bytes: %d %q", n, status, code)
		}
	}
	if !p.bob(t).ValidAfter.IsZero() {
		t.Fatal("applied")
	}
	if status, code, _ := p.post(t, delivery{id: strings.Repeat("m", maxSvixIDLen), body: evMembershipDeleted}); status != http.StatusNoContent {
		t.Fatalf("svix-id of the maximum length: %d %q", status, code)
	}
}

// TestWebhookOtherHeaderFamilyIsRefused: svix's library verifies the
// webhook- headers when an svix- one is missing, while the svix-id and
// svix-timestamp are what is applied once and checked for age. A delivery
// captured once, its signature moved to the webhook- headers beside a
// fresh svix-id and svix-timestamp, would then be applied again at any
// age; it is refused, as is a delivery with only the webhook- headers.
func TestWebhookOtherHeaderFamilyIsRefused(t *testing.T) {
	t.Parallel()
	p := newHookPlane(t)
	captured := delivery{id: "msg_old", at: p.now(), body: evRole("org:admin")}
	if status, code, _ := p.post(t, captured); status != http.StatusNoContent {
		t.Fatalf("the original delivery: %d %q", status, code)
	}
	demoted := p.bob(t).Role
	if _, err := p.st.Store.UpdateUser(t.Context(), p.bobID, func(u *store.User) error { u.Role = "viewer"; return nil }); err != nil {
		t.Fatal(err)
	}
	p.advance(48 * time.Hour)
	old := p.headers(t, captured)
	variants := map[string]func(h http.Header){
		"fresh svix-id and svix-timestamp, no svix-signature": func(h http.Header) {
			h.Set("svix-id", "msg_fresh")
			h.Set("svix-timestamp", fmt.Sprint(p.now().Unix()))
		},
		"fresh svix-id and svix-timestamp, empty svix-signature": func(h http.Header) {
			h.Set("svix-id", "msg_fresh_2")
			h.Set("svix-timestamp", fmt.Sprint(p.now().Unix()))
			h.Set("svix-signature", "")
		},
		"webhook- headers alone": func(http.Header) {},
	}
	for name, set := range variants {
		h := http.Header{}
		h.Set("webhook-id", old.Get("svix-id"))
		h.Set("webhook-timestamp", old.Get("svix-timestamp"))
		h.Set("webhook-signature", old.Get("svix-signature"))
		set(h)
		if rec := p.postWith(captured.body, h); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"error":"`+codeInvalidSignature+`"`) {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	if got := p.bob(t).Role; got != "viewer" {
		t.Fatalf("a replayed delivery was applied: role %q (it was %q after the original)", got, demoted)
	}
}

// TestWebhookRoleThePolicyDropped: a membership update whose role maps to
// one the policy no longer defines gives viewer and ends the sessions, as
// a login would, instead of failing on every retry.
func TestWebhookRoleThePolicyDropped(t *testing.T) {
	t.Parallel()
	p := newHookPlane(t)
	if _, err := p.st.Store.UpdateOrg(t.Context(), "acme", func(o *store.Org) error {
		o.ClerkRoleMap["org:billing"] = "billing" // a role a later policy dropped
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.st.Store.UpdateUser(t.Context(), p.bobID, func(u *store.User) error { u.Role = "admin"; return nil }); err != nil {
		t.Fatal(err)
	}
	if status, code, _ := p.post(t, delivery{id: "msg_billing", body: evRole("org:billing")}); status != http.StatusNoContent {
		t.Fatalf("%d %q", status, code)
	}
	if u := p.bob(t); u.Role != "viewer" || u.ValidAfter.IsZero() {
		t.Fatalf("role %q, sessions ended %v", u.Role, !u.ValidAfter.IsZero())
	}
}

// organization.created provisions an organization only under an ID and a
// name that POST /v1/organizations would admit: a slug that does not fit
// the ID pattern gives way to the Clerk organization ID, a name that is
// not short printable text gives way to the ID, and an event with neither
// ID usable provisions nothing (and is acknowledged, since a retry would
// not change it).
func TestOrgProvisioningHoldsToTheOrgRules(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 65)
	for _, tc := range []struct {
		name, clerkID, slug, orgName string
		wantID, wantName             string
	}{
		{"plain", "org_new", "newco", "New Co", "newco", "New Co"},
		{"slug with a slash", "org_new", "../admin", "New", "org_new", "New"},
		{"slug with a space", "org_new", "new co", "New", "org_new", "New"},
		{"slug too long", "org_new", long, "New", "org_new", "New"},
		{"slug starting with a dot", "org_new", ".hidden", "New", "org_new", "New"},
		{"no slug", "org_new", "", "New", "org_new", "New"},
		{"name with a newline", "org_new", "newco", "New\nCo", "newco", "newco"},
		{"name with a bidi override", "org_new", "newco", "New\u202eoC", "newco", "newco"},
		{"name too long", "org_new", "newco", strings.Repeat("n", maxOrgName+1), "newco", "newco"},
		{"no name", "org_new", "newco", "", "newco", "newco"},
		{"neither ID usable", "org/../x", "a b", "New", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newHookPlane(t)
			data, _ := json.Marshal(map[string]string{"id": tc.clerkID, "name": tc.orgName, "slug": tc.slug})
			body := `{"type":"organization.created","data":` + string(data) + `}`
			if status, code, _ := p.post(t, delivery{id: "msg_org", body: body}); status != http.StatusNoContent {
				t.Fatalf("answer %d %q, want 204", status, code)
			}
			if tc.wantID == "" {
				if _, err := p.st.Store.OrgByClerkID(context.Background(), tc.clerkID); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("an organization was provisioned: %v", err)
				}
				return
			}
			o, err := p.st.Store.OrgByClerkID(context.Background(), tc.clerkID)
			if err != nil {
				t.Fatal(err)
			}
			if o.ID != tc.wantID || o.Name != tc.wantName {
				t.Errorf("provisioned %q named %q, want %q named %q", o.ID, o.Name, tc.wantID, tc.wantName)
			}
		})
	}
}

// A signing secret with no key, or too short a key to keep a forger from
// guessing it, is a configuration error: with "whsec_" alone anyone could
// sign an event (an HMAC under the empty key) and have it applied.
func TestWebhookSecretWithoutAKeyIsRefused(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{"whsec_", "whsec_" + base64.StdEncoding.EncodeToString([]byte("short"))} {
		_, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true,
			WebhookSecret: secret})
		if err == nil {
			t.Errorf("WebhookSecret %q accepted", secret)
		}
	}
}

// TestMembershipWebhookReadsClerkBack: with the Backend API, a membership
// event applies the membership Clerk holds when it is applied (GET
// /v1/organizations/{org}/memberships?user_id=…, as clerk-sdk-go asks):
// an event whose role Clerk no longer holds gives Clerk's role, and while
// the Backend API fails the event is a 503 with Retry-After, not applied
// and not recorded, so svix's retry applies it.
func TestMembershipWebhookReadsClerkBack(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		failing = true
		asked   []string
	)
	bapi := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" "+r.Header.Get("Authorization"))
		if failing {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":[{"object":"organization_membership","id":"orgmem_1","role":"org:admin","public_user_data":{"user_id":"user_bob"}}],"total_count":1}`)
	}))
	t.Cleanup(bapi.Close)
	p := newHookPlaneWith(t, func(c *Config) {
		c.HTTPClient = bapi.Client()
		c.Clerk = clerkauth.Config{SecretKey: "sk_test_bapi", APIURL: bapi.URL + "/v1"}
	})
	// The event says org:member; Clerk holds org:admin by now.
	status, code, rec := p.post(t, delivery{id: "msg_1", body: evRole("org:member")})
	if status != http.StatusServiceUnavailable || code != codeUpstream || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("Backend API down: %d %q", status, code)
	}
	if b := p.bob(t); b.Role != "viewer" || !b.ValidAfter.IsZero() {
		t.Fatalf("applied while the Backend API failed: %+v", b)
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	p.advance(5 * time.Second)
	if status, code, _ := p.post(t, delivery{id: "msg_1", body: evRole("org:member")}); status != http.StatusNoContent {
		t.Fatalf("the retry: %d %q", status, code)
	}
	if b := p.bob(t); b.Role != "admin" || b.ValidAfter.IsZero() {
		t.Errorf("after the retry: role %q (want Clerk's org:admin, mapped to admin), sessions ended before %v", b.Role, b.ValidAfter)
	}
	mu.Lock()
	defer mu.Unlock()
	want := "GET /v1/organizations/org_acme/memberships?limit=10&user_id=user_bob Bearer sk_test_bapi"
	if len(asked) != 2 || asked[1] != want {
		t.Errorf("the Backend API was asked %q, want twice %q", asked, want)
	}
}
