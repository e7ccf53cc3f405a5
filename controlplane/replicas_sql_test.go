package controlplane_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/faultproxy"
	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/store"
	"github.com/ssokit/ssokit/store/redisstore"
	"github.com/ssokit/ssokit/store/sqlstore"
)

// sqlBackend opens a SQL store of dsn per replica (as two processes
// would), closed when the test ends. Small pools: the tests of every
// package share one PostgreSQL server.
func sqlBackend(dsn string) backend {
	return func(t *testing.T, _ int) (store.Store, store.Expiring) {
		s, err := sqlstore.Open(context.Background(), sqlstore.Config{DSN: dsn, MaxOpenConns: 4, MaxIdleConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, s
	}
}

// Two replicas, each with its own connections to one PostgreSQL schema.
func TestReplicasOnPostgres(t *testing.T) {
	t.Parallel()
	runReplicaContract(t, func(t *testing.T) backend { return sqlBackend(testenv.PostgresSchema(t)) })
}

// sqlRedisBackend opens, per replica, a SQL store of pgDSN(replica) and a
// Redis store of redisURL(replica) with one shared prefix.
func sqlRedisBackend(pgDSN, redisURL func(replica int) string, prefix string) backend {
	return func(t *testing.T, i int) (store.Store, store.Expiring) {
		st, _ := sqlBackend(pgDSN(i))(t, i)
		rs, err := redisstore.New(context.Background(), redisstore.Config{URL: redisURL(i), Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rs.Close() })
		return st, rs
	}
}

func same(s string) func(int) string { return func(int) string { return s } }

// Two replicas on one PostgreSQL schema, the expiring state in one Redis.
func TestReplicasOnPostgresAndRedis(t *testing.T) {
	t.Parallel()
	runReplicaContract(t, func(t *testing.T) backend {
		u, prefix := testenv.RedisPrefix(t)
		return sqlRedisBackend(same(testenv.PostgresSchema(t)), same(u), prefix)
	})
}

// viaProxy is rawURL with its host:port replaced by a fault proxy's
// address, and the proxy (closed when the test ends).
func viaProxy(t *testing.T, rawURL string) (string, *faultproxy.Proxy) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultproxy.New(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	u.Host = p.Addr()
	return u.String(), p
}

// A replica cut off from the engine that tells it of other replicas'
// changes (PostgreSQL's LISTEN, Redis's pub/sub) answers 503 for what
// needs the store, never from what it cached; a session revoked through
// the other replica meanwhile is never accepted by it afterwards; and it
// recovers by itself when the engine is back.
func TestReplicaOutage(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"postgres", "redis"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			pg := testenv.PostgresSchema(t)
			ru, prefix := testenv.RedisPrefix(t)
			// Replica 1 reaches the engine through a fault proxy, which holds
			// everything the revocation needs: PostgreSQL alone (the SQL
			// store keeps the expiring state too), or Redis beside it.
			var proxy *faultproxy.Proxy
			var be backend
			if engine == "postgres" {
				var cut string
				cut, proxy = viaProxy(t, pg)
				be = func(t *testing.T, i int) (store.Store, store.Expiring) {
					return sqlBackend(map[bool]string{true: cut, false: pg}[i == 1])(t, i)
				}
			} else {
				var cut string
				cut, proxy = viaProxy(t, ru)
				be = sqlRedisBackend(same(pg), func(i int) string { return map[bool]string{true: cut, false: ru}[i == 1] }, prefix)
			}
			rs := newReplicaSet(t, be)
			var at atomic.Int32
			b := rs.browser(&at)
			if status, me := rs.signIn(t, b, "alice@acme.test"); status != 200 || me.Email != "alice@acme.test" {
				t.Fatalf("sign-in on replica 0: %d %+v", status, me)
			}
			u, _ := url.Parse(rs.url)
			jar, _ := cookiejar.New(nil)
			jar.SetCookies(u, b.Jar.Cookies(u))
			var one atomic.Int32
			one.Store(1)
			onB := &http.Client{Jar: jar, Transport: toReplica{&one, http.DefaultTransport}}
			if got := whoamiStatus(t, onB, rs.url); got != 200 { // replica 1 has checked and cached the session
				t.Fatalf("the session on replica 1: %d", got)
			}

			proxy.Refuse(true)
			if !eventually(10*time.Second, func() bool { return whoamiStatus(t, onB, rs.url) == http.StatusServiceUnavailable }) {
				t.Fatalf("replica 1 cut off from %s still answers from its cache", engine)
			}
			req, _ := http.NewRequest("POST", rs.url+"/v1/auth/logout", nil)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			resp, err := b.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("logout on replica 0: %d", resp.StatusCode)
			}
			if resp, err := onB.Get(rs.url + "/v1/auth/whoami"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("during the outage: %v %v %s\n%s", resp.StatusCode, err, readAll(resp), rs.logs[1].String())
			}

			proxy.Refuse(false)
			var seen []int
			recovered := eventually(20*time.Second, func() bool {
				got := whoamiStatus(t, onB, rs.url)
				seen = append(seen, got)
				return got == http.StatusUnauthorized
			})
			for _, s := range seen {
				if s != http.StatusServiceUnavailable && s != http.StatusUnauthorized {
					t.Fatalf("after the outage replica 1 answered %d (all: %v): the revoked session was not refused", s, seen)
				}
			}
			if !recovered {
				t.Fatalf("replica 1 did not recover: %v", seen[max(0, len(seen)-5):])
			}
			// Recovered, not stuck: a new sign-in works on replica 1.
			at.Store(1)
			if status, me := rs.signIn(t, rs.browser(&at), "bob@acme.test"); status != 200 || me.Email != "bob@acme.test" {
				t.Fatalf("sign-in on replica 1 after the outage: %d %+v", status, me)
			}
		})
	}
}
