package controlplane

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The memory webhook log: a claim is in progress until Done records the ID
// as applied, or Release forgets it, or its lease lapses; Release never
// forgets an applied ID; a log full of live IDs answers an error instead
// of forgetting one (which would apply that event twice).
func TestMemoryWebhookLog(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l, err := NewMemoryWebhookLog(16, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lease, until := now.Add(time.Minute), now.Add(time.Hour)
	claim := func(id string, want WebhookClaim) {
		t.Helper()
		if got, err := l.Claim(ctx, id, lease); got != want || err != nil {
			t.Fatalf("claim %s: %v %v, want %v", id, got, err, want)
		}
	}
	claim("msg_1", WebhookNew)
	claim("msg_1", WebhookInProgress)
	if err := l.Release(ctx, "msg_1"); err != nil {
		t.Fatal(err)
	}
	claim("msg_1", WebhookNew) // released: the retry applies it
	if err := l.Done(ctx, "msg_1", until); err != nil {
		t.Fatal(err)
	}
	claim("msg_1", WebhookApplied)
	if err := l.Release(ctx, "msg_1"); err != nil {
		t.Fatal(err)
	}
	claim("msg_1", WebhookApplied) // Release does not forget an applied ID

	claim("msg_lapsed", WebhookNew)
	now = now.Add(2 * time.Minute) // the claim's lease lapsed, never done
	claim("msg_lapsed", WebhookNew)
	claim("msg_1", WebhookApplied)

	var claimed []string
	failed := 0
	for i := range 100 {
		id := fmt.Sprint("flood_", i)
		switch got, err := l.Claim(ctx, id, now.Add(time.Hour)); {
		case err != nil:
			failed++
		case got == WebhookNew:
			claimed = append(claimed, id)
		}
	}
	if failed == 0 {
		t.Fatal("a full log took every ID")
	}
	for _, id := range claimed {
		claim(id, WebhookInProgress)
	}
	claim("msg_1", WebhookApplied)
	if err := l.Done(ctx, "another", until); err == nil {
		t.Fatal("a full log recorded another ID")
	}
}
