package jwks

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/internal/limittest"
)

// TestHTTPFetcherReadsNoFurther: a 64 MiB key set is refused having
// allocated a few times MaxBody, not the body. Not parallel:
// limittest.Allocated reads process-wide counters.
func TestHTTPFetcherReadsNoFurther(t *testing.T) {
	head, pad := []byte(`{"keys":[],"pad":"`), []byte(strings.Repeat("x", 64<<10))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(head)
		for n := 0; n < 64<<20; n += len(pad) {
			if _, err := w.Write(pad); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	var err error
	alloc, took := limittest.Allocated(func() { _, err = HTTPFetcher(srv.Client(), srv.URL, nil)(context.Background()) })
	t.Logf("refused in %s, allocating %d bytes", took, alloc)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("a 64 MiB key set: %v", err)
	}
	if bound := limittest.Bound(4 * MaxBody); alloc > bound {
		t.Errorf("refusing a 64 MiB key set allocated %d bytes (bound %d)", alloc, bound)
	}
}
