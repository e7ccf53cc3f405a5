package controlplane_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/store"
	"github.com/ssokit/ssokit/store/sqlstore"
)

// With StoreDSN the control plane opens the SQL store itself: what it
// saves is in the file after Close, and a control plane opened on the same
// file again (a restart) has it.
func TestStoreDSNSurvivesARestart(t *testing.T) {
	t.Parallel()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "ssokit.db")
	key := appsession.EphemeralKey()
	open := func() *controlplane.API {
		t.Helper()
		cp, err := controlplane.New(controlplane.Config{AppURL: "https://app.example", StateKey: bytes.Repeat([]byte("s"), 32),
			SessionKeys: []appsession.Key{key}, StoreDSN: dsn, BootstrapAdminKey: adminKey})
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	cp := open()
	if _, ok := cp.Store().(*sqlstore.Store); !ok {
		t.Fatalf("store %T", cp.Store())
	}
	if o := createAcme(t, cp); o.ID != "acme" {
		t.Fatalf("created %+v", o)
	}
	if err := cp.Close(); err != nil {
		t.Fatal(err)
	}
	cp = open()
	defer cp.Close()
	if o, err := cp.Store().GetOrg(context.Background(), "acme"); err != nil || o.Plan != "enterprise" {
		t.Fatalf("after a restart: %+v %v", o, err)
	}
	// Both a Store and a StoreDSN (or Expiring and RedisURL) is a
	// configuration error, and so are a DSN of no known kind (nothing is
	// created for it) and a Redis that does not answer.
	mem, _ := store.NewMemory(store.MemoryConfig{})
	for name, tc := range map[string]struct {
		cfg  controlplane.Config
		says string
	}{
		"store and DSN":        {controlplane.Config{Store: mem, StoreDSN: dsn}, "set Store or StoreDSN"},
		"bad scheme":           {controlplane.Config{StoreDSN: "mysql://x"}, "StoreDSN"},
		"expiring and Redis":   {controlplane.Config{Expiring: mem, RedisURL: "redis://127.0.0.1:1/0"}, "set Expiring or RedisURL"},
		"Redis that is not up": {controlplane.Config{RedisURL: "redis://127.0.0.1:1/0"}, "RedisURL"},
	} {
		cfg := tc.cfg
		cfg.AppURL, cfg.StateKey, cfg.EphemeralSessionKey = "https://app.example", bytes.Repeat([]byte("s"), 32), true
		if _, err := controlplane.New(cfg); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want an error saying %q", name, err, tc.says)
		}
	}
}

// createAcme creates organization acme through cp's API.
func createAcme(t *testing.T, cp *controlplane.API) api.Org {
	t.Helper()
	srv := newTestServer(t, cp)
	o, err := newClient(t, srv, adminKey, nil).Organizations.Create(context.Background(), "acme", "Acme", "enterprise")
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// Config.StoreObserver is told of the statements of the store the control
// plane opens from StoreDSN, named "sql".
func TestStoreObserver(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		ops = map[string]int{}
	)
	cp, err := controlplane.New(controlplane.Config{AppURL: "https://app.example", StateKey: bytes.Repeat([]byte("s"), 32),
		SessionKeys: []appsession.Key{appsession.EphemeralKey()}, StoreDSN: "sqlite:" + filepath.Join(t.TempDir(), "ssokit.db"),
		BootstrapAdminKey: adminKey, StoreObserver: func(store, op string, d time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			ops[store+" "+op]++
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cp.Close() })
	createAcme(t, cp)
	mu.Lock()
	defer mu.Unlock()
	if ops["sql write"] == 0 || ops["sql read"] == 0 {
		t.Fatalf("observed %v, want sql reads and writes", ops)
	}
}

// TestBadConfigurationTouchesNoStore: a configuration New refuses for a
// reason that needs no store (a key, a secret, the Clerk settings) is
// refused before the database is created or migrated: the SQLite file
// StoreDSN names is not there afterwards.
func TestBadConfigurationTouchesNoStore(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		change func(*controlplane.Config)
		says   string
	}{
		"short state key":     {func(c *controlplane.Config) { c.StateKey = []byte("short") }, "StateKey"},
		"short secrets key":   {func(c *controlplane.Config) { c.SecretsKeys = [][]byte{[]byte("short")} }, "SecretsKeys"},
		"no session key":      {func(c *controlplane.Config) { c.EphemeralSessionKey = false }, "key"},
		"bad publishable key": {func(c *controlplane.Config) { c.Clerk.PublishableKey = "pk_test_bm90IGEga2V5" }, "ublishable"},
		"empty webhook key":   {func(c *controlplane.Config) { c.WebhookSecret = "whsec_" }, "WebhookSecret"},
	} {
		path := filepath.Join(t.TempDir(), "ssokit.db")
		cfg := controlplane.Config{AppURL: "https://app.example", StateKey: bytes.Repeat([]byte("s"), 32),
			EphemeralSessionKey: true, StoreDSN: "sqlite:" + path}
		tc.change(&cfg)
		if _, err := controlplane.New(cfg); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want an error saying %q", name, err, tc.says)
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: the database was created before the configuration was checked (%v)", name, err)
		}
	}
}
