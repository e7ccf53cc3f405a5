package controlplane

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/ssoevent"
	"github.com/ssokit/ssokit/store"
)

// codeInvalidQuery answers a query parameter that is malformed or out of
// range (400).
const codeInvalidQuery = "invalid_query"

// DefaultSSOLogSize is how many sign-in attempts of each organization the
// SSO log keeps when Config.SSOLogSize is zero.
const DefaultSSOLogSize = 200

// signIn is one sign-in's outcome, before it is recorded.
type signIn struct {
	orgID    string // resolved from the Clerk organization or the direct connection; "" when neither is known
	id       *idp.Identity
	login    *admission.Login
	person   *admission.Person
	protocol string
	err      error
	// unlogged: emitted, not kept in the organization's SSO log.
	unlogged bool
	// unverified: a refusal of an answer the IdP did not vouch for
	// (idp.Vouched false), kept apart in the log (store.SSOEvent).
	unverified bool
}

// recordSignIn emits the sign-in as an ssoevent (the logger, Config.OnEvent)
// and keeps it in the organization's SSO log. The organization is only
// ever the one the Clerk session's organization or the direct connection
// resolved: never one named by an address someone typed, or anyone could
// fill another organization's log. A failure to keep it is logged; the
// sign-in's answer does not depend on it.
func (a *API) recordSignIn(ctx context.Context, s signIn) {
	e := ssoevent.Event{Kind: ssoevent.SignIn, Outcome: ssoevent.Accepted, Time: a.now(), OrgID: s.orgID,
		AuthMethod: admission.MethodSSO, Protocol: s.protocol}
	if s.id != nil {
		e.Email, e.IdPName, e.Protocol = s.id.Email, string(s.id.IdP), string(s.id.Protocol)
	}
	if s.login != nil {
		e.Email, e.IdPName = s.login.Email, s.login.IdPName
		if e.OrgID == "" {
			e.OrgID = s.login.OrgID
		}
	}
	if s.person != nil {
		e.UserID, e.OrgID = s.person.UserID, s.person.OrgID
	}
	if e.OrgID == "" && s.login != nil && s.login.ClerkOrgID != "" {
		// A refused Clerk sign-in: the organization its Clerk
		// organization maps to (none: no organization's log). An
		// admitted one has it from the person, without this read.
		if o, err := a.st.OrgByClerkID(ctx, s.login.ClerkOrgID); err == nil {
			e.OrgID = o.ID
		}
	}
	switch err := s.err; {
	case err == nil:
	case errors.Is(err, ssoerr.ErrUpstream) || errors.Is(err, idp.ErrUpstream):
		e.Outcome, e.Reason, e.Check = ssoevent.Unavailable, reasonOf(err), checkOf(err)
	default:
		e.Outcome, e.Reason, e.Check = ssoevent.Refused, reasonOf(err), checkOf(err)
	}
	a.emit(ctx, e)
	log, ok := a.st.(store.SSOLog)
	if !ok || e.OrgID == "" || s.unlogged {
		return
	}
	keep := a.ssoLogSize()
	if s.unverified {
		keep = max(1, keep/unverifiedShare)
	}
	err := log.AddSSOEvent(ctx, store.SSOEvent{OrgID: e.OrgID, Time: e.Time, Email: e.Email, UserID: e.UserID, IdPName: e.IdPName,
		Protocol: e.Protocol, Outcome: string(e.Outcome), Reason: e.Reason, Check: e.Check, Unverified: s.unverified}, keep)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.log.Warn("controlplane: the SSO log could not keep a sign-in", "org", logValue(e.OrgID), "err", err)
	}
}

