package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/ssokit/ssokit/internal/ttlcache"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
)

// webhookTolerance is how far a svix timestamp may be from now (svix's
// own libraries use the same five minutes).
const webhookTolerance = 5 * time.Minute

// WebhookLog remembers the svix message IDs already applied, so a
// redelivery (svix retries, or a replay of a captured request within the
// timestamp tolerance) is acknowledged without being applied twice.
// MemoryWebhookLog is the single-process implementation; replicas share a
// shared one (not shipped yet).
type WebhookLog interface {
	// Claim records id until the given time and reports whether it was
	// not recorded before. An error means it could not tell: the webhook
	// is then answered 503 and svix delivers it again.
	Claim(ctx context.Context, id string, until time.Time) (bool, error)
	// Release forgets id after its event failed to apply, so svix's retry
	// applies it.
	Release(ctx context.Context, id string) error
}

// MemoryWebhookLog is a bounded, expiring WebhookLog in process memory.
type MemoryWebhookLog struct{ ids *ttlcache.Cache[struct{}] }

// NewMemoryWebhookLog returns a log of at most maxIDs IDs (zero: 100,000),
// each kept at most a day.
func NewMemoryWebhookLog(maxIDs int, now func() time.Time) (*MemoryWebhookLog, error) {
	if maxIDs <= 0 {
		maxIDs = 100_000
	}
	c, err := ttlcache.New[struct{}](ttlcache.Config{MaxEntries: maxIDs, TTL: 24 * time.Hour, Now: now, NoEvict: true})
	if err != nil {
		return nil, err
	}
	return &MemoryWebhookLog{ids: c}, nil
}

// Claim implements WebhookLog. A log full of live IDs answers an error
// (svix retries later) rather than forget an ID and apply it twice.
func (l *MemoryWebhookLog) Claim(_ context.Context, id string, until time.Time) (bool, error) {
	switch err := l.ids.Insert(id, struct{}{}, until); err {
	case nil:
		return true, nil
	case ttlcache.ErrExists:
		return false, nil
	default:
		return false, err
	}
}

// Release implements WebhookLog.
func (l *MemoryWebhookLog) Release(_ context.Context, id string) error {
	l.ids.Delete(id)
	return nil
}

type clerkEvent struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// clerkWebhook is POST /webhooks/clerk: a svix-signed Clerk event. The
// signature is checked by svix's own library; the timestamp against this
// API's clock (so a test clock applies), within webhookTolerance.
func (a *API) clerkWebhook(w http.ResponseWriter, r *http.Request) {
	if a.svix == nil {
		fail(w, http.StatusNotFound, codeNotFound, "webhooks are not configured")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		fail(w, http.StatusRequestEntityTooLarge, codeTooLarge, "the body is too large")
		return
	}
	now := a.now()
	if err := a.svix.VerifyIgnoringTimestamp(body, r.Header); err != nil {
		a.log.Info("controlplane: webhook refused", "err", err)
		fail(w, http.StatusUnauthorized, codeInvalidSignature, "the webhook signature does not verify")
		return
	}
	sec, err := strconv.ParseInt(r.Header.Get("svix-timestamp"), 10, 64)
	if d := now.Sub(time.Unix(sec, 0)); err != nil || d > webhookTolerance || d < -webhookTolerance {
		a.log.Info("controlplane: webhook refused", "err", "svix-timestamp outside the tolerance")
		fail(w, http.StatusUnauthorized, codeInvalidSignature, "the webhook timestamp is too old or too new")
		return
	}
	id := r.Header.Get("svix-id")
	var ev clerkEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		fail(w, http.StatusBadRequest, codeInvalidJSON, "the event is not JSON")
		return
	}
	first, err := a.webhookLog.Claim(r.Context(), id, now.Add(24*time.Hour))
	if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not record the event")
		return
	}
	if !first {
		w.WriteHeader(http.StatusNoContent) // a redelivery of one already applied
		return
	}
	if err := a.handleEvent(r.Context(), ev); err != nil {
		_ = a.webhookLog.Release(r.Context(), id) // let svix retry
		a.log.Warn("controlplane: webhook failed", "type", ev.Type, "err", err)
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not apply the event")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) handleEvent(ctx context.Context, ev clerkEvent) error {
	switch ev.Type {
	case "organization.created":
		if !a.cfg.AutoProvisionOrgs {
			return nil
		}
		var o struct{ ID, Name, Slug string }
		if err := json.Unmarshal(ev.Data, &o); err != nil || o.ID == "" {
			return nil
		}
		id := o.Slug
		if id == "" {
			id = o.ID
		}
		err := a.st.CreateOrg(ctx, store.Org{ID: id, Name: o.Name, Plan: "growth", ClerkOrgID: o.ID, DefaultRole: string(rbac.Viewer), AutoCreateUsers: true})
		if errors.Is(err, store.ErrExists) {
			return nil
		}
		return err
	case "organizationMembership.deleted", "organizationMembership.updated":
		var m struct {
			Role         string `json:"role"`
			Organization struct {
				ID string `json:"id"`
			} `json:"organization"`
			PublicUserData struct {
				UserID string `json:"user_id"`
			} `json:"public_user_data"`
		}
		if err := json.Unmarshal(ev.Data, &m); err != nil {
			return nil
		}
		org, err := a.st.OrgByClerkID(ctx, m.Organization.ID)
		if err != nil {
			return nil // not one of ours
		}
		return a.forClerkUser(ctx, org.ID, m.PublicUserData.UserID, func(u store.User) error {
			if ev.Type == "organizationMembership.updated" {
				role, ok := org.ClerkRoleMap[m.Role]
				if !ok || len(org.GroupRoles) > 0 {
					return nil // group rules decide at the next login
				}
				if _, err := a.st.UpdateUser(ctx, u.ID, func(x *store.User) error { x.Role = role; return nil }); err != nil {
					return err
				}
			}
			return a.admit.RevokeUser(ctx, u.ID)
		})
	case "user.deleted":
		var u struct{ ID string }
		if err := json.Unmarshal(ev.Data, &u); err != nil || u.ID == "" {
			return nil
		}
		orgs, err := a.st.ListOrgs(ctx)
		if err != nil {
			return err
		}
		for _, o := range orgs {
			if err := a.forClerkUser(ctx, o.ID, u.ID, func(x store.User) error { return a.admit.RevokeUser(ctx, x.ID) }); err != nil {
				return err
			}
		}
	}
	return nil
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
