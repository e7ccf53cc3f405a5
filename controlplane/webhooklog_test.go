package controlplane

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The memory webhook log claims an ID once, again after a release, and
// when full of live IDs answers an error instead of forgetting one (which
// would apply that event twice).
func TestMemoryWebhookLog(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l, err := NewMemoryWebhookLog(16, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	until := now.Add(time.Hour)
	if first, err := l.Claim(ctx, "msg_1", until); !first || err != nil {
		t.Fatalf("first claim: %v %v", first, err)
	}
	if first, err := l.Claim(ctx, "msg_1", until); first || err != nil {
		t.Fatalf("second claim: %v %v", first, err)
	}
	if err := l.Release(ctx, "msg_1"); err != nil {
		t.Fatal(err)
	}
	if first, _ := l.Claim(ctx, "msg_1", until); !first {
		t.Fatal("a released ID is not claimable")
	}
	var claimed []string
	failed := 0
	for i := range 100 {
		id := fmt.Sprint("flood_", i)
		switch first, err := l.Claim(ctx, id, until); {
		case err != nil:
			failed++
		case first:
			claimed = append(claimed, id)
		}
	}
	if failed == 0 {
		t.Fatal("a full log took every ID")
	}
	for _, id := range append(claimed, "msg_1") {
		if first, err := l.Claim(ctx, id, until); first || err != nil {
			t.Fatalf("%s forgotten under a flood: %v %v", id, first, err)
		}
	}
}
