// Package sqlstore is the SQL implementation of package store's
// interfaces: SQLite (modernc.org/sqlite, pure Go) embedded for a single
// machine, PostgreSQL (github.com/jackc/pgx/v5) for replicas.
package sqlstore

import (
	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL driver
	_ "modernc.org/sqlite"             // the SQLite driver
)
