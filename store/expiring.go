package store

import (
	"context"
	"errors"
	"time"
)

// ErrReplayed is the answer of ReplayCache.Consume for a key already
// consumed and not yet expired.
var ErrReplayed = errors.New("store: already used")

// ReplayCache remembers one-time values (SAML assertion IDs, the nonce of
// a sign-in state) until they expire, so each is accepted once, across
// every replica that shares the implementation.
type ReplayCache interface {
	// Consume records key until the given time. It returns an error
	// wrapping ErrReplayed when key is recorded and not expired, and any
	// other error when it cannot tell (the caller then refuses: never
	// accept a value it could not record).
	Consume(ctx context.Context, key string, until time.Time) error
}

// WebhookClaim is what WebhookLog.Claim found. Its zero value is no
// answer, and is treated as an error.
type WebhookClaim int

// The answers of WebhookLog.Claim.
const (
	// WebhookNew: the ID was neither applied nor claimed; it now is.
	WebhookNew WebhookClaim = iota + 1
	// WebhookApplied: the ID's event was applied.
	WebhookApplied
	// WebhookInProgress: another delivery of the ID holds the claim.
	WebhookInProgress
)

// WebhookLog remembers the webhook message IDs (svix-id) already applied,
// so a redelivery is acknowledged without being applied twice. An ID is
// recorded as applied only after its event was applied (Done): a delivery
// that fails releases its claim, and a claim never finished lapses at its
// lease.
type WebhookLog interface {
	// Claim takes id for one delivery until lease and says what it found:
	// WebhookNew (the caller applies the event, then calls Done or
	// Release), WebhookApplied (recorded by Done, not expired) or
	// WebhookInProgress (another delivery holds an unexpired claim). An
	// error means it could not tell.
	Claim(ctx context.Context, id string, lease time.Time) (WebhookClaim, error)
	// Done records id as applied until the given time.
	Done(ctx context.Context, id string, until time.Time) error
	// Release forgets the claim on id, so a retry applies the event.
	Release(ctx context.Context, id string) error
}

// RateCounter counts events per key in fixed windows, for login rate
// limits shared by replicas.
type RateCounter interface {
	// Hit records one event for key in the current window of the given
	// length (windows are aligned to the Unix epoch: the window of t
	// starts at the last multiple of window since 1970-01-01 00:00 UTC, at
	// or before t; not at t.Truncate(window), which counts from Go's zero
	// time and differs for lengths that do not divide a day) and returns
	// how many events the key has in that window, this one included. An
	// error means it could not count (the caller then refuses the
	// attempt).
	Hit(ctx context.Context, key string, window time.Duration) (int64, error)
}

// Expiring is the state that lives only until it expires and that
// replicas must share: session revocations, one-time values, webhook
// idempotency and login counts. The SQL stores hold it in tables with a
// sweeper; a Redis implementation can hold it instead.
type Expiring interface {
	Revocations
	ReplayCache
	WebhookLog
	RateCounter
}
