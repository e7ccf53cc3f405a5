package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/organizationmembership"
	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
)

// webhookTolerance is how far a svix timestamp may be from now (svix's
// own libraries use the same five minutes).
const webhookTolerance = 5 * time.Minute

// WebhookLog remembers the svix message IDs already applied, so a
// redelivery (svix retries, or a replay of a captured request within the
// timestamp tolerance) is acknowledged without being applied twice; it is
// store.WebhookLog (see there for the claim protocol). MemoryWebhookLog is
// a bounded single-process implementation; the SQL and Redis stores are
// shared by replicas.
type WebhookLog = store.WebhookLog

// WebhookClaim is what WebhookLog.Claim found (store.WebhookClaim).
type WebhookClaim = store.WebhookClaim

// The answers of WebhookLog.Claim.
const (
	WebhookNew        = store.WebhookNew
	WebhookApplied    = store.WebhookApplied
	WebhookInProgress = store.WebhookInProgress
)

// Webhook timing: an applied ID is remembered a day (svix retries for
// about 28 hours, but a redelivery after a day re-applies an event that
// is idempotent); an unfinished claim lapses after webhookLease.
const (
	webhookRemember = 24 * time.Hour
	webhookLease    = time.Minute
	// maxSvixIDLen bounds the svix-id header before it reaches the log
	// (svix's IDs are "msg_" and 27 characters).
	maxSvixIDLen = 128
	// minWebhookKey is the least HMAC key a WebhookSecret may hold.
	minWebhookKey = 16
)

// errWebhookLogFull is MemoryWebhookLog's answer when it holds maxIDs
// live IDs.
var errWebhookLogFull = errors.New("controlplane: the webhook log is full")

// MemoryWebhookLog is a bounded, expiring WebhookLog in process memory.
type MemoryWebhookLog struct {
	mu  sync.Mutex
	max int
	now func() time.Time
	ids map[string]webhookEntry
}

type webhookEntry struct {
	applied bool
	until   time.Time
}

