package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/store"
)

// Both engines have the same migrations, and after the last one the same
// tables and indexes.
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
	for i := range lite {
		if lite[i].version != pg[i].version || lite[i].name != pg[i].name || lite[i].version != i+1 {
			t.Errorf("migration %d: sqlite %d_%s, postgres %d_%s", i, lite[i].version, lite[i].name, pg[i].version, pg[i].name)
		}
		for _, m := range []migration{lite[i], pg[i]} {
			if strings.TrimSpace(sqlComment.ReplaceAllString(m.sql, "")) == "" {
				t.Errorf("migration %04d_%s has no statement", m.version, m.name)
			}
		}
	}
	a, b := schemaObjects(lite), schemaObjects(pg)
	if !slices.Equal(a, b) || !slices.Contains(a, "table api_keys") || !slices.Contains(a, "index api_keys_org_id on api_keys") {
		t.Errorf("the migrations make\n%v on sqlite,\n%v on postgres", a, b)
	}
}

var (
	sqlComment = regexp.MustCompile(`--[^\n]*`)
	schemaDDL  = regexp.MustCompile(`(?i)\b(?:CREATE\s+(?:UNIQUE\s+)?(TABLE|INDEX)\s+(\w+)(?:\s+ON\s+(\w+))?` +
		`|DROP\s+(TABLE|INDEX)\s+(?:IF\s+EXISTS\s+)?(\w+)|ALTER\s+TABLE\s+(\w+)\s+RENAME\s+TO\s+(\w+))`)
)

// schemaObjects reads migrations' SQL for the tables and indexes there
// are after the last one ("table NAME", "index NAME on TABLE", sorted):
// tables created, dropped (with their indexes) and renamed (with them).
func schemaObjects(list []migration) []string {
	tables := map[string]bool{}
	indexes := map[string]string{} // name -> table
	for _, m := range list {
		for _, g := range schemaDDL.FindAllStringSubmatch(sqlComment.ReplaceAllString(m.sql, ""), -1) {
			for i := range g {
				g[i] = strings.ToLower(g[i])
			}
			switch {
			case g[1] == "table":
				tables[g[2]] = true
			case g[1] == "index":
				indexes[g[2]] = g[3]
			case g[4] == "table":
				delete(tables, g[5])
				maps.DeleteFunc(indexes, func(_, table string) bool { return table == g[5] })
			case g[4] == "index":
				delete(indexes, g[5])
			case g[6] != "":
				delete(tables, g[6])
				tables[g[7]] = true
				for name, table := range indexes {
					if table == g[6] {
						indexes[name] = g[7]
					}
				}
			}
		}
	}
	var out []string
	for name := range tables {
		out = append(out, "table "+name)
	}
	for name, table := range indexes {
		out = append(out, "index "+name+" on "+table)
	}
	slices.Sort(out)
	return out
}

