package mockclerk_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/ssokit/ssokit/mockidp"
)

// The first sign-ins through a connection, at once: each one that finds
// no connector yet must not register the mock Clerk at the persona under
// another client secret than the connector that finishes the others'
// sign-ins (OIDC), so every one of them succeeds.
func TestConcurrentFirstSignIns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ persona, domain string }{{"azure", "contoso.test"}, {"okta", "acme.test"}} {
		t.Run(tc.persona, func(t *testing.T) {
			t.Parallel()
			srv := mockidp.Start(t, mockidp.DefaultConfig())
			c := srv.Clerk("clerk")
			app := httptest.NewServer(http.NotFoundHandler())
			t.Cleanup(app.Close)
			p := srv.Persona(tc.persona)
			const n = 30
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				email := fmt.Sprintf("first%02d@%s", i, tc.domain)
				if err := p.PutUser(mockidp.UserConfig{Email: email}); err != nil {
					t.Fatal(err)
				}
				wg.Go(func() {
					<-start
					if _, err := c.SignIn(jarClient(srv), email, app.URL+"/callback"); err != nil {
						t.Errorf("%s: %v", email, err)
					}
				})
			}
			close(start)
			wg.Wait()
		})
	}
}
