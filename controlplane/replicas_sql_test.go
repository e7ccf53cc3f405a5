package controlplane_test

import (
	"context"
	"testing"

	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/store"
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
