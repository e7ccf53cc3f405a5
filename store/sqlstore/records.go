package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ssokit/ssokit/store"
)

// ---- organizations ---------------------------------------------------------

const orgCols = "id, name, plan, clerk_org_id, allowed_domains, default_role, auto_create_users, require_sso, " +
	"disable_api_key_auth, group_roles, clerk_role_map, connection, sso_configured, require_sso_since, " +
	"last_sso_login, last_sso_provider, created_at, updated_at"

const orgColCount = 18

// orgSet assigns every column but id from the parameters $2 on, in
// orgCols order.
var orgSet = func() string {
	var set []string
	for i, col := range strings.Split(orgCols, ", ")[1:] {
		set = append(set, fmt.Sprintf("%s = $%d", col, i+2))
	}
	return strings.Join(set, ", ")
}()

func scanOrg(row interface{ Scan(...any) error }) (store.Org, error) {
	var o store.Org
	err := row.Scan(&o.ID, &o.Name, &o.Plan, &o.ClerkOrgID, jsonCol{&o.AllowedDomains}, &o.DefaultRole,
		&o.AutoCreateUsers, &o.RequireSSO, &o.DisableAPIKeyAuth, jsonCol{&o.GroupRoles}, jsonCol{&o.ClerkRoleMap},
		bytesCol{&o.Connection}, &o.SSOConfigured, timeCol{&o.RequireSSOSince}, timeCol{&o.LastSSOLogin},
		&o.LastSSOProvider, timeCol{&o.Created}, timeCol{&o.Updated})
	return o, err
}

// orgArgs are o's column values in orgCols order, its times stamped.
func (s *Store) orgArgs(o *store.Org) ([]any, error) {
	o.RequireSSOSince, o.LastSSOLogin = store.Stamp(o.RequireSSOSince), store.Stamp(o.LastSSOLogin)
	o.Created, o.Updated = store.Stamp(o.Created), store.Stamp(o.Updated)
	domains, err := jsonArg(o.AllowedDomains, o.AllowedDomains == nil)
	if err != nil {
		return nil, err
	}
	groups, err := jsonArg(o.GroupRoles, o.GroupRoles == nil)
	if err != nil {
		return nil, err
	}
	roleMap, err := jsonArg(o.ClerkRoleMap, o.ClerkRoleMap == nil)
	if err != nil {
		return nil, err
	}
	times := make([]any, 4)
	for i, t := range []time.Time{o.RequireSSOSince, o.LastSSOLogin, o.Created, o.Updated} {
		if times[i], err = s.timeArg(t); err != nil {
			return nil, err
		}
	}
	return []any{o.ID, o.Name, o.Plan, o.ClerkOrgID, domains, o.DefaultRole, o.AutoCreateUsers, o.RequireSSO,
		o.DisableAPIKeyAuth, groups, roleMap, bytesArg(o.Connection), o.SSOConfigured, times[0], times[1],
		o.LastSSOProvider, times[2], times[3]}, nil
}

// orgWriteErr says what a failed write of o means.
func (s *Store) orgWriteErr(o store.Org, err error) error {
	if classify(err) == errUnique {
		if o.ClerkOrgID != "" {
			return fmt.Errorf("%w: organization %s, or Clerk organization %s mapped to another one", store.ErrExists, o.ID, o.ClerkOrgID)
		}
		return fmt.Errorf("%w: organization %s", store.ErrExists, o.ID)
	}
	return s.fail(fmt.Sprintf("writing organization %q", o.ID), err)
}

// CreateOrg implements store.Orgs. Created and Updated are the store's
// clock.
func (s *Store) CreateOrg(ctx context.Context, o store.Org) error {
	if err := s.usable(); err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	now := s.stamp()
	o.Created, o.Updated = now, now
	args, err := s.orgArgs(&o)
	if err != nil {
		return err
	}
	return s.write(ctx, true, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO orgs ("+orgCols+") VALUES ("+placeholders(1, orgColCount)+")", args...)
		if err != nil {
			return s.orgWriteErr(o, err)
		}
		return nil
	})
}

