package sqlstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/store"
)

// Both engines have the same migrations, and they make the same tables.
func TestEmbeddedMigrations(t *testing.T) {
	t.Parallel()
	lite, err := embeddedMigrations(dialectSQLite)
	if err != nil || len(lite) == 0 {
		t.Fatalf("sqlite: %v %d", err, len(lite))
	}
	pg, err := embeddedMigrations(dialectPostgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) != len(lite) {
		t.Fatalf("%d sqlite migrations, %d postgres", len(lite), len(pg))
	}
	tables := regexp.MustCompile(`(?i)CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\s+(\w+)`)
	for i := range lite {
		if lite[i].version != pg[i].version || lite[i].name != pg[i].name || lite[i].version != i+1 {
			t.Errorf("migration %d: sqlite %d_%s, postgres %d_%s", i, lite[i].version, lite[i].name, pg[i].version, pg[i].name)
		}
		var a, b []string
		for _, m := range tables.FindAllStringSubmatch(lite[i].sql, -1) {
			a = append(a, m[1])
		}
		for _, m := range tables.FindAllStringSubmatch(pg[i].sql, -1) {
			b = append(b, m[1])
		}
		if !slices.Equal(a, b) || len(a) == 0 {
			t.Errorf("migration %d creates %v on sqlite, %v on postgres", lite[i].version, a, b)
		}
	}
}

// doomed is a migration that changes the schema and then fails.
var doomed = migration{version: 2, name: "doomed", sql: `
CREATE TABLE doomed (x INTEGER);
INSERT INTO doomed VALUES (1);
ALTER TABLE orgs ADD COLUMN doomed_col TEXT;
CREATE INDEX doomed_orgs ON orgs (name);
SELECT * FROM no_such_table;
`}

// tableNames lists the tables, columns of orgs and indexes of a store's
// schema.
func schemaShape(t *testing.T, s *Store) []string {
	t.Helper()
	q := `SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'
		UNION ALL SELECT 'column ' || name FROM pragma_table_info('orgs') ORDER BY 1`
	if s.d == dialectPostgres {
		q = `SELECT 'table ' || tablename FROM pg_tables WHERE schemaname = current_schema()
			UNION ALL SELECT 'index ' || indexname FROM pg_indexes WHERE schemaname = current_schema()
			UNION ALL SELECT 'column ' || column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'orgs'
			ORDER BY 1`
	}
	rows, err := s.rw.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out = append(out, n)
	}
	return out
}

func appliedVersions(t *testing.T, s *Store) []int {
	t.Helper()
	rows, err := s.rw.Query("SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		rows.Scan(&v)
		out = append(out, v)
	}
	return out
}

