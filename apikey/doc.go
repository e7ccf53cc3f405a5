// Package apikey creates and checks agent API keys: long random strings
// with a recognizable prefix (ssk_live_...), shown once at creation and
// stored only as a SHA-256 hash. Verify refuses an unknown, revoked or
// expired key, each with its own ssoerr reason, and records the key's last
// use in memory; Flush (or RunFlusher) writes those times in batches.
//
// Whether the key's organization accepts API keys at all is a rule of the
// organization, decided by package admission; package middleware composes
// the two.
//
//	keys, err := apikey.New(apikey.Config{Store: st})
//	plain, meta, err := keys.Create(ctx, "acme", "deploy bot", "editor", time.Time{})
//	k, err := keys.Verify(ctx, plain)
package apikey
