package state_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"

	"github.com/ssokit/ssokit/internal/state"
)

// A login's state: encoded at the start of the flow, decoded when the
// identity provider answers, refused in another browser.
func Example() {
	key := bytes.Repeat([]byte{7}, 32) // in a program: 32 random bytes from configuration
	codec, err := state.New(state.Config{Key: key})
	if err != nil {
		log.Fatal(err)
	}
	nonce, _ := codec.NewNonce() // kept in this browser's cookie
	v, err := codec.Encode(state.Payload{ConnectionID: "acme", ReturnTo: "/dashboard", Nonce: nonce, RequestID: "id-42"})
	if err != nil {
		log.Fatal(err)
	}

	p, err := codec.Decode(v, nonce)
	fmt.Println(p.ConnectionID, p.ReturnTo, p.RequestID, err)

	other, _ := codec.NewNonce() // another browser's cookie
	_, err = codec.Decode(v, other)
	fmt.Println(errors.Is(err, state.ErrWrongBrowser))
	// Output:
	// acme /dashboard id-42 <nil>
	// true
}

// Return-to paths are kept on this site.
func ExampleLocalPath() {
	for _, p := range []string{"/settings?tab=sso", "//evil.example", "/%5Cevil.example", "https://evil.example"} {
		_, err := state.LocalPath(p)
		fmt.Println(p, err == nil)
	}
	// Output:
	// /settings?tab=sso true
	// //evil.example false
	// /%5Cevil.example false
	// https://evil.example false
}
