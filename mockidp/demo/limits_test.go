package demo_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/mockidp/demo"
)

// TestHeaderLimit: both of the demo's listeners, the app
// (controlplane.MaxHeaderBytes) and the mock platform, answer 431 to a
// request whose headers are over 64 KiB, and serve one under it.
func TestHeaderLimit(t *testing.T) {
	t.Parallel()
	d, err := demo.Start(context.Background(), demo.Config{AppAddr: "127.0.0.1:0", MockAddr: "127.0.0.1:0", Headless: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	for _, base := range []string{d.AppURL, d.MockURL} {
		for _, n := range []int{32 << 10, 256 << 10} {
			r, _ := http.NewRequest("GET", base+"/", nil)
			r.Header.Set("X-Padding", strings.Repeat("p", n))
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if over := resp.StatusCode == http.StatusRequestHeaderFieldsTooLarge; over != (n > 64<<10) {
				t.Errorf("%s with %d bytes of headers: %d", base, n, resp.StatusCode)
			}
		}
	}
}
