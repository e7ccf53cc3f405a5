package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the driver PostgresSchema uses
	"github.com/redis/go-redis/v9"
)

// Postgres is the PostgreSQL server tests use (SSOKIT_TEST_POSTGRES, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable), or Missing.
func Postgres(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("SSOKIT_TEST_POSTGRES")
	if dsn == "" {
		Missing(t, "PostgreSQL", "set SSOKIT_TEST_POSTGRES, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return dsn
}

// Redis is the Redis server tests use (SSOKIT_TEST_REDIS, host:port), or
// Missing.
func Redis(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("SSOKIT_TEST_REDIS")
	if addr == "" {
		Missing(t, "Redis", "set SSOKIT_TEST_REDIS, e.g. 127.0.0.1:6379")
	}
	return addr
}

// RandomName is prefix and 16 random hex digits: a schema or key prefix
// no other test uses.
func RandomName(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// PostgresSchema creates a schema of its own on the Postgres server,
// dropped when the test ends, and returns a DSN whose search_path selects
// it.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	dsn, _ := PostgresSchemaNamed(t)
	return dsn
}

// PostgresSchemaNamed is PostgresSchema, and the schema's name.
func PostgresSchemaNamed(t testing.TB) (dsn, schema string) {
	t.Helper()
	base := Postgres(t)
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	schema = RandomName("ssokit_test_")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA "`+schema+`"`); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA "`+schema+`" CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("SSOKIT_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema
}

// RedisPrefix is a key prefix no other test uses on the Redis server
// (redis://ADDR/0 is returned with it); its keys are deleted when the test
// ends.
func RedisPrefix(t testing.TB) (redisURL, prefix string) {
	t.Helper()
	addr := Redis(t)
	prefix = RandomName("ssokit-test-") + ":"
	redisURL = "redis://" + addr + "/0"
	t.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("deleting the keys of %s: %v", prefix, err)
		}
	})
	return redisURL, prefix
}
