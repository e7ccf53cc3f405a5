package sqlstore

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/store"
)

// Unaccepted DSNs are refused with ErrDSN, and a password in one is never
// repeated.
func TestOpenBadDSN(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{"", "sqlite:", "sqlite", "./ssokit.db", "sqlite://ssokit.db", "postgres:ssokit",
		"mysql://root:s3cret@db/ssokit", "postgres://u:s3cret@db:notaport/ssokit", "postgresql://u:s3cret@db/x?sslmode=bogus",
		"root:s3cret@db", "sqlite:a\x00b", "redis://:s3cret@localhost:6379"} {
		_, err := Open(context.Background(), Config{DSN: dsn})
		if !errors.Is(err, ErrDSN) {
			t.Errorf("%q: %v, want ErrDSN", dsn, err)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: the error repeats the password: %v", dsn, err)
		}
		for _, f := range []func(context.Context, string) error{
			func(ctx context.Context, dsn string) error { _, err := Migrate(ctx, dsn); return err },
			func(ctx context.Context, dsn string) error { _, err := Status(ctx, dsn); return err },
		} {
			if err := f(context.Background(), dsn); !errors.Is(err, ErrDSN) {
				t.Errorf("%q: Migrate/Status %v, want ErrDSN", dsn, err)
			}
		}
	}
	if !strings.Contains(ErrDSN.Error(), "sqlite:PATH") || !strings.Contains(ErrDSN.Error(), "postgres://") {
		t.Errorf("ErrDSN does not name the accepted forms: %v", ErrDSN)
	}
	// A well-formed DSN of a database that cannot be opened is another
	// error.
	_, err := Open(context.Background(), Config{DSN: "sqlite:" + t.TempDir() + "/no/such/dir/x.db"})
	if err == nil || errors.Is(err, ErrDSN) || !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("a missing directory: %v", err)
	}
}

// eachEngine runs f against a fresh SQLite database and, when the test
// server is there, a fresh PostgreSQL schema.
func eachEngine(t *testing.T, cfg Config, f func(t *testing.T, s *Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		c := cfg
		c.DSN = "sqlite::memory:"
		f(t, openT(t, c))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		c := cfg
		c.DSN, _ = postgresSchema(t)
		f(t, openT(t, c))
	})
}

// Every field of a record reads back as written: nil and empty lists
// apart, bytes exactly, times at store.Precision.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	eachEngine(t, Config{}, func(t *testing.T, s *Store) {
		ctx := context.Background()
		at := time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))
		full := store.Org{ID: "acme", Name: "Acme ✓", Plan: "enterprise", ClerkOrgID: "org_1", AllowedDomains: []string{"acme.test", "ä.test"},
			DefaultRole: "viewer", AutoCreateUsers: true, RequireSSO: true, DisableAPIKeyAuth: true,
			GroupRoles: []store.GroupRule{{Group: "g\"1", Role: "admin"}}, ClerkRoleMap: map[string]string{"org:admin": "admin", "org:member": "viewer"},
			Connection: []byte{0, 1, 2, 0xff}, SSOConfigured: true, RequireSSOSince: at, LastSSOLogin: at.Add(time.Hour), LastSSOProvider: "okta"}
		empty := store.Org{ID: "empty", AllowedDomains: []string{}, GroupRoles: []store.GroupRule{}, ClerkRoleMap: map[string]string{}, Connection: []byte{}}
		bare := store.Org{ID: "bare"}
		for _, o := range []store.Org{full, empty, bare} {
			if err := s.CreateOrg(ctx, o); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetOrg(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := o
			want.RequireSSOSince, want.LastSSOLogin = store.Stamp(o.RequireSSOSince), store.Stamp(o.LastSSOLogin)
			want.Created, want.Updated = got.Created, got.Updated
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read back\n%#v\nwant\n%#v", got, want)
			}
			up, err := s.UpdateOrg(ctx, o.ID, func(*store.Org) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			again, _ := s.GetOrg(ctx, o.ID)
			if !reflect.DeepEqual(up, again) {
				t.Errorf("UpdateOrg returned\n%#v\nstored\n%#v", up, again)
			}
		}
		u := store.User{ID: "u", OrgID: "acme", Email: "a@acme.test", Role: "admin", ClerkUserID: "user_1", Subject: "s", SubjectIssuer: "okta",
			PasswordHash: "$2a$10$x", Source: "sso", LastLogin: at, ValidAfter: at.Add(time.Minute)}
		created, ok, err := s.CreateUserIfAbsent(ctx, u)
		if err != nil || !ok {
			t.Fatal(err)
		}
		got, _ := s.GetUser(ctx, "u")
		if !reflect.DeepEqual(got, created) || !got.LastLogin.Equal(store.Stamp(at)) || got.PasswordHash != u.PasswordHash {
			t.Errorf("user read back\n%#v\nreturned\n%#v", got, created)
		}
		k := store.APIKey{ID: "k", OrgID: "acme", Name: "ci", Role: "editor", Prefix: "ssk_live_x", Hash: "h", Created: at, Expires: at.Add(time.Hour), Revoked: true}
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		gk, _ := s.APIKeyByHash(ctx, "h")
		k.Created, k.Expires = store.Stamp(k.Created), store.Stamp(k.Expires)
		if !reflect.DeepEqual(gk, k) {
			t.Errorf("key read back\n%#v\nwant\n%#v", gk, k)
		}
	})
}

