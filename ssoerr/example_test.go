package ssoerr_test

import (
	"errors"
	"fmt"

	"github.com/ssokit/ssokit/ssoerr"
)

// A caller matches the class with errors.Is and reads the specific check
// with ReasonOf.
func Example() {
	err := fmt.Errorf("authenticate: %w", ssoerr.New(ssoerr.ErrExpired, ssoerr.ReasonExpired, "exp 1796083723"))
	fmt.Println(errors.Is(err, ssoerr.ErrInvalidToken), errors.Is(err, ssoerr.ErrForbidden), ssoerr.ReasonOf(err))
	// Output: true false expired
}
