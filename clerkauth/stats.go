package clerkauth

// Stats are a Verifier's counters since it was made, for metrics: read
// them as often as a scrape asks; reading costs a few atomic loads.
type Stats struct {
	// TokenCacheHits and TokenCacheMisses count Verify calls answered from
	// the cache of verified tokens and those that verified the token.
	TokenCacheHits, TokenCacheMisses uint64
	// KeySetFetches counts fetches of the key set (JWKS), and
	// KeySetFetchFailures those that failed. Zero with PublicKeyPEM.
	KeySetFetches, KeySetFetchFailures uint64
}

// Stats returns the verifier's counters.
func (v *Verifier) Stats() Stats {
	var s Stats
	if v.cache != nil {
		s.TokenCacheHits, s.TokenCacheMisses = v.cache.Stats()
	}
	if rk, ok := v.keys.(remoteKeys); ok {
		s.KeySetFetches, s.KeySetFetchFailures = rk.cache.Stats()
	}
	return s
}
