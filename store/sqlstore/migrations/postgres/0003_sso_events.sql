-- The newest sign-in attempts of each organization, for its administrators
-- (store.SSOLog). seq orders them by when they were added; the store keeps
-- only the newest few per organization, and deleting an organization
-- deletes its log.

CREATE TABLE sso_events (
	seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id         text        NOT NULL UNIQUE,
	org_id     text        NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	at         timestamptz NOT NULL,
	email      text        NOT NULL DEFAULT '',
	user_id    text        NOT NULL DEFAULT '',
	idp_name   text        NOT NULL DEFAULT '',
	protocol   text        NOT NULL DEFAULT '',
	outcome    text        NOT NULL DEFAULT '',
	reason     text        NOT NULL DEFAULT '',
	check_text text        NOT NULL DEFAULT ''
);

CREATE INDEX sso_events_org_seq ON sso_events (org_id, seq DESC);
