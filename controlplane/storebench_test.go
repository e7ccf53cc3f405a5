package controlplane_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/store"
	"github.com/ssokit/ssokit/store/redisstore"
	"github.com/ssokit/ssokit/store/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

// benchBackends are the stores an authenticated request is measured on:
// memory always, a SQLite file, and PostgreSQL (and PostgreSQL with Redis
// for the expiring state) when SSOKIT_TEST_POSTGRES (SSOKIT_TEST_REDIS) is
// set. Pools use the defaults the README documents.
func benchBackends(b *testing.B) []struct {
	name string
	open func(b *testing.B) (store.Store, store.Expiring)
} {
	sql := func(dsn func(b *testing.B) string) func(b *testing.B) (store.Store, store.Expiring) {
		return func(b *testing.B) (store.Store, store.Expiring) {
			s, err := sqlstore.Open(context.Background(), sqlstore.Config{DSN: dsn(b)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s, s
		}
	}
	list := []struct {
		name string
		open func(b *testing.B) (store.Store, store.Expiring)
	}{
		{"memory", func(*testing.B) (store.Store, store.Expiring) {
			m, _ := store.NewMemory(store.MemoryConfig{})
			return m, m
		}},
		{"sqlite", sql(func(b *testing.B) string { return "sqlite:" + filepath.Join(b.TempDir(), "ssokit.db") })},
	}
	if os.Getenv("SSOKIT_TEST_POSTGRES") != "" {
		list = append(list, struct {
			name string
			open func(b *testing.B) (store.Store, store.Expiring)
		}{"postgres", sql(func(b *testing.B) string { return testenv.PostgresSchema(b) })})
		if os.Getenv("SSOKIT_TEST_REDIS") != "" {
			list = append(list, struct {
				name string
				open func(b *testing.B) (store.Store, store.Expiring)
			}{"postgres_redis", func(b *testing.B) (store.Store, store.Expiring) {
				st, _ := sql(func(b *testing.B) string { return testenv.PostgresSchema(b) })(b)
				u, prefix := testenv.RedisPrefix(b)
				rs, err := redisstore.New(context.Background(), redisstore.Config{URL: u, Prefix: prefix})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { rs.Close() })
				return st, rs
			}})
		}
	}
	return list
}

// BenchmarkAuthenticated is the cost of authenticating one request at
// steady state (the credential seen before, nothing changed since) with
// each store: an app session cookie and an agent API key. The ratios to
// memory are what scripts/bench.sh reports.
func BenchmarkAuthenticated(b *testing.B) {
	for _, be := range benchBackends(b) {
		b.Run(be.name, func(b *testing.B) { benchAuthenticated(b, be.open) })
	}
}

func benchAuthenticated(b *testing.B, open func(b *testing.B) (store.Store, store.Expiring)) {
	st, exp := open(b)
	cp, err := controlplane.New(controlplane.Config{AppURL: "http://app.example", StateKey: bytes.Repeat([]byte("s"), 32),
		SessionKeys: []appsession.Key{appsession.EphemeralKey()}, InsecureCookie: true, Store: st, Expiring: exp, BootstrapAdminKey: adminKey})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(cp)
	b.Cleanup(srv.Close)
	ctx := context.Background()
	admin := newClient(b, srv.URL, adminKey, nil)
	if _, err := admin.Organizations.Create(ctx, "acme", "Acme", "enterprise"); err != nil {
		b.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("a long password"), bcrypt.MinCost)
	if _, _, err := st.CreateUserIfAbsent(ctx, store.User{ID: "usr_dave", OrgID: "acme", Email: "dave@acme.test", Role: "admin",
		PasswordHash: string(hash), Source: "password"}); err != nil {
		b.Fatal(err)
	}
	resp, err := http.Post(srv.URL+"/v1/auth/login", "application/json", strings.NewReader(`{"org":"acme","email":"dave@acme.test","password":"a long password"}`))
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == cp.Sessions().CookieName() {
			cookie = c
		}
	}
	if cookie == nil {
		b.Fatalf("no session cookie: %d", resp.StatusCode)
	}
	key, err := admin.APIKeys.Create(ctx, "acme", "bench", "editor", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	auth := cp.Authenticator()
	for _, c := range []struct {
		name string
		req  *http.Request
	}{
		{"cookie", func() *http.Request {
			r := httptest.NewRequest("GET", "/v1/auth/whoami", nil)
			r.AddCookie(cookie)
			return r
		}()},
		{"apikey", func() *http.Request {
			r := httptest.NewRequest("GET", "/v1/auth/whoami", nil)
			r.Header.Set("X-API-Key", key.Key)
			return r
		}()},
	} {
		b.Run(c.name, func(b *testing.B) {
			if _, err := auth.Authenticate(c.req); err != nil { // warm: the steady state
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := auth.Authenticate(c.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	cp.Close()
}
