package store

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SSOEvent is one sign-in attempt of an organization, kept so that its
// administrators can see why a person was refused. It never holds a
// token, an assertion or a secret: only what the attempt's Identity and
// refusal said.
type SSOEvent struct {
	// ID names the event; the store assigns one when it is empty.
	ID    string `json:"id"`
	OrgID string `json:"org_id"`
	// Time is when the attempt ended; the store's clock when zero.
	Time time.Time `json:"time"`
	// Email and UserID say who, when the identity provider said (an
	// attempt refused before that has neither).
	Email  string `json:"email,omitempty"`
	UserID string `json:"user_id,omitempty"`
	// IdPName and Protocol say through which connection.
	IdPName  string `json:"idp_name,omitempty"`
	Protocol string `json:"protocol,omitempty"`
	// Outcome is accepted, refused or unavailable; Reason the refusal's
	// stable code and Check, in words, the check that failed.
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	Check   string `json:"check,omitempty"`
	// Unverified marks a refusal of an answer the identity provider did
	// not vouch for (idp.Vouched false: a bad signature, a junk code), so
	// one anyone could have sent. Such events are kept apart from the
	// others: they never push out an accepted sign-in or a refusal the
	// IdP vouched for.
	Unverified bool `json:"unverified,omitempty"`
}

// MaxSSOEventField bounds each text field of a kept SSOEvent, in bytes.
const MaxSSOEventField = 256

// SSOLog keeps the newest sign-in attempts of each organization. Memory
// and sqlstore implement it; the control plane keeps a log only on a
// store that does.
type SSOLog interface {
	// AddSSOEvent records e under e.OrgID (ErrNotFound when there is no
	// such organization) and keeps only that organization's newest keep
	// events of e's kind (keep at least 1): unverified events count
	// against the unverified ones and push out only those, the others
	// against the others. Text fields are cleaned as CleanSSOEvent does.
	AddSSOEvent(ctx context.Context, e SSOEvent, keep int) error
	// SSOEvents returns up to limit of the organization's events, newest
	// first (by when they were added).
	SSOEvents(ctx context.Context, orgID string, limit int) ([]SSOEvent, error)
}

// CleanSSOEvent returns e with every text field valid UTF-8 without
// control characters, at most MaxSSOEventField bytes, and its time at
// Precision in UTC: what every SSOLog keeps, so that stores agree.
func CleanSSOEvent(e SSOEvent) SSOEvent {
	for _, f := range []*string{&e.ID, &e.OrgID, &e.Email, &e.UserID, &e.IdPName, &e.Protocol, &e.Outcome, &e.Reason, &e.Check} {
		*f = cleanField(*f)
	}
	if !e.Time.IsZero() {
		e.Time = Stamp(e.Time)
	}
	return e
}

func cleanField(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= MaxSSOEventField {
		return s
	}
	cut := MaxSSOEventField
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