// Times outside the years a store keeps are refused, and nothing is
// written.
func TestTimeRange(t *testing.T) {
	t.Parallel()
	eachEngine(t, Config{}, func(t *testing.T, s *Store) {
		ctx := context.Background()
		far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := s.CreateOrg(ctx, store.Org{ID: "acme", LastSSOLogin: far}); err == nil {
			t.Fatal("a time in the year 10000 was accepted")
		}
		if _, err := s.GetOrg(ctx, "acme"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the refused org was written: %v", err)
		}
		s.CreateOrg(ctx, store.Org{ID: "acme"})
		s.CreateUserIfAbsent(ctx, store.User{ID: "u", OrgID: "acme", Email: "a@acme.test"})
		if _, err := s.UpdateUser(ctx, "u", func(u *store.User) error { u.Role = "admin"; u.LastLogin = far; return nil }); err == nil {
			t.Error("UpdateUser accepted the year 10000")
		}
		if u, _ := s.GetUser(ctx, "u"); u.Role != "" {
			t.Error("the refused update was written")
		}
		// Expiries are clamped instead: a revocation "forever" holds.
		if err := s.RevokeToken(ctx, "j", time.Unix(1<<62, 0)); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.IsRevoked(ctx, "j"); !ok || err != nil {
			t.Errorf("a revocation until the far future: %v %v", ok, err)
		}
	})
}

// An expiry between two microseconds is kept until the later one: an
// entry is never kept shorter than asked.
func TestExpiryRoundsUp(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	eachEngine(t, Config{Now: clk.Now}, func(t *testing.T, s *Store) {
		ctx := context.Background()
		until := clk.Now().Add(500 * time.Nanosecond)
		must0(t, s.Consume(ctx, "k", until))
		if err := s.Consume(ctx, "k", until); !errors.Is(err, store.ErrReplayed) {
			t.Errorf("a value consumed until 500 ns from now was accepted again: %v", err)
		}
		must0(t, s.RevokeToken(ctx, "j", until))
		if ok, _ := s.IsRevoked(ctx, "j"); !ok {
			t.Error("a revocation until 500 ns from now is not there")
		}
	})
}

