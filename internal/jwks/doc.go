// Package jwks keeps a JSON Web Key Set per verifier: a TTL that hits never
// extend, a refresh on an unknown key ID at most once per interval and one
// at a time (every concurrent caller waits for the same fetch), and known
// keys kept while the set cannot be fetched. The Clerk verifier and the
// OIDC relying party share it.
//
// HTTPFetcher fetches a set over HTTP with a bounded body (MaxBody); Parse
// reads one, keeping at most MaxKeys public signing keys:
//
//	cache := &jwks.Cache{Fetch: jwks.HTTPFetcher(client, jwksURI, nil), TTL: time.Hour, Interval: time.Minute}
//	key, err := cache.Key(ctx, kid) // ErrUnknownKey, ErrUnavailable
package jwks
