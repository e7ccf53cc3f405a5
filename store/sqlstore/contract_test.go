package sqlstore

import (
	"testing"
	"time"

	"github.com/ssokit/ssokit/store"
	"github.com/ssokit/ssokit/store/storetest"
)

func TestContractSQLiteMemory(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return openT(t, Config{DSN: "sqlite::memory:", Now: now})
	})
}

func TestContractSQLiteFile(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return openT(t, Config{DSN: sqliteFileDSN(t), Now: now})
	})
}

func TestContractPostgres(t *testing.T) {
	t.Parallel()
	postgresURL(t)
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		dsn, _ := postgresSchema(t)
		return openT(t, Config{DSN: dsn, Now: now})
	})
}

func TestSSOLogSQLiteFile(t *testing.T) {
	t.Parallel()
	storetest.RunSSOLog(t, func(t *testing.T, now func() time.Time) storetest.SSOLogStore {
		return openT(t, Config{DSN: sqliteFileDSN(t), Now: now})
	})
}

func TestSSOLogPostgres(t *testing.T) {
	t.Parallel()
	postgresURL(t)
	storetest.RunSSOLog(t, func(t *testing.T, now func() time.Time) storetest.SSOLogStore {
		dsn, _ := postgresSchema(t)
		return openT(t, Config{DSN: dsn, Now: now})
	})
}