func (s *Store) getOrg(ctx context.Context, q querier, lock bool, where string, arg any) (store.Org, error) {
	query := "SELECT " + orgCols + " FROM orgs WHERE " + where
	if lock {
		query += s.forUpdate()
	}
	o, err := scanOrg(q.QueryRowContext(ctx, query, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Org{}, store.ErrNotFound
	}
	if err != nil {
		return store.Org{}, s.fail("reading an organization", err)
	}
	return o, nil
}

// GetOrg implements store.Orgs.
func (s *Store) GetOrg(ctx context.Context, id string) (store.Org, error) {
	if err := s.usable(); err != nil {
		return store.Org{}, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if !s.storable(id) {
		return store.Org{}, fmt.Errorf("%w: organization %q", store.ErrNotFound, id)
	}
	o, err := s.getOrg(ctx, s.ro, false, "id = $1", id)
	if errors.Is(err, store.ErrNotFound) {
		return o, fmt.Errorf("%w: organization %s", store.ErrNotFound, id)
	}
	return o, err
}

// OrgByClerkID implements store.Orgs.
func (s *Store) OrgByClerkID(ctx context.Context, clerkOrgID string) (store.Org, error) {
	if err := s.usable(); err != nil {
		return store.Org{}, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	notFound := fmt.Errorf("%w: no organization maps Clerk organization %q", store.ErrNotFound, clerkOrgID)
	if clerkOrgID == "" || !s.storable(clerkOrgID) {
		return store.Org{}, notFound
	}
	o, err := s.getOrg(ctx, s.ro, false, "clerk_org_id = $1", clerkOrgID)
	if errors.Is(err, store.ErrNotFound) {
		return o, notFound
	}
	return o, err
}

// UpdateOrg implements store.Orgs: fn runs inside the transaction that
// holds the organization's row (SQLite: the database's write lock), so it
// must not call the store itself. If fn returns an error nothing is
// written and that error is returned as it is.
func (s *Store) UpdateOrg(ctx context.Context, id string, fn func(*store.Org) error) (store.Org, error) {
	if err := s.usable(); err != nil {
		return store.Org{}, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if !s.storable(id) {
		return store.Org{}, fmt.Errorf("%w: organization %q", store.ErrNotFound, id)
	}
	var out store.Org
	err := s.write(ctx, true, func(tx *sql.Tx) error {
		o, err := s.getOrg(ctx, tx, true, "id = $1", id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: organization %s", store.ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		if err := fn(&o); err != nil {
			return err
		}
		o.ID = id
		o.Updated = s.stamp()
		args, err := s.orgArgs(&o)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE orgs SET "+orgSet+" WHERE id = $1", args...); err != nil {
			return s.orgWriteErr(o, err)
		}
		out = o
		return nil
	})
	if err != nil {
		return store.Org{}, err
	}
	return out, nil
}

// ListOrgs implements store.Orgs: every organization, by ID.
func (s *Store) ListOrgs(ctx context.Context) ([]store.Org, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.ro.QueryContext(ctx, "SELECT "+orgCols+" FROM orgs ORDER BY "+s.byteOrder("id"))
	if err != nil {
		return nil, s.fail("listing organizations", err)
	}
	defer rows.Close()
	out := []store.Org{}
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, s.fail("listing organizations", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("listing organizations", err)
	}
	return out, nil
}

// ---- people ----------------------------------------------------------------

const userCols = "id, org_id, email, role, clerk_user_id, subject, subject_issuer, password_hash, source, " +
	"last_login, valid_after, created_at"

const userColCount = 12

func scanUser(row interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	err := row.Scan(&u.ID, &u.OrgID, &u.Email, &u.Role, &u.ClerkUserID, &u.Subject, &u.SubjectIssuer,
		&u.PasswordHash, &u.Source, timeCol{&u.LastLogin}, timeCol{&u.ValidAfter}, timeCol{&u.Created})
	return u, err
}

// userArgs are u's column values in userCols order, its times stamped.
func (s *Store) userArgs(u *store.User) ([]any, error) {
	u.LastLogin, u.ValidAfter, u.Created = store.Stamp(u.LastLogin), store.Stamp(u.ValidAfter), store.Stamp(u.Created)
	times := make([]any, 3)
	for i, t := range []time.Time{u.LastLogin, u.ValidAfter, u.Created} {
		var err error
		if times[i], err = s.timeArg(t); err != nil {
			return nil, err
		}
	}
	return []any{u.ID, u.OrgID, u.Email, u.Role, u.ClerkUserID, u.Subject, u.SubjectIssuer, u.PasswordHash,
		u.Source, times[0], times[1], times[2]}, nil
}

func (s *Store) getUser(ctx context.Context, q querier, lock bool, where string, args ...any) (store.User, error) {
	query := "SELECT " + userCols + " FROM users WHERE " + where
	if lock {
		query += s.forUpdate()
	}
	u, err := scanUser(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, store.ErrNotFound
	}
	if err != nil {
		return store.User{}, s.fail("reading a user", err)
	}
	return u, nil
}

// GetUser implements store.Users.
func (s *Store) GetUser(ctx context.Context, id string) (store.User, error) {
	if err := s.usable(); err != nil {
		return store.User{}, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if !s.storable(id) {
		return store.User{}, fmt.Errorf("%w: user %q", store.ErrNotFound, id)
	}
	u, err := s.getUser(ctx, s.ro, false, "id = $1", id)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("%w: user %s", store.ErrNotFound, id)
	}
	return u, err
}

// UserByEmail implements store.Users: the email is compared byte for
// byte.
func (s *Store) UserByEmail(ctx context.Context, orgID, email string) (store.User, error) {
	if err := s.usable(); err != nil {
		return store.User{}, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	notFound := fmt.Errorf("%w: user %q in %q", store.ErrNotFound, email, orgID)
	if !s.storable(orgID, email) {
		return store.User{}, notFound
	}
	u, err := s.getUser(ctx, s.ro, false, "org_id = $1 AND email = $2", orgID, email)
	if errors.Is(err, store.ErrNotFound) {
		return u, notFound
	}
	return u, err
}

// CreateUserIfAbsent implements store.Users: the unique (org_id, email)
// index decides between concurrent first logins, on every replica.
func (s *Store) CreateUserIfAbsent(ctx context.Context, u store.User) (store.User, bool, error) {
	if err := s.usable(); err != nil {
		return store.User{}, false, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	u.Created = s.stamp()
	args, err := s.userArgs(&u)
	if err != nil {
		return store.User{}, false, err
	}
	var out store.User
	var created bool
	attempt := func(ctx context.Context, q querier) error {
		// Found, or inserted, or lost a race to a user deleted right after
		// it was inserted: then again.
		for range 3 {
			got, err := s.getUser(ctx, q, false, "org_id = $1 AND email = $2", u.OrgID, u.Email)
			if err == nil {
				out = got
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			res, err := q.ExecContext(ctx, "INSERT INTO users ("+userCols+") VALUES ("+placeholders(1, userColCount)+
				") ON CONFLICT (org_id, email) DO NOTHING", args...)
			switch classify(err) {
			case errForeignKey:
				return fmt.Errorf("%w: organization %s", store.ErrNotFound, u.OrgID)
			case errUnique:
				return fmt.Errorf("%w: user %s", store.ErrExists, u.ID)
			}
			if err != nil {
				return s.fail("creating a user", err)
			}
			if n, err := res.RowsAffected(); err == nil && n == 1 {
				out, created = u, true
				return nil
			}
		}
		return fmt.Errorf("%w: sqlstore: user %s in %s was created and deleted while it was created again", store.ErrUnavailable, u.Email, u.OrgID)
	}
	if s.d == dialectPostgres {
		// ON CONFLICT waits for a concurrent insert of the same person and
		// then does nothing; the read after it sees that person.
		err = attempt(ctx, s.rw)
	} else {
		err = s.write(ctx, false, func(tx *sql.Tx) error { return attempt(ctx, tx) })
	}
	if err != nil {
		return store.User{}, false, err
	}
	return out, created, nil
}

// updateUser runs change on the user's row inside a transaction that
// holds it, then writes every column but id, org_id and email.
func (s *Store) updateUser(ctx context.Context, id string, change func(*store.User) error) (store.User, error) {
	if err := s.usable(); err != nil {
		return store.User{}, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if !s.storable(id) {
		return store.User{}, fmt.Errorf("%w: user %q", store.ErrNotFound, id)
	}
	var out store.User
	err := s.write(ctx, true, func(tx *sql.Tx) error {
		u, err := s.getUser(ctx, tx, true, "id = $1", id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: user %s", store.ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		old := u
		if err := change(&u); err != nil {
			return err
		}
		u.ID, u.OrgID, u.Email = id, old.OrgID, old.Email
		args, err := s.userArgs(&u)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET role = $4, clerk_user_id = $5, subject = $6, subject_issuer = $7, "+
			"password_hash = $8, source = $9, last_login = $10, valid_after = $11, created_at = $12 WHERE id = $1 AND org_id = $2 AND email = $3", args...); err != nil {
			return s.fail(fmt.Sprintf("updating user %q", id), err)
		}
		out = u
		return nil
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}

// UpdateUser implements store.Users: fn runs inside the transaction that
// holds the user's row (SQLite: the database's write lock), so it must not
// call the store itself. If fn returns an error nothing is written and
// that error is returned as it is. ID, OrgID and Email keep their stored
// values.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (store.User, error) {
	return s.updateUser(ctx, id, fn)
}

// ChangeRole implements store.Users: the role and ValidAfter (which
// never moves back) in one transaction.
func (s *Store) ChangeRole(ctx context.Context, id, role string, revokeBefore time.Time) (store.User, error) {
	return s.updateUser(ctx, id, func(u *store.User) error {
		u.Role = role
		if t := store.Stamp(revokeBefore); t.After(u.ValidAfter) {
			u.ValidAfter = t
		}
		return nil
	})
}

// DeleteUser implements store.Users: allow judges the user's row as the
// transaction holds it (SQLite: the database's write lock), so it must
// not call the store itself.
func (s *Store) DeleteUser(ctx context.Context, id string, allow func(store.User) error) error {
	if err := s.usable(); err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if !s.storable(id) {
		return fmt.Errorf("%w: user %q", store.ErrNotFound, id)
	}
	return s.write(ctx, true, func(tx *sql.Tx) error {
		if allow != nil {
			u, err := s.getUser(ctx, tx, true, "id = $1", id)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: user %s", store.ErrNotFound, id)
			} else if err != nil {
				return err
			}
			if err := allow(u); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM users WHERE id = $1", id)
		if err != nil {
			return s.fail(fmt.Sprintf("deleting user %q", id), err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return s.fail(fmt.Sprintf("deleting user %q", id), err)
		} else if n == 0 {
			return fmt.Errorf("%w: user %s", store.ErrNotFound, id)
		}
		return nil
	})
}

// ListUsers implements store.Users: the organization's people, by email.
func (s *Store) ListUsers(ctx context.Context, orgID string) ([]store.User, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if !s.storable(orgID) {
		return nil, nil
	}
	rows, err := s.ro.QueryContext(ctx, "SELECT "+userCols+" FROM users WHERE org_id = $1 ORDER BY "+s.byteOrder("email"), orgID)
	if err != nil {
		return nil, s.fail("listing users", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, s.fail("listing users", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("listing users", err)
	}
	return out, nil
}

// ---- API keys --------------------------------------------------------------

const keyCols = "id, org_id, name, role, prefix, hash, created_at, expires_at, last_used, revoked"

func scanKey(row interface{ Scan(...any) error }) (store.APIKey, error) {
	var k store.APIKey
	err := row.Scan(&k.ID, &k.OrgID, &k.Name, &k.Role, &k.Prefix, &k.Hash, timeCol{&k.Created},
		timeCol{&k.Expires}, timeCol{&k.LastUsed}, &k.Revoked)
	return k, err
}

// CreateAPIKey implements store.APIKeys. A zero Created is the store's
// clock.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	if err := s.usable(); err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if k.Hash == "" {
		return fmt.Errorf("%w: API key hash", store.ErrExists)
	}
	if k.Created.IsZero() {
		k.Created = s.now()
	}
	times := make([]any, 3)
	for i, t := range []time.Time{k.Created, k.Expires, k.LastUsed} {
		var err error
		if times[i], err = s.timeArg(t); err != nil {
			return err
		}
	}
	_, err := s.rw.ExecContext(ctx, "INSERT INTO api_keys ("+keyCols+") VALUES ("+placeholders(1, 10)+")",
		k.ID, k.OrgID, k.Name, k.Role, k.Prefix, k.Hash, times[0], times[1], times[2], k.Revoked)
	switch {
	case classify(err) == errUnique:
		return fmt.Errorf("%w: API key %s or its hash", store.ErrExists, k.ID)
	case classify(err) == errForeignKey:
		return fmt.Errorf("%w: organization %s", store.ErrNotFound, k.OrgID)
	case err != nil:
		return s.fail(fmt.Sprintf("creating API key %q", k.ID), err)
	}
	return nil
}

// APIKeyByHash implements store.APIKeys.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (store.APIKey, error) {
	if err := s.usable(); err != nil {
		return store.APIKey{}, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	notFound := fmt.Errorf("%w: API key", store.ErrNotFound)
	if !s.storable(hash) {
		return store.APIKey{}, notFound
	}
	k, err := scanKey(s.ro.QueryRowContext(ctx, "SELECT "+keyCols+" FROM api_keys WHERE hash = $1", hash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.APIKey{}, notFound
	}
	if err != nil {
		return store.APIKey{}, s.fail("reading an API key", err)
	}
	return k, nil
}

// ListAPIKeys implements store.APIKeys: the organization's keys, by ID.
func (s *Store) ListAPIKeys(ctx context.Context, orgID string) ([]store.APIKey, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if !s.storable(orgID) {
		return nil, nil
	}
	rows, err := s.ro.QueryContext(ctx, "SELECT "+keyCols+" FROM api_keys WHERE org_id = $1 ORDER BY "+s.byteOrder("id"), orgID)
	if err != nil {
		return nil, s.fail("listing API keys", err)
	}
	defer rows.Close()
	var out []store.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, s.fail("listing API keys", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("listing API keys", err)
	}
	return out, nil
}

// RevokeAPIKey implements store.APIKeys.
func (s *Store) RevokeAPIKey(ctx context.Context, orgID, id string) error {
	if err := s.usable(); err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if !s.storable(orgID, id) {
		return fmt.Errorf("%w: API key %q", store.ErrNotFound, id)
	}
	return s.write(ctx, true, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE api_keys SET revoked = TRUE WHERE id = $1 AND org_id = $2", id, orgID)
		if err != nil {
			return s.fail(fmt.Sprintf("revoking API key %q", id), err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return s.fail(fmt.Sprintf("revoking API key %q", id), err)
		} else if n == 0 {
			return fmt.Errorf("%w: API key %s", store.ErrNotFound, id)
		}
		return nil
	})
}

// TouchAPIKeys implements store.APIKeys: one transaction; a last use
// never moves back, and unknown IDs are skipped.
func (s *Store) TouchAPIKeys(ctx context.Context, used map[string]time.Time) error {
	if err := s.usable(); err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	ids := make([]string, 0, len(used))
	for id := range used {
		if s.storable(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids) // concurrent batches lock rows in one order
	return s.write(ctx, false, func(tx *sql.Tx) error {
		for _, id := range ids {
			t, err := s.timeArg(used[id])
			if err != nil {
				return err
			}
			if t == nil {
				continue // the zero time is no use
			}
			if _, err := tx.ExecContext(ctx, "UPDATE api_keys SET last_used = $1 WHERE id = $2 AND (last_used IS NULL OR last_used < $1)", t, id); err != nil {
				return s.fail("recording API key use", err)
			}
		}
		return nil
	})
}
