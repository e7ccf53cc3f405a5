package demo_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ssokit/ssokit/mockidp/demo"
)

// Starting the demo on free ports, as a test would; ssokit demo uses
// 127.0.0.1:4450 and :4451.
func Example() {
	d, err := demo.Start(context.Background(), demo.Config{AppAddr: "127.0.0.1:0", MockAddr: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	fmt.Println(d.Clerk.SignInURL() != "", demo.PasswordEmail)
	// Output: true dave@acme.test
}
