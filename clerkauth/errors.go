package clerkauth

import "github.com/ssokit/ssokit/ssoerr"

func invalid(r ssoerr.Reason, detail string) error {
	return ssoerr.New(ssoerr.ErrInvalidToken, r, detail)
}

func invalidf(r ssoerr.Reason, format string, args ...any) error {
	return ssoerr.Newf(ssoerr.ErrInvalidToken, r, format, args...)
}
