package armed_test

import (
	"fmt"

	"github.com/ssokit/ssokit/mockidp/internal/armed"
)

func Example() {
	s := armed.Set[string]{"token_500": 1}
	site := func(string) string { return "token" }
	fmt.Println(s.Take("token", site), s.Take("token", site))
	// Output: [token_500] []
}