// PostgreSQL text holds neither NUL nor invalid UTF-8: records with them
// are refused (not as ErrUnavailable) and lookups by them find nothing;
// SQLite keeps them.
func TestUnstorableText(t *testing.T) {
	t.Parallel()
	eachEngine(t, Config{}, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, id := range []string{"a\x00b", "\xff\xfe"} {
			err := s.CreateOrg(ctx, store.Org{ID: id})
			if s.d == dialectSQLite {
				if err != nil {
					t.Errorf("sqlite refused %q: %v", id, err)
				}
				if _, err := s.GetOrg(ctx, id); err != nil {
					t.Errorf("sqlite lost %q: %v", id, err)
				}
				continue
			}
			if err == nil || errors.Is(err, store.ErrUnavailable) {
				t.Errorf("postgres org %q: %v, want a refusal", id, err)
			}
			if _, err := s.GetOrg(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("postgres lookup %q: %v", id, err)
			}
			if _, err := s.UserByEmail(ctx, "acme", id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("postgres user lookup %q: %v", id, err)
			}
			if _, err := s.APIKeyByHash(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("postgres key lookup %q: %v", id, err)
			}
			if err := s.TouchAPIKeys(ctx, map[string]time.Time{id: time.Now()}); err != nil {
				t.Errorf("postgres touch %q: %v", id, err)
			}
		}
	})
}

// A store whose engine is gone answers store.ErrUnavailable, and never
// "not found" or "not revoked".
func TestEngineGone(t *testing.T) {
	t.Parallel()
	s := openT(t, Config{DSN: sqliteFileDSN(t)})
	s.rw.Close()
	s.ro.Close()
	ctx := context.Background()
	if _, err := s.IsRevoked(ctx, "j"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("IsRevoked: %v", err)
	}
	if _, err := s.GetOrg(ctx, "acme"); !errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetOrg: %v", err)
	}
	if err := s.Consume(ctx, "k", time.Now().Add(time.Minute)); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Consume: %v", err)
	}
}

// Lists are in byte order, as Memory's are, whatever the database's
// collation.
func TestListOrder(t *testing.T) {
	t.Parallel()
	eachEngine(t, Config{}, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if s.d == dialectPostgres {
			// As in a database whose default collation is not C: ICU's
			// root collation sorts "a" before "B".
			var icu int
			s.rw.QueryRow("SELECT count(*) FROM pg_collation WHERE collname = 'und-x-icu'").Scan(&icu)
			if icu == 0 {
				t.Log("no ICU collation on the server: the lists are checked in the database's own collation")
			} else if _, err := s.rw.Exec(`ALTER TABLE orgs ALTER COLUMN id TYPE text COLLATE "und-x-icu";
				ALTER TABLE users ALTER COLUMN email TYPE text COLLATE "und-x-icu";
				ALTER TABLE api_keys ALTER COLUMN id TYPE text COLLATE "und-x-icu"`); err != nil {
				t.Fatal(err)
			}
		}
		ids := []string{"b", "B", "_", "a", "ä", "A-1", "a-1"}
		for _, id := range ids {
			must0(t, s.CreateOrg(ctx, store.Org{ID: id}))
		}
		for _, id := range ids {
			_, _, err := s.CreateUserIfAbsent(ctx, store.User{ID: "u" + id, OrgID: "a", Email: id + "@x.test"})
			must0(t, err)
			must0(t, s.CreateAPIKey(ctx, store.APIKey{ID: id, OrgID: "a", Hash: "h" + id}))
		}
		want := slices.Clone(ids)
		slices.Sort(want)
		var orgs, emails, keys []string // emails sort with their domain: "a-1@" before "a@"
		list, _ := s.ListOrgs(ctx)
		for _, o := range list {
			orgs = append(orgs, o.ID)
		}
		users, _ := s.ListUsers(ctx, "a")
		for _, u := range users {
			emails = append(emails, u.Email)
		}
		wantEmails := make([]string, len(ids))
		for i, id := range ids {
			wantEmails[i] = id + "@x.test"
		}
		slices.Sort(wantEmails)
		if !slices.Equal(emails, wantEmails) {
			t.Errorf("users in order %q, want %q", emails, wantEmails)
		}
		ks, _ := s.ListAPIKeys(ctx, "a")
		for _, k := range ks {
			keys = append(keys, k.ID)
		}
		for name, got := range map[string][]string{"orgs": orgs, "keys": keys} {
			if !slices.Equal(got, want) {
				t.Errorf("%s in order %q, want %q", name, got, want)
			}
		}
	})
}