// A migration that fails leaves the schema exactly as it was and is not
// recorded; fixed, it applies.
func testFailingMigration(t *testing.T, dsn string) {
	ctx := context.Background()
	s := openT(t, Config{DSN: dsn})
	if err := s.CreateOrg(ctx, store.Org{ID: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	shape, versions := schemaShape(t, s), appliedVersions(t, s)
	if !slices.Contains(shape, "table orgs") || !slices.Contains(shape, "column name") || !slices.Equal(versions, []int{1}) {
		t.Fatalf("schema %v, versions %v", shape, versions)
	}
	base, _ := embeddedMigrations(s.d)
	_, err := open(ctx, Config{DSN: dsn}, &hooks{migrations: append(slices.Clone(base), doomed)})
	if err == nil || !strings.Contains(err.Error(), "0002_doomed") {
		t.Fatalf("open with a failing migration: %v", err)
	}
	if got := schemaShape(t, s); !slices.Equal(got, shape) {
		t.Errorf("a failed migration changed the schema:\n%v\nwas\n%v", got, shape)
	}
	if got := appliedVersions(t, s); !slices.Equal(got, versions) {
		t.Errorf("a failed migration moved schema_migrations: %v", got)
	}
	if o, err := s.GetOrg(ctx, "acme"); err != nil || o.Name != "Acme" {
		t.Errorf("data after a failed migration: %v %+v", err, o)
	}
	fixed := doomed
	fixed.sql = "CREATE TABLE fixed (x INTEGER);"
	s2 := openHooked(t, Config{DSN: dsn}, &hooks{migrations: append(slices.Clone(base), fixed)})
	if got := appliedVersions(t, s2); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("the fixed migration: versions %v", got)
	}
	if got := schemaShape(t, s2); !slices.Contains(got, "table fixed") {
		t.Errorf("the fixed migration's table is missing: %v", got)
	}
}

func TestFailingMigrationSQLite(t *testing.T) {
	t.Parallel()
	testFailingMigration(t, sqliteFileDSN(t))
}

func TestFailingMigrationPostgres(t *testing.T) {
	t.Parallel()
	dsn, _ := postgresSchema(t)
	testFailingMigration(t, dsn)
}

// Migrate applies what is missing once; Status reports it and creates
// nothing where there is no database.
func testMigrateStatus(t *testing.T, dsn string) {
	ctx := context.Background()
	list, _ := embeddedMigrations(must(parseDSN(dsn)).d)
	st, err := Status(ctx, dsn)
	if err != nil || len(st) != len(list) || st[0].Applied || st[0].Name != "init" || !st[0].AppliedAt.IsZero() {
		t.Fatalf("status of an empty database: %v %+v", err, st)
	}
	applied, err := Migrate(ctx, dsn)
	if err != nil || len(applied) != len(list) || applied[0] != 1 {
		t.Fatalf("migrate: %v %v", applied, err)
	}
	if again, err := Migrate(ctx, dsn); err != nil || len(again) != 0 {
		t.Fatalf("migrate again: %v %v", again, err)
	}
	st, err = Status(ctx, dsn)
	if err != nil || len(st) != len(list) {
		t.Fatalf("status: %v %+v", err, st)
	}
	for _, m := range st {
		if !m.Applied || time.Since(m.AppliedAt) > time.Minute || m.AppliedAt.Location() != time.UTC {
			t.Errorf("status %+v", m)
		}
	}
	// Open finds nothing to do.
	openT(t, Config{DSN: dsn})
}

func TestMigrateStatusSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "ssokit.db")
	if _, err := Status(context.Background(), "sqlite:"+path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Status created the database file: %v", err)
	}
	testMigrateStatus(t, "sqlite:"+path)
}

func TestMigrateStatusPostgres(t *testing.T) {
	t.Parallel()
	dsn, _ := postgresSchema(t)
	testMigrateStatus(t, dsn)
}

// Status reports a migration the database has and this build does not.
func TestStatusUnknownMigration(t *testing.T) {
	t.Parallel()
	dsn := sqliteFileDSN(t)
	base, _ := embeddedMigrations(dialectSQLite)
	later := migration{version: 99, name: "later", sql: "CREATE TABLE later (x INTEGER);"}
	s := openHooked(t, Config{DSN: dsn}, &hooks{migrations: append(slices.Clone(base), later)})
	s.Close()
	st, err := Status(context.Background(), dsn)
	if err != nil || len(st) != len(base)+1 || st[len(st)-1].Version != 99 || st[len(st)-1].Name != "later" || !st[len(st)-1].Applied {
		t.Fatalf("%v %+v", err, st)
	}
	// And Open of this build still works on it.
	openT(t, Config{DSN: dsn})
}

// Two Opens of a new SQLite file at once both succeed.
func TestSQLiteConcurrentOpen(t *testing.T) {
	t.Parallel()
	dsn := sqliteFileDSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(context.Background(), Config{DSN: dsn})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
		}
	}
	st, _ := Status(context.Background(), dsn)
	for _, m := range st {
		if !m.Applied {
			t.Errorf("%+v", m)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
