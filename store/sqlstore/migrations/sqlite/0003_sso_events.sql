-- The newest sign-in attempts of each organization, for its administrators
-- (store.SSOLog). seq orders them by when they were added; the store keeps
-- only the newest few per organization, and deleting an organization
-- deletes its log.

CREATE TABLE sso_events (
	seq        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	id         TEXT    NOT NULL UNIQUE,
	org_id     TEXT    NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	at         INTEGER NOT NULL,
	email      TEXT    NOT NULL DEFAULT '',
	user_id    TEXT    NOT NULL DEFAULT '',
	idp_name   TEXT    NOT NULL DEFAULT '',
	protocol   TEXT    NOT NULL DEFAULT '',
	outcome    TEXT    NOT NULL DEFAULT '',
	reason     TEXT    NOT NULL DEFAULT '',
	check_text TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX sso_events_org_seq ON sso_events (org_id, seq DESC);
