package mockidp

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// The Handler mounted in another server, with Config.BaseURL naming it.
func TestMountedHandler(t *testing.T) {
	t.Parallel()
	var h atomic.Pointer[http.Handler]
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*h.Load()).ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	cfg := DefaultConfig()
	cfg.BaseURL = ts.URL
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	handler := srv.Handler()
	h.Store(&handler)
	if srv.URL != ts.URL || srv.Persona("google").Issuer() != ts.URL+"/google" {
		t.Fatalf("URL %s issuer %s", srv.URL, srv.Persona("google").Issuer())
	}
	if _, _, err := newRP(t, srv, "google").login("bob@example-workspace.test"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if err := srv.Listen("127.0.0.1:0"); err == nil {
		t.Fatal("a server listened twice")
	}
}
