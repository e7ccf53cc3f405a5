-- The control plane's records and the expiring state replicas share.
-- Times are timestamptz (microseconds); NULL is the zero time. Lists and
-- maps are jsonb; NULL is nil. Expiring keys are bytea, compared byte for
-- byte.

CREATE TABLE orgs (
	id                   text        NOT NULL PRIMARY KEY,
	name                 text        NOT NULL DEFAULT '',
	plan                 text        NOT NULL DEFAULT '',
	clerk_org_id         text        NOT NULL DEFAULT '',
	allowed_domains      jsonb,
	default_role         text        NOT NULL DEFAULT '',
	auto_create_users    boolean     NOT NULL DEFAULT FALSE,
	require_sso          boolean     NOT NULL DEFAULT FALSE,
	disable_api_key_auth boolean     NOT NULL DEFAULT FALSE,
	group_roles          jsonb,
	clerk_role_map       jsonb,
	connection           bytea,
	sso_configured       boolean     NOT NULL DEFAULT FALSE,
	require_sso_since    timestamptz,
	last_sso_login       timestamptz,
	last_sso_provider    text        NOT NULL DEFAULT '',
	created_at           timestamptz NOT NULL,
	updated_at           timestamptz NOT NULL
);

-- One organization per Clerk organization.
CREATE UNIQUE INDEX orgs_clerk_org_id_key ON orgs (clerk_org_id) WHERE clerk_org_id <> '';

CREATE TABLE users (
	id             text        NOT NULL PRIMARY KEY,
	org_id         text        NOT NULL REFERENCES orgs (id),
	email          text        NOT NULL,
	role           text        NOT NULL DEFAULT '',
	clerk_user_id  text        NOT NULL DEFAULT '',
	subject        text        NOT NULL DEFAULT '',
	subject_issuer text        NOT NULL DEFAULT '',
	password_hash  text        NOT NULL DEFAULT '',
	source         text        NOT NULL DEFAULT '',
	last_login     timestamptz,
	valid_after    timestamptz,
	created_at     timestamptz NOT NULL,
	-- One person per organization and canonical email, byte for byte.
	CONSTRAINT users_org_id_email_key UNIQUE (org_id, email)
);

-- org_id does not reference orgs here: migration 0002_api_keys_org_fk adds
-- the reference (the store contract, package storetest, used to create API
-- keys of organizations it never created).
CREATE TABLE api_keys (
	id         text        NOT NULL PRIMARY KEY,
	org_id     text        NOT NULL,
	name       text        NOT NULL DEFAULT '',
	role       text        NOT NULL DEFAULT '',
	prefix     text        NOT NULL DEFAULT '',
	hash       text        NOT NULL CHECK (hash <> ''),
	created_at timestamptz NOT NULL,
	expires_at timestamptz,
	last_used  timestamptz,
	revoked    boolean     NOT NULL DEFAULT FALSE,
	CONSTRAINT api_keys_hash_key UNIQUE (hash)
);

CREATE INDEX api_keys_org_id ON api_keys (org_id);

-- Revoked session token IDs until the token would have expired.
CREATE TABLE revocations (
	jti   bytea       NOT NULL PRIMARY KEY,
	until timestamptz NOT NULL
);

CREATE INDEX revocations_until ON revocations (until);

-- One-time values (SAML assertion IDs, sign-in state nonces).
CREATE TABLE replay (
	key   bytea       NOT NULL PRIMARY KEY,
	until timestamptz NOT NULL
);

CREATE INDEX replay_until ON replay (until);

-- Webhook message IDs: claimed (until is the lease) or applied.
CREATE TABLE webhooks (
	id      bytea       NOT NULL PRIMARY KEY,
	applied boolean     NOT NULL,
	until   timestamptz NOT NULL
);

CREATE INDEX webhooks_until ON webhooks (until);

-- Login counts per key and window length; window_start and window_len are
-- nanoseconds (since the Unix epoch, and long).
CREATE TABLE rate_counts (
	key          bytea       NOT NULL,
	window_len   bigint      NOT NULL CHECK (window_len > 0),
	window_start bigint      NOT NULL,
	n            bigint      NOT NULL,
	until        timestamptz NOT NULL,
	PRIMARY KEY (key, window_len)
);

CREATE INDEX rate_counts_until ON rate_counts (until);
