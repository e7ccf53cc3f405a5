package redisstore

import (
	"testing"
	"time"
)

// SetFirstBackoff makes the Stores created during t wait d before their
// first attempt to subscribe again, so a test can act while one is
// degraded.
func SetFirstBackoff(t testing.TB, d time.Duration) {
	old := firstBackoff
	firstBackoff = d
	t.Cleanup(func() { firstBackoff = old })
}