// NewMemoryWebhookLog returns a log of at most maxIDs IDs (zero: 100,000),
// each kept at most a day; now is its clock (nil: time.Now).
func NewMemoryWebhookLog(maxIDs int, now func() time.Time) (*MemoryWebhookLog, error) {
	if maxIDs <= 0 {
		maxIDs = 100_000
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryWebhookLog{max: maxIDs, now: now, ids: map[string]webhookEntry{}}, nil
}

// room makes room for id, dropping expired IDs when the log is full; false
// when it holds maxIDs live ones. The caller holds l.mu.
func (l *MemoryWebhookLog) room(id string, now time.Time) bool {
	if _, ok := l.ids[id]; ok || len(l.ids) < l.max {
		return true
	}
	for k, e := range l.ids {
		if !now.Before(e.until) {
			delete(l.ids, k)
		}
	}
	return len(l.ids) < l.max
}

// Claim implements WebhookLog. A log full of live IDs answers an error
// (svix retries later) rather than forget an ID and apply it twice.
func (l *MemoryWebhookLog) Claim(_ context.Context, id string, lease time.Time) (WebhookClaim, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if e, ok := l.ids[id]; ok && now.Before(e.until) {
		if e.applied {
			return WebhookApplied, nil
		}
		return WebhookInProgress, nil
	}
	if !l.room(id, now) {
		return 0, errWebhookLogFull
	}
	l.ids[id] = webhookEntry{until: earlier(lease, now.Add(webhookRemember))}
	return WebhookNew, nil
}

// Done implements WebhookLog.
func (l *MemoryWebhookLog) Done(_ context.Context, id string, until time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.room(id, now) {
		return errWebhookLogFull
	}
	l.ids[id] = webhookEntry{applied: true, until: earlier(until, now.Add(webhookRemember))}
	return nil
}

// Release implements WebhookLog: it forgets a claim, never an applied ID.
func (l *MemoryWebhookLog) Release(_ context.Context, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.ids[id]; ok && !e.applied {
		delete(l.ids, id)
	}
	return nil
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

type clerkEvent struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// The Clerk events applied; any other type is acknowledged and ignored.
const (
	eventOrgCreated        = "organization.created"
	eventMembershipDeleted = "organizationMembership.deleted"
	eventMembershipUpdated = "organizationMembership.updated"
	eventUserDeleted       = "user.deleted"
)

// webhookEvent is a Clerk event decoded for handleEvent: the fields its
// type needs, each checked present.
type webhookEvent struct {
	Type string
	// organization.created
	ClerkOrgID, Name, Slug string
	// organizationMembership.*: ClerkOrgID, ClerkUserID and Role;
	// user.deleted: ClerkUserID.
	ClerkUserID, Role string
}

// errBadEvent is a signed event that does not decode or lacks a field its
// type needs: a 400, never silently acknowledged.
var errBadEvent = errors.New("the event is not a Clerk event this endpoint understands")

// decodeEvent decodes a Clerk event. Unknown types decode to their type
// alone; a known type with malformed or missing data is errBadEvent.
func decodeEvent(body []byte) (webhookEvent, error) {
	var ev clerkEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type == "" {
		return webhookEvent{}, errBadEvent
	}
	out := webhookEvent{Type: ev.Type}
	switch ev.Type {
	case eventOrgCreated:
		var o struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Slug string `json:"slug"`
		}
		if err := json.Unmarshal(ev.Data, &o); err != nil || o.ID == "" {
			return webhookEvent{}, errBadEvent
		}
		out.ClerkOrgID, out.Name, out.Slug = o.ID, o.Name, o.Slug
	case eventMembershipDeleted, eventMembershipUpdated:
		var m struct {
			Role         string `json:"role"`
			Organization struct {
				ID string `json:"id"`
			} `json:"organization"`
			PublicUserData struct {
				UserID string `json:"user_id"`
			} `json:"public_user_data"`
		}
		if err := json.Unmarshal(ev.Data, &m); err != nil || m.Organization.ID == "" || m.PublicUserData.UserID == "" {
			return webhookEvent{}, errBadEvent
		}
		out.ClerkOrgID, out.ClerkUserID, out.Role = m.Organization.ID, m.PublicUserData.UserID, m.Role
	case eventUserDeleted:
		var u struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(ev.Data, &u); err != nil || u.ID == "" {
			return webhookEvent{}, errBadEvent
		}
		out.ClerkUserID = u.ID
	}
	return out, nil
}

// known reports whether handleEvent applies the event's type.
func (ev webhookEvent) known() bool {
	switch ev.Type {
	case eventOrgCreated, eventMembershipDeleted, eventMembershipUpdated, eventUserDeleted:
		return true
	}
	return false
}

// clerkWebhook is POST /webhooks/clerk: a svix-signed Clerk event. The
// signature is checked by svix's own library; the timestamp against this
// API's clock (so a test clock applies), within webhookTolerance. Answers:
// 204 applied or ignored (a type not handled); 200 {"status":"duplicate"}
// for an svix-id already applied (not applied again); 400 invalid_json for
// a signed event that does not decode, invalid_header for an over-long
// svix-id; 401 invalid_signature, stale_webhook; 409 in_progress while
// another delivery of the same svix-id is being applied; 503 when the
// store or the log failed (nothing is recorded, so svix's retry applies
// the event).
func (a *API) clerkWebhook(w http.ResponseWriter, r *http.Request) {
	if a.svix == nil {
		fail(w, http.StatusNotFound, codeNotFound, "webhooks are not configured")
		return
	}
	id := r.Header.Get("svix-id")
	if len(id) > maxSvixIDLen {
		fail(w, http.StatusBadRequest, codeInvalidHeader, "the svix-id header is too long")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail(w, http.StatusRequestEntityTooLarge, codeTooLarge, "the body is too large")
			return
		}
		fail(w, http.StatusBadRequest, codeInvalidJSON, "the body could not be read")
		return
	}
	now := a.now()
	// svix's library falls back to the webhook-id, webhook-timestamp and
	// webhook-signature headers when any svix- header is missing, while
	// the ID applied once and the time checked below are the svix- ones:
	// a delivery signed under webhook- headers would carry unsigned ones.
	// Clerk sends the svix- family; all three must be there, so the ID and
	// time used are the ones svix verified.
	if id == "" || r.Header.Get("svix-timestamp") == "" || r.Header.Get("svix-signature") == "" {
		a.log.Info("controlplane: webhook refused", "err", "an svix- header is missing")
		fail(w, http.StatusUnauthorized, codeInvalidSignature, "the svix-id, svix-timestamp and svix-signature headers are required")
		return
	}
	if err := a.svix.VerifyIgnoringTimestamp(body, r.Header); err != nil {
		a.log.Info("controlplane: webhook refused", "err", err)
		fail(w, http.StatusUnauthorized, codeInvalidSignature, "the webhook signature does not verify")
		return
	}
	// svix signs the timestamp as the integer it parses, so "01800000000"
	// or "+1800000000" would carry the signature of 1800000000. svix
	// writes it in plain decimal; any other spelling is refused.
	stamp := r.Header.Get("svix-timestamp")
	sec, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil || strconv.FormatInt(sec, 10) != stamp {
		fail(w, http.StatusUnauthorized, codeInvalidSignature, "the webhook timestamp is not a Unix time in plain decimal")
		return
	}
	if d := now.Sub(time.Unix(sec, 0)); d > webhookTolerance || d < -webhookTolerance {
		a.log.Info("controlplane: webhook refused", "err", "svix-timestamp outside the tolerance", "svix_id", id)
		fail(w, http.StatusUnauthorized, codeStaleWebhook, "the webhook timestamp is more than five minutes from now")
		return
	}
	ev, err := decodeEvent(body)
	if err != nil {
		a.log.Info("controlplane: webhook refused", "err", err, "svix_id", id)
		fail(w, http.StatusBadRequest, codeInvalidJSON, err.Error())
		return
	}
	if !ev.known() {
		w.WriteHeader(http.StatusNoContent) // a type this endpoint does not handle
		return
	}
	switch claim, err := a.webhookLog.Claim(r.Context(), id, now.Add(webhookLease)); {
	case err != nil || (claim != WebhookNew && claim != WebhookApplied && claim != WebhookInProgress):
		a.log.Warn("controlplane: webhook log failed", "svix_id", id, "err", err)
		w.Header().Set("Retry-After", "5")
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not record the event")
		return
	case claim == WebhookApplied:
		writeJSON(w, http.StatusOK, api.WebhookAck{Status: api.WebhookDuplicate})
		return
	case claim == WebhookInProgress:
		w.Header().Set("Retry-After", "5")
		fail(w, http.StatusConflict, codeInProgress, "another delivery of this event is being applied")
		return
	}
	if err := a.handleEvent(r.Context(), ev); err != nil {
		if rerr := a.webhookLog.Release(r.Context(), id); rerr != nil {
			a.log.Warn("controlplane: releasing a webhook claim failed", "svix_id", id, "err", rerr) // it lapses at its lease
		}
		a.log.Warn("controlplane: webhook failed", "type", ev.Type, "svix_id", id, "err", err)
		w.Header().Set("Retry-After", "5")
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not apply the event")
		return
	}
	if err := a.webhookLog.Done(r.Context(), id, now.Add(webhookRemember)); err != nil {
		// Applied but not recorded: svix's retry applies it again, which
		// each handled event tolerates.
		_ = a.webhookLog.Release(r.Context(), id)
		a.log.Warn("controlplane: recording a webhook failed", "svix_id", id, "err", err)
		w.Header().Set("Retry-After", "5")
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not record the event")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleEvent applies a decoded event. Only a genuine store.ErrNotFound
// (an organization that is not ours) or store.ErrExists (an organization
// already provisioned) is success without a change; any other store error
// is returned, so the webhook is answered 503 and svix retries.
func (a *API) handleEvent(ctx context.Context, ev webhookEvent) error {
	switch ev.Type {
	case eventOrgCreated:
		if !a.cfg.AutoProvisionOrgs {
			return nil
		}
		id, name, ok := provisionedOrg(ev)
		if !ok {
			a.log.Warn("controlplane: organization.created names no usable organization ID; not provisioned", "clerk_org_id", logValue(ev.ClerkOrgID))
			return nil
		}
		err := a.st.CreateOrg(ctx, store.Org{ID: id, Name: name, Plan: "growth", ClerkOrgID: ev.ClerkOrgID, DefaultRole: string(rbac.Viewer), AutoCreateUsers: true})
		if errors.Is(err, store.ErrExists) {
			return nil
		}
		return err
	case eventMembershipDeleted, eventMembershipUpdated:
		org, err := a.st.OrgByClerkID(ctx, ev.ClerkOrgID)
		if errors.Is(err, store.ErrNotFound) {
			return nil // not one of ours
		} else if err != nil {
			return err
		}
		// The membership is read back once, and only when the person is
		// one of the organization's.
		var (
			read   bool
			role   string
			member bool
		)
		return a.forClerkUser(ctx, org.ID, ev.ClerkUserID, func(u store.User) error {
			if !read {
				var err error
				if role, member, err = a.clerkMembership(ctx, ev); err != nil {
					return err
				}
				read = true
			}
			if !member {
				return a.admit.RevokeUser(ctx, u.ID)
			}
			mapped, ok := org.ClerkRoleMap[role]
			if !ok || len(org.GroupRoles) > 0 {
				return nil // group rules decide at the next login
			}
			if !a.auth.Policy().Has(rbac.Role(mapped)) {
				// A mapping to a role the policy no longer defines
				// gives viewer, as a login would.
				mapped = string(rbac.Viewer)
			}
			// The role and the end of the sessions that carry the old
			// one, in one write: both or neither; nothing when the
			// person holds the role already (a redelivery, or an event
			// older than the membership read back).
			_, err := a.admit.ChangeRoleIf(ctx, u.ID, mapped, func(x store.User) error {
				if x.Role == mapped {
					return errRoleUnchanged
				}
				return nil
			})
			if errors.Is(err, errRoleUnchanged) {
				return nil
			}
			return err
		})
	case eventUserDeleted:
		orgs, err := a.st.ListOrgs(ctx)
		if err != nil {
			return err
		}
		for _, o := range orgs {
			if err := a.forClerkUser(ctx, o.ID, ev.ClerkUserID, func(x store.User) error { return a.admit.RevokeUser(ctx, x.ID) }); err != nil {
				return err
			}
		}
	}
	return nil
}

// errRoleUnchanged stops a membership webhook's role write that would
// change nothing.
var errRoleUnchanged = errors.New("controlplane: the role is unchanged")

// clerkID is the shape of a Clerk object ID (org_…, user_…): read back
// from the Backend API only in that shape, since it becomes part of a
// request path.
var clerkID = regexp.MustCompile(`^[A-Za-z0-9_]{1,128}$`)

// clerkMembership is the person's membership of the Clerk organization
// as the event is applied: svix delivers events in no guaranteed order
// and retries them for days, so with the Backend API (Config.Clerk's
// SecretKey) the membership is read back from Clerk, and the role it
// holds now, or its absence, is what is applied, whatever the event
// said. Without it, the event's own: member for an update with its role,
// not for a deletion. An error (Clerk unreachable or failing) is
// returned, so the webhook is answered 503 and svix retries.
func (a *API) clerkMembership(ctx context.Context, ev webhookEvent) (role string, member bool, err error) {
	if a.clerkMembers == nil || !clerkID.MatchString(ev.ClerkOrgID) || !clerkID.MatchString(ev.ClerkUserID) {
		return ev.Role, ev.Type == eventMembershipUpdated, nil
	}
	limit := int64(10)
	list, err := a.clerkMembers.List(ctx, &organizationmembership.ListParams{OrganizationID: ev.ClerkOrgID,
		UserIDs: []string{ev.ClerkUserID}, ListParams: clerk.ListParams{Limit: &limit}})
	var apiErr *clerk.APIErrorResponse
	if errors.As(err, &apiErr) && apiErr.HTTPStatusCode == http.StatusNotFound {
		return "", false, nil // the organization is gone, and its memberships
	}
	if err != nil {
		return "", false, fmt.Errorf("reading the membership back from Clerk: %w", err)
	}
	for _, m := range list.OrganizationMemberships {
		if m != nil && m.PublicUserData != nil && m.PublicUserData.UserID == ev.ClerkUserID {
			return m.Role, true, nil
		}
	}
	return "", false, nil
}

func (a *API) forClerkUser(ctx context.Context, orgID, clerkUserID string, fn func(store.User) error) error {
	if clerkUserID == "" {
		return nil
	}
	users, err := a.st.ListUsers(ctx, orgID)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.ClerkUserID == clerkUserID {
			if err := fn(u); err != nil {
				return err
			}
		}
	}
	return nil
}

// provisionedOrg is the ID and name of the app organization that
// organization.created provisions, held to what POST /v1/organizations
// admits: the Clerk slug as the ID, else the Clerk organization ID, when
// it fits orgIDPattern; the name when it is printable text of at most
// maxOrgName bytes, else the ID. False when neither ID fits.
func provisionedOrg(ev webhookEvent) (id, name string, ok bool) {
	switch {
	case orgIDPattern.MatchString(ev.Slug):
		id = ev.Slug
	case orgIDPattern.MatchString(ev.ClerkOrgID):
		id = ev.ClerkOrgID
	default:
		return "", "", false
	}
	name = ev.Name
	if name == "" || checkOrgText(&name, nil) != "" {
		name = id
	}
	return id, name, true
}
