package main

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/ssokit/ssokit/store/sqlstore" // registers the pgx driver the schema helper uses
)

// testMigrateCommand: status lists the migrations pending, apply applies
// them once (then the database is up to date), status lists them applied.
func testMigrateCommand(t *testing.T, dsn string) {
	code, out, errOut := runRaw(t, "migrate", "status", "--store", dsn)
	if code != 0 || !strings.Contains(out, "VERSION") || !strings.Contains(out, "init") || !strings.Contains(out, "pending") || strings.Contains(out, "applied") {
		t.Fatalf("status before: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runRaw(t, "migrate", "apply", "--store", dsn)
	if code != 0 || !strings.Contains(out, "applied 1\n") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runRaw(t, "migrate", "--store", dsn) // apply is the default
	if code != 0 || out != "up to date\n" {
		t.Fatalf("apply again: exit %d\n%q\n%s", code, out, errOut)
	}
	code, out, errOut = runRaw(t, "migrate", "--store", dsn, "status")
	if code != 0 || !strings.Contains(out, "applied") || strings.Contains(out, "pending") {
		t.Fatalf("status after: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runRaw(t, "migrate", "status", "--json", "--store", dsn)
	var st struct {
		Migrations []struct {
			Version int    `json:"version"`
			Name    string `json:"name"`
			Applied bool   `json:"applied"`
			At      string `json:"applied_at"`
		} `json:"migrations"`
	}
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil || len(st.Migrations) == 0 || st.Migrations[0].Version != 1 ||
		!st.Migrations[0].Applied || st.Migrations[0].At == "" {
		t.Fatalf("status --json: exit %d, %v\n%s", code, err, out)
	}
	code, out, _ = runRaw(t, "migrate", "apply", "--json", "--store", dsn)
	if code != 0 || strings.TrimSpace(out) != `{
  "applied": []
}` {
		t.Fatalf("apply --json: exit %d\n%s", code, out)
	}
}

func TestMigrateSQLite(t *testing.T) {
	t.Parallel()
	testMigrateCommand(t, "sqlite:"+filepath.Join(t.TempDir(), "ssokit.db"))
}

func TestMigratePostgres(t *testing.T) {
	t.Parallel()
	base := os.Getenv("SSOKIT_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SSOKIT_TEST_POSTGRES is not set: CI must run the PostgreSQL tests")
		}
		t.Skip("set SSOKIT_TEST_POSTGRES (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run against PostgreSQL")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 8)
	rand.Read(b)
	schema := "ssokit_cmd_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE SCHEMA "` + schema + `"`); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := admin.Exec(`DROP SCHEMA "` + schema + `" CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	}()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	testMigrateCommand(t, u.String())
}

// The store may come from SSOKIT_STORE; --store wins over it.
func TestMigrateStoreFromEnvironment(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "ssokit.db")
	t.Setenv("SSOKIT_STORE", dsn)
	if code, out, errOut := runRaw(t, "migrate", "apply"); code != 0 || !strings.HasPrefix(out, "applied 1\n") {
		t.Fatalf("apply from SSOKIT_STORE: exit %d\n%s\n%s", code, out, errOut)
	}
	other := "sqlite:" + filepath.Join(t.TempDir(), "other.db")
	if code, out, _ := runRaw(t, "migrate", "--store", other); code != 0 || !strings.HasPrefix(out, "applied 1\n") {
		t.Fatalf("--store did not win over SSOKIT_STORE: exit %d\n%s", code, out)
	}
	t.Setenv("SSOKIT_STORE", "mysql://root:s3cret@db/x")
	if code, out, _ := runRaw(t, "migrate", "--help"); code != 0 || strings.Contains(out, "s3cret") || !strings.Contains(out, "-store") {
		t.Fatalf("help: exit %d\n%s", code, out)
	}
}

// Refusals: a DSN it does not accept, no store, an unknown action exit
// 2 with a clear message; a database it cannot open exits 1.
func TestMigrateRefusals(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"migrate", "--store", "mysql://root:s3cret@db/x"}, 2, "unsupported DSN"},
		{[]string{"migrate", "status", "--store", "./ssokit.db"}, 2, "sqlite:PATH"},
		{[]string{"migrate", "--store", ""}, 2, "SSOKIT_STORE"},
		{[]string{"migrate", "upgrade", "--store", "sqlite::memory:"}, 2, "apply or status"},
		{[]string{"migrate", "apply", "status", "--store", "sqlite::memory:"}, 2, "unexpected"},
		{[]string{"migrate", "--nope"}, 2, "nope"},
		{[]string{"migrate", "--store", "sqlite:" + filepath.Join(t.TempDir(), "no", "dir", "x.db")}, 1, "unavailable"},
	} {
		code, out, errOut := runRaw(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.msg) || strings.Contains(errOut, "s3cret") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and %q", tt.args, code, out, errOut, tt.code, tt.msg)
		}
	}
	// An in-memory database migrates (and is gone): no error.
	if code, out, errOut := runRaw(t, "migrate", "--store", "sqlite::memory:"); code != 0 || !strings.HasPrefix(out, "applied 1\n") {
		t.Errorf("sqlite::memory:: exit %d %q %q", code, out, errOut)
	}
}
