package middleware

// CacheStats counts lookups in an Authenticator's principal caches since
// it was made: a hit skips the credential's verification and its
// organization's checks at an unchanged store version.
type CacheStats struct {
	ClerkHits, ClerkMisses           uint64 // Clerk session tokens
	AppSessionHits, AppSessionMisses uint64 // the app's session cookies
	APIKeyHits, APIKeyMisses         uint64 // agent API keys
}

// Stats returns the authenticator's cache counters; reading them costs a
// few atomic loads.
func (a *Authenticator) Stats() CacheStats {
	var s CacheStats
	s.ClerkHits, s.ClerkMisses = a.clerkCache.Stats()
	s.AppSessionHits, s.AppSessionMisses = a.appCache.Stats()
	s.APIKeyHits, s.APIKeyMisses = a.keyCache.Stats()
	return s
}
