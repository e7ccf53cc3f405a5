package middleware

import (
	"context"
	"testing"
	"time"

	clerk "github.com/clerk/clerk-sdk-go/v2"
	"github.com/ssokit/ssokit/clerkauth"
)

type parentKey struct{}

// TestRequestContext: the one context value Handler adds answers the
// principal and clerk-sdk-go's session claims (only for a Clerk session),
// passes every other key to its parent, and keeps the parent's
// cancellation, also for contexts derived from it.
func TestRequestContext(t *testing.T) {
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), parentKey{}, "parent"))
	claims := &clerk.SessionClaims{}
	claims.SessionID = "sess_1"
	clerkP := &Principal{UserID: "u1", Clerk: &clerkauth.Session{Claims: claims}}
	appP := &Principal{UserID: "u2"}

	ctx := withRequest(parent, clerkP)
	if p, ok := PrincipalFrom(ctx); !ok || p != clerkP {
		t.Fatalf("principal %v %v, want the Clerk one", p, ok)
	}
	if c, ok := clerk.SessionClaimsFromContext(ctx); !ok || c != claims {
		t.Fatalf("clerk-sdk-go finds claims %v %v, want the session's", c, ok)
	}
	if v := ctx.Value(parentKey{}); v != "parent" {
		t.Fatalf("the parent's value is %v", v)
	}
	if v := ctx.Value(struct{ k string }{"x"}); v != nil {
		t.Fatalf("an unknown key is answered with %v", v)
	}

	app := withRequest(parent, appP)
	if c, ok := clerk.SessionClaimsFromContext(app); ok {
		t.Fatalf("an app session's context holds Clerk claims %v", c)
	}
	// A Clerk principal below an app one: the nearest answers.
	nested := withRequest(ctx, appP)
	if p, _ := PrincipalFrom(nested); p != appP {
		t.Fatalf("nested principal %v, want the inner one", p)
	}
	if c, ok := clerk.SessionClaimsFromContext(nested); !ok || c != claims {
		t.Fatalf("nested: the outer Clerk claims are lost: %v %v", c, ok)
	}

	derived, stop := context.WithTimeout(ctx, time.Hour)
	defer stop()
	cancel()
	select {
	case <-derived.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the parent does not reach a context derived from the request's")
	}
	if ctx.Err() != context.Canceled {
		t.Fatalf("the request context's Err is %v", ctx.Err())
	}
}
