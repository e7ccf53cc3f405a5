package appsession_test

import (
	"fmt"

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
	_, err = m.Verify(tok[:len(tok)-2] + "AA")
	fmt.Println(ssoerr.ReasonOf(err))
	// Output:
	// usr_1 acme editor <nil>
	// signature
}
