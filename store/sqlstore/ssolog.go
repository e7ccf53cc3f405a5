package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ssokit/ssokit/store"
)

const ssoEventCols = "id, org_id, at, email, user_id, idp_name, protocol, outcome, reason, check_text, unverified"

// AddSSOEvent implements store.SSOLog: the insert and the trim of the
// organization's older events are one transaction. The SSO log is not
// one of the records other replicas cache, so it does not move Version.
func (s *Store) AddSSOEvent(ctx context.Context, e store.SSOEvent, keep int) error {
	if err := s.usable(); err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if keep < 1 {
		return fmt.Errorf("sqlstore: keep %d: at least one event is kept", keep)
	}
	e = store.CleanSSOEvent(e)
	if e.ID == "" {
		e.ID = rand.Text()
	}
	if e.Time.IsZero() {
		e.Time = s.stamp()
	}
	at, err := s.timeArg(e.Time)
	if err != nil {
		return err
	}
	return s.write(ctx, false, func(tx *sql.Tx) error {
		// The organization's row is locked first (PostgreSQL; SQLite has
		// one writer), so that concurrent writers trim one after another
		// and never leave more than keep events.
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM orgs WHERE id = $1"+s.forUpdate(), e.OrgID).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("%w: organization %s", store.ErrNotFound, e.OrgID)
		case err != nil:
			return s.fail("recording an SSO event", err)
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO sso_events ("+ssoEventCols+") VALUES ("+placeholders(1, 11)+")",
			e.ID, e.OrgID, at, e.Email, e.UserID, e.IdPName, e.Protocol, e.Outcome, e.Reason, e.Check, e.Unverified)
		switch {
		case classify(err) == errForeignKey:
			return fmt.Errorf("%w: organization %s", store.ErrNotFound, e.OrgID)
		case classify(err) == errUnique:
			return fmt.Errorf("%w: SSO event %s", store.ErrExists, e.ID)
		case err != nil:
			return s.fail("recording an SSO event", err)
		}
		// Only e's kind is trimmed: unverified events never push out the
		// others.
		_, err = tx.ExecContext(ctx, "DELETE FROM sso_events WHERE org_id = $1 AND unverified = $3 AND seq <= "+
			"(SELECT seq FROM sso_events WHERE org_id = $1 AND unverified = $3 ORDER BY seq DESC LIMIT 1 OFFSET $2)", e.OrgID, keep, e.Unverified)
		if err != nil {
			return s.fail("trimming the SSO log", err)
		}
		return nil
	})
}

// SSOEvents implements store.SSOLog.
func (s *Store) SSOEvents(ctx context.Context, orgID string, limit int) ([]store.SSOEvent, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if limit < 1 || !s.storable(orgID) {
		return nil, nil
	}
	rows, err := s.ro.QueryContext(ctx, "SELECT "+ssoEventCols+" FROM sso_events WHERE org_id = $1 ORDER BY seq DESC LIMIT $2", orgID, limit)
	if err != nil {
		return nil, s.fail("reading the SSO log", err)
	}
	defer rows.Close()
	var out []store.SSOEvent
	for rows.Next() {
		var e store.SSOEvent
		if err := rows.Scan(&e.ID, &e.OrgID, timeCol{&e.Time}, &e.Email, &e.UserID, &e.IdPName, &e.Protocol, &e.Outcome, &e.Reason, &e.Check, &e.Unverified); err != nil {
			return nil, s.fail("reading the SSO log", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("reading the SSO log", err)
	}
	return out, nil
}
