package controlplane

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
)

// webhookTolerance is how far a svix timestamp may be from now.
const webhookTolerance = 5 * time.Minute

// verifySvix checks the svix signature of a webhook: HMAC-SHA256 over
// "{svix-id}.{svix-timestamp}.{body}" with the base64-decoded whsec_
// secret, any of the space-separated v1 signatures, within 5 minutes.
func verifySvix(secret string, h http.Header, body []byte, now time.Time) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return "", errors.New("webhook secret is not a whsec_ secret")
	}
	id, ts, sigs := h.Get("svix-id"), h.Get("svix-timestamp"), h.Get("svix-signature")
	if id == "" || ts == "" || sigs == "" {
		return "", errors.New("svix headers missing")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", errors.New("svix-timestamp is not a number")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > webhookTolerance || d < -webhookTolerance {
		return "", errors.New("svix-timestamp outside the 5-minute tolerance")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	want := m.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		if got, err := base64.StdEncoding.DecodeString(b64); err == nil && hmac.Equal(got, want) {
			return id, nil
		}
	}
	return "", errors.New("no matching svix signature")
}

type clerkEvent struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

func (a *API) webhook(w http.ResponseWriter, r *http.Request) {
	if a.cfg.WebhookSecret == "" {
		fail(w, http.StatusNotFound, codeNotFound, "webhooks are not configured")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		fail(w, http.StatusRequestEntityTooLarge, codeTooLarge, "the body is too large")
		return
	}
	now := a.now()
	id, err := verifySvix(a.cfg.WebhookSecret, r.Header, body, now)
	if err != nil {
		a.log.Info("controlplane: webhook refused", "err", err)
		fail(w, http.StatusUnauthorized, codeInvalidSignature, "the webhook signature does not verify")
		return
	}
	if _, dup := a.seen.LoadOrStore(id, now); dup {
		w.WriteHeader(http.StatusNoContent) // a replay (or svix retry) of one already handled
		return
	}
	a.seen.Range(func(k, v any) bool { // forget ids past the tolerance
		if now.Sub(v.(time.Time)) > 2*webhookTolerance {
			a.seen.Delete(k)
		}
		return true
	})
	var ev clerkEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		a.seen.Delete(id)
		fail(w, http.StatusBadRequest, codeInvalidJSON, "the event is not JSON")
		return
	}
	if err := a.handleEvent(r.Context(), ev); err != nil {
		a.seen.Delete(id) // let svix retry
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
			return a.auth.RevokeUser(ctx, u.ID)
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
			if err := a.forClerkUser(ctx, o.ID, u.ID, func(x store.User) error { return a.auth.RevokeUser(ctx, x.ID) }); err != nil {
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
