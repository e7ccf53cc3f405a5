package ssoerr

import (
	"errors"
	"fmt"
	"testing"
)

func TestClasses(t *testing.T) {
	cause := errors.New("connection refused")
	cases := []struct {
		name   string
		err    error
		is     []error
		isNot  []error
		reason Reason
	}{
		{"expired", New(ErrExpired, ReasonExpired, ""), []error{ErrExpired, ErrInvalidToken}, []error{ErrForbidden, ErrUpstream}, ReasonExpired},
		{"password", New(ErrInvalidCredentials, ReasonInvalidCredentials, "x"), []error{ErrInvalidCredentials}, []error{ErrInvalidToken, ErrForbidden}, ReasonInvalidCredentials},
		{"unknown key", New(ErrInvalidToken, ReasonUnknownAPIKey, ""), []error{ErrInvalidToken}, []error{ErrExpired}, ReasonUnknownAPIKey},
		{"upstream", Upstream(ReasonKeysUnavailable, cause), []error{ErrUpstream, cause}, []error{ErrInvalidToken}, ReasonKeysUnavailable},
		{"wrapped", fmt.Errorf("ctx: %w", Newf(ErrForbidden, ReasonPlanNotEntitled, "plan %q", "free")), []error{ErrForbidden}, []error{ErrInvalidToken}, ReasonPlanNotEntitled},
		{"bare", ErrNoCredentials, []error{ErrNoCredentials}, []error{ErrInvalidToken}, ""},
	}
	for _, c := range cases {
		for _, s := range c.is {
			if !errors.Is(c.err, s) {
				t.Errorf("%s: not %v", c.name, s)
			}
		}
		for _, s := range c.isNot {
			if errors.Is(c.err, s) {
				t.Errorf("%s: is %v", c.name, s)
			}
		}
		if got := ReasonOf(c.err); got != c.reason {
			t.Errorf("%s: reason %q, want %q", c.name, got, c.reason)
		}
	}
}

func TestErrorText(t *testing.T) {
	if got := New(ErrForbidden, ReasonSSORequired, "").Error(); got != "forbidden (sso_required)" {
		t.Errorf("got %q", got)
	}
	if got := New(ErrForbidden, ReasonSSORequired, "org acme").Error(); got != "forbidden (sso_required): org acme" {
		t.Errorf("got %q", got)
	}
}
