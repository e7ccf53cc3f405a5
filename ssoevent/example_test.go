package ssoevent_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/ssokit/ssokit/ssoevent"
)

// An application counts refusals by reason with a hook and logs them as
// JSON; acceptances are logged only at Debug.
func Example() {
	refusals := map[string]int{}
	em := ssoevent.Emitter{
		Logger: slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{} // stable output for the example
				}
				return a
			}})),
		Hook: func(_ context.Context, e ssoevent.Event) {
			if e.Outcome == ssoevent.Refused {
				refusals[e.Reason]++
			}
		},
	}
	ctx := context.Background()
	em.Emit(ctx, ssoevent.Event{Kind: ssoevent.Authentication, Outcome: ssoevent.Accepted, Credential: "api_key", OrgID: "acme"})
	em.Emit(ctx, ssoevent.Event{Kind: ssoevent.Authentication, Outcome: ssoevent.Refused, Reason: "expired", Credential: "clerk_session"})
	fmt.Println(refusals)
	// Output:
	// {"level":"INFO","msg":"ssokit: authentication refused","kind":"authentication","outcome":"refused","reason":"expired","credential":"clerk_session"}
	// map[expired:1]
}
