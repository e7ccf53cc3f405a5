-- The control plane's records and the expiring state replicas share.
-- Times are INTEGER microseconds since the Unix epoch, UTC (store.Stamp);
-- NULL is the zero time. Lists and maps are JSON text; NULL is nil.
-- Expiring keys are BLOBs, compared byte for byte.

CREATE TABLE orgs (
	id                   TEXT    NOT NULL PRIMARY KEY,
	name                 TEXT    NOT NULL DEFAULT '',
	plan                 TEXT    NOT NULL DEFAULT '',
	clerk_org_id         TEXT    NOT NULL DEFAULT '',
	allowed_domains      TEXT,
	default_role         TEXT    NOT NULL DEFAULT '',
	auto_create_users    INTEGER NOT NULL DEFAULT 0 CHECK (auto_create_users IN (0, 1)),
	require_sso          INTEGER NOT NULL DEFAULT 0 CHECK (require_sso IN (0, 1)),
	disable_api_key_auth INTEGER NOT NULL DEFAULT 0 CHECK (disable_api_key_auth IN (0, 1)),
	group_roles          TEXT,
	clerk_role_map       TEXT,
	connection           BLOB,
	sso_configured       INTEGER NOT NULL DEFAULT 0 CHECK (sso_configured IN (0, 1)),
	require_sso_since    INTEGER,
	last_sso_login       INTEGER,
	last_sso_provider    TEXT    NOT NULL DEFAULT '',
	created_at           INTEGER NOT NULL,
	updated_at           INTEGER NOT NULL
) STRICT;

-- One organization per Clerk organization.
CREATE UNIQUE INDEX orgs_clerk_org_id_key ON orgs (clerk_org_id) WHERE clerk_org_id <> '';

CREATE TABLE users (
	id             TEXT    NOT NULL PRIMARY KEY,
	org_id         TEXT    NOT NULL REFERENCES orgs (id),
	email          TEXT    NOT NULL,
	role           TEXT    NOT NULL DEFAULT '',
	clerk_user_id  TEXT    NOT NULL DEFAULT '',
	subject        TEXT    NOT NULL DEFAULT '',
	subject_issuer TEXT    NOT NULL DEFAULT '',
	password_hash  TEXT    NOT NULL DEFAULT '',
	source         TEXT    NOT NULL DEFAULT '',
	last_login     INTEGER,
	valid_after    INTEGER,
	created_at     INTEGER NOT NULL,
	-- One person per organization and canonical email, byte for byte.
	CONSTRAINT users_org_id_email_key UNIQUE (org_id, email)
) STRICT;

-- org_id does not reference orgs here: migration 0002_api_keys_org_fk
-- rebuilds this table with the reference (the store contract, package
-- storetest, used to create API keys of organizations it never created).
CREATE TABLE api_keys (
	id         TEXT    NOT NULL PRIMARY KEY,
	org_id     TEXT    NOT NULL,
	name       TEXT    NOT NULL DEFAULT '',
	role       TEXT    NOT NULL DEFAULT '',
	prefix     TEXT    NOT NULL DEFAULT '',
	hash       TEXT    NOT NULL CHECK (hash <> ''),
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	last_used  INTEGER,
	revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
	CONSTRAINT api_keys_hash_key UNIQUE (hash)
) STRICT;

CREATE INDEX api_keys_org_id ON api_keys (org_id);

-- Revoked session token IDs until the token would have expired.
CREATE TABLE revocations (
	jti   BLOB    NOT NULL PRIMARY KEY,
	until INTEGER NOT NULL
) STRICT;

CREATE INDEX revocations_until ON revocations (until);

-- One-time values (SAML assertion IDs, sign-in state nonces).
CREATE TABLE replay (
	key   BLOB    NOT NULL PRIMARY KEY,
	until INTEGER NOT NULL
) STRICT;

CREATE INDEX replay_until ON replay (until);

-- Webhook message IDs: claimed (until is the lease) or applied.
CREATE TABLE webhooks (
	id      BLOB    NOT NULL PRIMARY KEY,
	applied INTEGER NOT NULL CHECK (applied IN (0, 1)),
	until   INTEGER NOT NULL
) STRICT;

CREATE INDEX webhooks_until ON webhooks (until);

-- Login counts per key and window length; window_start and window_len are
-- nanoseconds (since the Unix epoch, and long).
CREATE TABLE rate_counts (
	key          BLOB    NOT NULL,
	window_len   INTEGER NOT NULL CHECK (window_len > 0),
	window_start INTEGER NOT NULL,
	n            INTEGER NOT NULL,
	until        INTEGER NOT NULL,
	PRIMARY KEY (key, window_len)
) STRICT;

CREATE INDEX rate_counts_until ON rate_counts (until);
