package appsession_test

import (
	"fmt"
	"strings"

	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/ssoerr"
)

func Example() {
	m, err := appsession.New(appsession.Config{Keys: []appsession.Key{appsession.EphemeralKey()}, Issuer: "https://app.example.com"})
	if err != nil {
		panic(err)
	}
	tok, _, _ := m.Issue(appsession.Claims{Subject: "usr_1", OrgID: "acme", Role: "editor", AuthMethod: "sso"})
	c, err := m.Verify(tok)
	fmt.Println(c.Subject, c.OrgID, c.Role, err)
	// One character of the signature changed (its first, which always
	// carries six bits of it).
	b := []byte(tok)
	i := strings.LastIndexByte(tok, '.') + 1
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	_, err = m.Verify(string(b))
	fmt.Println(ssoerr.ReasonOf(err))
	// Output:
	// usr_1 acme editor <nil>
	// signature
}
