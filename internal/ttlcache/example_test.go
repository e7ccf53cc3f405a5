package ttlcache_test

import (
	"fmt"
	"time"

	"github.com/ssokit/ssokit/internal/ttlcache"
)

func Example() {
	seen := ttlcache.MustNew[struct{}](ttlcache.Config{MaxEntries: 10_000, TTL: 24 * time.Hour, NoEvict: true})
	exp := time.Now().Add(5 * time.Minute) // e.g. an assertion's NotOnOrAfter
	fmt.Println(seen.Insert("assertion-id", struct{}{}, exp))
	fmt.Println(seen.Insert("assertion-id", struct{}{}, exp))
	// Output:
	// <nil>
	// ttlcache: key exists
}
