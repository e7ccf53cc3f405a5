package ssometrics_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/ssokit/ssokit/ssoevent"
	"github.com/ssokit/ssokit/ssometrics"
	"github.com/ssokit/ssokit/ssometrics/prom"
)

// A program exports ssokit's decisions for Prometheus: the hook goes on
// the middleware (AuthenticatorConfig.OnEvent) or the control plane
// (Config.OnEvent), the handler on /metrics.
func Example() {
	exp, err := prom.New()
	if err != nil {
		panic(err)
	}
	m, err := ssometrics.New(exp.Provider)
	if err != nil {
		panic(err)
	}
	hook := m.Hook()
	hook(context.Background(), ssoevent.Event{Kind: ssoevent.Authentication, Outcome: ssoevent.Refused, Reason: "expired"})

	rec := httptest.NewRecorder()
	exp.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.Lines(rec.Body.String()) {
		if strings.HasPrefix(line, "ssokit_decisions_total{") {
			fmt.Print(line)
		}
	}
	// Output:
	// ssokit_decisions_total{auth_method="",credential="",idp_name="",kind="authentication",outcome="refused",reason="expired"} 1
}
