package ssoevent

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestEmitterLevelsAndSilence(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	info := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	em := Emitter{Logger: info}
	if em.Active(ctx, slog.LevelDebug) {
		t.Error("an Info logger without a hook is active for Debug")
	}
	if !em.Active(ctx, slog.LevelInfo) {
		t.Error("an Info logger is not active for Info")
	}
	em.Emit(ctx, Event{Kind: Authentication, Outcome: Accepted, UserID: "u1"})
	if buf.Len() != 0 {
		t.Errorf("an acceptance was logged at Info: %s", buf.String())
	}
	em.Emit(ctx, Event{Kind: SignIn, Outcome: Refused, Reason: "domain_not_allowed", Email: "pat@evil.test"})
	if out := buf.String(); !strings.Contains(out, "reason=domain_not_allowed") || !strings.Contains(out, "kind=sign_in") {
		t.Errorf("refusal not logged with its reason: %s", out)
	}
	if (Emitter{}).Active(ctx, slog.LevelError) {
		t.Error("the zero Emitter is active")
	}
	var got []Event
	hooked := Emitter{Hook: func(_ context.Context, e Event) { got = append(got, e) }}
	if !hooked.Active(ctx, slog.LevelDebug) {
		t.Error("an emitter with a hook is not active")
	}
	hooked.Emit(ctx, Event{Kind: Authorization, Outcome: Refused})
	if len(got) != 1 || got[0].Kind != Authorization {
		t.Errorf("hook got %v", got)
	}
	Log(ctx, nil, Event{}) // a nil logger is silent, not a panic
}

func TestAttrsLeaveOutEmptyFields(t *testing.T) {
	a := Event{Kind: Authentication, Outcome: Unavailable, Reason: "keys_unavailable"}.Attrs()
	var keys []string
	for _, x := range a {
		keys = append(keys, x.Key)
	}
	if strings.Join(keys, ",") != "kind,outcome,reason" {
		t.Errorf("attrs %v", keys)
	}
}