// doomed is a migration that changes the schema and then fails; its
// version is set after the last embedded one.
var doomed = migration{name: "doomed", sql: `
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
	base, _ := embeddedMigrations(s.d)
	var all []int
	for _, m := range base {
		all = append(all, m.version)
	}
	shape, versions := schemaShape(t, s), appliedVersions(t, s)
	if !slices.Contains(shape, "table orgs") || !slices.Contains(shape, "column name") || !slices.Equal(versions, all) {
		t.Fatalf("schema %v, versions %v", shape, versions)
	}
	failing := doomed
	failing.version = all[len(all)-1] + 1
	_, err := open(ctx, Config{DSN: dsn}, &hooks{migrations: append(slices.Clone(base), failing)})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%04d_doomed", failing.version)) {
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
	fixed := failing
	fixed.sql = "CREATE TABLE fixed (x INTEGER);"
	s2 := openHooked(t, Config{DSN: dsn}, &hooks{migrations: append(slices.Clone(base), fixed)})
	if got := appliedVersions(t, s2); !slices.Equal(got, append(all, fixed.version)) {
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

// An API key of an organization that does not exist is refused, as a
// person of one is: store.ErrNotFound naming the organization.
func testAPIKeyMissingOrg(t *testing.T, dsn string) {
	ctx := context.Background()
	s := openT(t, Config{DSN: dsn})
	err := s.CreateAPIKey(ctx, store.APIKey{ID: "k1", OrgID: "nope", Hash: "h1"})
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "organization nope") {
		t.Fatalf("an API key of a missing organization: %v", err)
	}
	if _, _, err := s.CreateUserIfAbsent(ctx, store.User{ID: "u1", OrgID: "nope", Email: "a@x.test"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a person of a missing organization: %v", err)
	}
	if _, err := s.APIKeyByHash(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused key was stored: %v", err)
	}
	if err := s.CreateOrg(ctx, store.Org{ID: "nope"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(ctx, store.APIKey{ID: "k1", OrgID: "nope", Hash: "h1"}); err != nil {
		t.Fatalf("once the organization exists: %v", err)
	}
}

func TestAPIKeyMissingOrgSQLite(t *testing.T) {
	t.Parallel()
	testAPIKeyMissingOrg(t, sqliteFileDSN(t))
}

func TestAPIKeyMissingOrgPostgres(t *testing.T) {
	t.Parallel()
	dsn, _ := postgresSchema(t)
	testAPIKeyMissingOrg(t, dsn)
}

// apiKeysShape lists api_keys' columns (name, type, nullability, default)
// and indexes.
func apiKeysShape(t *testing.T, s *Store) []string {
	t.Helper()
	q := `SELECT 'column ' || name || ' ' || type || ' ' || "notnull" || ' ' || coalesce(dflt_value, '-') || ' ' || pk FROM pragma_table_info('api_keys')
		UNION ALL SELECT 'index ' || (CASE WHEN origin = 'c' THEN name ELSE origin END) || ' ' || "unique" FROM pragma_index_list('api_keys')
		ORDER BY 1`
	if s.d == dialectPostgres {
		q = `SELECT 'column ' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '-') FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = 'api_keys'
			UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'api_keys'
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
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A database made at version 1, with data, migrates to the latest
// version: its rows are kept exactly, except the API keys of
// organizations that do not exist, which 0002 deletes; then such keys are
// refused, and the table has the same columns and indexes as before.
func testUpgradeFromVersion1(t *testing.T, dsn string) {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := Config{DSN: dsn, Now: func() time.Time { return now }}
	base, err := embeddedMigrations(must(parseDSN(dsn)).d)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := open(ctx, cfg, &hooks{migrations: base[:1]})
	if err != nil {
		t.Fatal(err)
	}
	defer v1.Close()
	if got := appliedVersions(t, v1); !slices.Equal(got, []int{1}) {
		t.Fatalf("versions %v", got)
	}
	org := store.Org{ID: "acme", Name: "Acme", ClerkOrgID: "org_1", AllowedDomains: []string{"acme.test"}, RequireSSO: true}
	if err := v1.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	if _, _, err := v1.CreateUserIfAbsent(ctx, store.User{ID: "u1", OrgID: "acme", Email: "a@acme.test", Role: "admin"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []store.APIKey{
		{ID: "k1", OrgID: "acme", Name: "ci", Role: "editor", Prefix: "ssk_live_ab", Hash: "h1", Expires: now.Add(time.Hour)},
		{ID: "k2", OrgID: "acme", Hash: "h2"},
		{ID: "k3", OrgID: "gone", Name: "orphan", Hash: "h3"}, // version 1 has no foreign key
	} {
		if err := v1.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("create %s at version 1: %v", k.ID, err)
		}
	}
	if err := v1.RevokeAPIKey(ctx, "acme", "k2"); err != nil {
		t.Fatal(err)
	}
	if err := v1.TouchAPIKeys(ctx, map[string]time.Time{"k1": now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := v1.RevokeToken(ctx, "jti-1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, err := v1.Hit(ctx, "ip:1", time.Hour); err != nil || n != 1 {
		t.Fatalf("hit: %d %v", n, err)
	}
	wantOrg, _ := v1.GetOrg(ctx, "acme")
	wantUser, _ := v1.GetUser(ctx, "u1")
	wantKeys, _ := v1.ListAPIKeys(ctx, "acme")
	if len(wantKeys) != 2 {
		t.Fatalf("keys at version 1: %+v", wantKeys)
	}
	shape, keysShape := schemaShape(t, v1), apiKeysShape(t, v1)
	if err := v1.Close(); err != nil {
		t.Fatal(err)
	}

	applied, err := Migrate(ctx, dsn)
	if err != nil || len(applied) == 0 || applied[0] != 2 || len(applied) != len(base)-1 {
		t.Fatalf("migrate from version 1: %v %v", applied, err)
	}
	s := openT(t, cfg)
	if got := appliedVersions(t, s); len(got) != len(base) {
		t.Fatalf("versions %v", got)
	}
	if got, err := s.GetOrg(ctx, "acme"); err != nil || !reflect.DeepEqual(got, wantOrg) {
		t.Errorf("org after the migration: %v\n%+v\nwant\n%+v", err, got, wantOrg)
	}
	if got, err := s.GetUser(ctx, "u1"); err != nil || !reflect.DeepEqual(got, wantUser) {
		t.Errorf("user after the migration: %v\n%+v\nwant\n%+v", err, got, wantUser)
	}
	if got, err := s.ListAPIKeys(ctx, "acme"); err != nil || !reflect.DeepEqual(got, wantKeys) {
		t.Errorf("keys after the migration: %v\n%+v\nwant\n%+v", err, got, wantKeys)
	}
	if k, err := s.APIKeyByHash(ctx, "h1"); err != nil || k.ID != "k1" {
		t.Errorf("key by hash after the migration: %v %+v", err, k)
	}
	if _, err := s.APIKeyByHash(ctx, "h3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the key of a missing organization survived the migration: %v", err)
	}
	if ok, err := s.IsRevoked(ctx, "jti-1"); !ok || err != nil {
		t.Errorf("revocation after the migration: %v %v", ok, err)
	}
	if n, err := s.Hit(ctx, "ip:1", time.Hour); err != nil || n != 2 {
		t.Errorf("rate count after the migration: %d %v", n, err)
	}
	// The schema is as it was but for the tables later migrations add
	// (0003: sso_events), which are new and empty.
	got := schemaShape(t, s)
	got = slices.DeleteFunc(got, func(e string) bool { return strings.Contains(e, "sso_events") })
	if !slices.Equal(got, shape) {
		t.Errorf("schema after the migration:\n%v\nwas\n%v", got, shape)
	}
	if evs, err := s.SSOEvents(ctx, "acme", 10); err != nil || len(evs) != 0 {
		t.Errorf("the SSO log after the migration: %v %v", evs, err)
	}
	if got := apiKeysShape(t, s); !slices.Equal(got, keysShape) {
		t.Errorf("api_keys after the migration:\n%v\nwas\n%v", got, keysShape)
	}
	if err := s.CreateAPIKey(ctx, store.APIKey{ID: "k3", OrgID: "gone", Hash: "h3"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an API key of a missing organization after the migration: %v", err)
	}
	if err := s.CreateAPIKey(ctx, store.APIKey{ID: "k4", OrgID: "acme", Hash: "h1"}); !errors.Is(err, store.ErrExists) {
		t.Errorf("a duplicate hash after the migration: %v", err)
	}
	if err := s.CreateAPIKey(ctx, store.APIKey{ID: "k4", OrgID: "acme", Hash: "h4"}); err != nil {
		t.Errorf("a new key after the migration: %v", err)
	}
}

func TestUpgradeFromVersion1SQLite(t *testing.T) {
	t.Parallel()
	testUpgradeFromVersion1(t, sqliteFileDSN(t))
}

func TestUpgradeFromVersion1Postgres(t *testing.T) {
	t.Parallel()
	dsn, _ := postgresSchema(t)
	testUpgradeFromVersion1(t, dsn)
}

// TestStatusOfAMistypedPath: a SQLite file that does not exist yet is a
// new database (every migration pending); one whose directory does not
// exist is a mistyped path, refused.
func TestStatusOfAMistypedPath(t *testing.T) {
	ctx := context.Background()
	if st, err := Status(ctx, "sqlite:"+filepath.Join(t.TempDir(), "new.db")); err != nil || len(st) == 0 || st[0].Applied {
		t.Fatalf("a new database: %v %v", st, err)
	}
	if _, err := Status(ctx, "sqlite:"+filepath.Join(t.TempDir(), "no-such-dir", "x.db")); err == nil {
		t.Fatal("a path in a missing directory: no error")
	}
}
