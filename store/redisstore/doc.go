// Package redisstore keeps package store's expiring state in Redis
// (github.com/redis/go-redis/v9), shared by every replica: session
// revocations, one-time values, webhook message IDs and login counts
// (store.Expiring).
//
//	s, err := redisstore.New(ctx, redisstore.Config{URL: "redis://127.0.0.1:6379/0", Prefix: "ssokit:"})
//
// Every key, and the channel on which revocations are announced, lives
// under Config.Prefix, so deployments (and test runs) that share one Redis
// do not collide. A key is the prefix, its kind and the hex SHA-256 of the
// caller's key, so any byte string is a safe key of bounded length:
// prefix + "revoked:" + sha256(jti), "once:" (one-time values),
// "webhook:" (webhook IDs), and "rate:" + sha256(key) + ":" + the window
// length in nanoseconds + ":" + the window's start (Unix seconds and
// nanoseconds) for login counts.
//
// Expiry is decided by the store's clock (Config.Now), not Redis's: each
// value holds the time it expires at, and a value past it is absent even
// while Redis still holds it. Redis's TTL, set from the same clock, only
// cleans up, store.CleanupGrace after the value expires, so a replica
// whose clock is behind still finds what one whose clock runs ahead wrote. Checks and writes that must be atomic (consume once, keep the
// longest revocation, claim a webhook ID, count in a window) run as Lua
// scripts.
//
// Store implements store.Versioned: RevokeToken announces itself on
// Prefix + "changes" and every replica's Store moves its Version when it
// hears of it, so callers that cache what they checked at a version check
// again. A Store that loses that subscription could miss another replica's
// revocation: it moves its Version, becomes Degraded and answers every
// call with an error wrapping store.ErrUnavailable until it has subscribed
// again (it retries by itself with capped backoff), then moves its Version
// once more. Any Redis error is store.ErrUnavailable too, never "not
// revoked" or "not used".
package redisstore
