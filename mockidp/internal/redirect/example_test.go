package redirect_test

import (
	"fmt"

	"github.com/ssokit/ssokit/mockidp/internal/redirect"
)

func ExampleAllowed() {
	reg := []string{"http://127.0.0.1/callback"}
	fmt.Println(redirect.Allowed(reg, "http://127.0.0.1:8123/callback"), redirect.Allowed(reg, "http://127.0.0.1:8123/callback/../x"))
	// Output: true false
}
