package controlplane_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/sso"
	"github.com/ssokit/ssokit/store"
)

// TestUnbuildableConnectionIsNotFetchedPerRequest: anyone may start a
// sign-in, and building an organization's connector fetches the tenant's
// metadata or discovery. While that fetch fails, concurrent starts wait
// for one build, and later starts are answered from memory until
// connFailureTTL (30 s) has passed; a changed connection is built at once.
func TestUnbuildableConnectionIsNotFetchedPerRequest(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		time.Sleep(50 * time.Millisecond) // long enough for the concurrent starts to meet
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	var offset atomic.Int64
	p := newPlaneWith(t, nil, func(c *controlplane.Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	})
	ctx := context.Background()
	if _, err := p.admin.Organizations.Create(ctx, "hooli", "Hooli", "enterprise"); err != nil {
		t.Fatal(err)
	}
	// The connection as saved while the IdP answered; it is down now.
	setMetadataURL := func(u string) {
		t.Helper()
		conn, _ := json.Marshal(idp.Connection{ID: "hooli", Protocol: sso.SAML, Vendor: sso.Okta,
			SAML: &idp.SAMLSettings{IDPMetadataURL: u, EntityID: p.app.URL + "/saml/hooli", ACSURL: p.app.URL + "/auth/sso/acs/hooli"}})
		if _, err := p.st.UpdateOrg(ctx, "hooli", func(o *store.Org) error {
			o.Connection, o.SSOConfigured, o.AllowedDomains = conn, true, []string{"hooli.test"}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	setMetadataURL(down.URL + "/metadata")
	start := func() {
		resp, err := http.Get(p.app.URL + "/auth/sso/start?org=hooli")
		if err != nil {
			t.Error(err)
			return
		}
		body := readAll(resp)
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "connection_error") {
			t.Errorf("start: %d %s, want 502 connection_error", resp.StatusCode, body)
		}
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(start)
	}
	wg.Wait()
	for range 10 {
		start()
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("20 starts fetched the metadata %d times, want 1", n)
	}
	offset.Store(int64(31 * time.Second))
	start()
	if n := hits.Load(); n != 2 {
		t.Fatalf("after 31 s: %d fetches, want 2", n)
	}
	setMetadataURL(down.URL + "/other-metadata")
	start()
	if n := hits.Load(); n != 3 {
		t.Fatalf("a changed connection: %d fetches, want 3", n)
	}
}