// recordPasswordSignIn emits a password sign-in as an ssoevent. It is
// kept in no organization's SSO log: the organization and the address
// were typed by whoever sent them, and a refusal names neither, so no one
// can write into another organization's log.
func (a *API) recordPasswordSignIn(ctx context.Context, person *admission.Person, err error) {
	e := ssoevent.Event{Kind: ssoevent.SignIn, Outcome: ssoevent.Accepted, Time: a.now(), AuthMethod: admission.MethodPassword}
	switch {
	case err == nil:
		e.UserID, e.OrgID, e.Email = person.UserID, person.OrgID, person.Email
	case errors.Is(err, ssoerr.ErrUpstream):
		e.Outcome, e.Reason = ssoevent.Unavailable, reasonOf(err)
	default:
		e.Outcome, e.Reason = ssoevent.Refused, reasonOf(err)
	}
	a.emit(ctx, e)
}

// emit sends a sign-in event to Config.Logger and Config.OnEvent.
func (a *API) emit(ctx context.Context, e ssoevent.Event) {
	ssoevent.Emitter{Logger: a.cfg.Logger, Hook: a.cfg.OnEvent}.Emit(ctx, e)
}

// ssoLogSize is how many sign-in attempts of each organization the SSO
// log keeps (Config.SSOLogSize or its default).
// unverifiedShare: an organization's SSO log keeps SSOLogSize events the
// identity provider vouched for (accepted sign-ins included) and, apart,
// SSOLogSize/unverifiedShare unverified refusals (at least one).
const unverifiedShare = 4

func (a *API) ssoLogSize() int {
	if a.cfg.SSOLogSize > 0 {
		return a.cfg.SSOLogSize
	}
	return DefaultSSOLogSize
}

// reasonOf is a refusal's stable reason, from the connector or from ssokit.
func reasonOf(err error) string {
	if r := idp.ReasonOf(err); r != "" {
		return r
	}
	return string(ssoerr.ReasonOf(err))
}

// checkOf says in words which check refused, for the organization's
// administrators: the public message of an admission refusal, the
// connector's detail for an identity provider's.
func checkOf(err error) string {
	var le *idp.LoginError
	if errors.As(err, &le) {
		return le.Detail
	}
	if m := middleware.Classify(err).Message; m != "" {
		return m
	}
	return strings.TrimPrefix(err.Error(), "idp: ")
}

// ssoEvents is GET /v1/organizations/{org}/sso/events[?limit=N]: the
// organization's latest sign-in attempts, newest first, for its admins
// and the platform administrator (orgAdmin).
func (a *API) ssoEvents(w http.ResponseWriter, r *http.Request) {
	log, ok := a.st.(store.SSOLog)
	if !ok {
		fail(w, http.StatusNotFound, codeNotFound, "this control plane's store keeps no SSO log")
		return
	}
	org, ok := a.pathOrg(w, r)
	if !ok {
		return
	}
	keep := a.ssoLogSize()
	keep += max(1, keep/unverifiedShare) // the log's whole size, unverified refusals included
	limit := min(50, keep)
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > keep {
			fail(w, http.StatusBadRequest, codeInvalidQuery, "limit must be a number from 1 to "+strconv.Itoa(keep))
			return
		}
		limit = n
	}
	// An answer holds at most a quarter unverified refusals (none when it
	// holds fewer than four events), so a flood of them hides no accepted
	// sign-in: the store is asked for as many more as the log holds.
	evs, err := log.SSOEvents(r.Context(), org.ID, limit+max(1, a.ssoLogSize()/unverifiedShare))
	if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not read")
		return
	}
	out := api.SSOEvents{Events: make([]api.SSOEvent, 0, min(limit, len(evs)))}
	unverified := 0
	for _, e := range evs {
		if len(out.Events) == limit {
			break
		}
		if e.Unverified {
			if unverified == limit/unverifiedShare {
				continue
			}
			unverified++
		}
		out.Events = append(out.Events, api.SSOEvent{ID: e.ID, Time: api.Time(e.Time), Email: e.Email, UserID: e.UserID,
			IdPName: e.IdPName, Protocol: e.Protocol, Outcome: e.Outcome, Reason: e.Reason, Check: e.Check, Unverified: e.Unverified})
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}
