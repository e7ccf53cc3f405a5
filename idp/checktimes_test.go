package idp

import (
	"testing"
	"time"

	"github.com/crewjam/saml"
)

// TestCheckTimes: the windows an IdP-signed assertion may claim. Each
// refusal for its own reason; a sane assertion passes.
func TestCheckTimes(t *testing.T) {
	now := time.Date(2027, 1, 15, 8, 0, 0, 0, time.UTC)
	s := &samlConnector{}
	sane := func() *saml.Assertion {
		return &saml.Assertion{IssueInstant: now,
			Conditions: &saml.Conditions{NotBefore: now.Add(-time.Minute), NotOnOrAfter: now.Add(5 * time.Minute)},
			Subject: &saml.Subject{SubjectConfirmations: []saml.SubjectConfirmation{{
				SubjectConfirmationData: &saml.SubjectConfirmationData{NotOnOrAfter: now.Add(5 * time.Minute)}}}},
			AuthnStatements: []saml.AuthnStatement{{AuthnInstant: now.Add(-time.Minute)}}}
	}
	if err := s.checkTimes(sane(), now); err != nil {
		t.Fatalf("a sane assertion: %v", err)
	}
	for name, c := range map[string]struct {
		mod    func(*saml.Assertion)
		reason string
	}{
		"Conditions valid for a day": {func(a *saml.Assertion) { a.Conditions.NotOnOrAfter = now.Add(24 * time.Hour) }, ReasonAssertionLifetime},
		// The Conditions are short; the bearer confirmation is not.
		"SubjectConfirmationData valid for a day": {func(a *saml.Assertion) {
			a.Subject.SubjectConfirmations[0].SubjectConfirmationData.NotOnOrAfter = now.Add(24 * time.Hour)
		}, ReasonAssertionLifetime},
		// A future AuthnInstant would have a negative age and pass the
		// re-authentication bound forever.
		"AuthnInstant an hour ahead": {func(a *saml.Assertion) { a.AuthnStatements[0].AuthnInstant = now.Add(time.Hour) }, ReasonNotYetValid},
		"no AuthnInstant":            {func(a *saml.Assertion) { a.AuthnStatements[0].AuthnInstant = time.Time{} }, ReasonMalformed},
		"AuthnInstant a day old":     {func(a *saml.Assertion) { a.AuthnStatements[0].AuthnInstant = now.Add(-24 * time.Hour) }, ReasonAuthnTooOld},
	} {
		a := sane()
		c.mod(a)
		if got := ReasonOf(s.checkTimes(a, now)); got != c.reason {
			t.Errorf("%s: reason %q, want %q", name, got, c.reason)
		}
	}
}
