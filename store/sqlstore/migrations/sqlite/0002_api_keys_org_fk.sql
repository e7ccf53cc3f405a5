-- api_keys.org_id references orgs, as users.org_id does: without ON DELETE
-- (NO ACTION), so an organization is not deleted while it has API keys.
--
-- API keys of organizations that do not exist are deleted first. No caller
-- could use one (admission refuses a key whose organization is gone), and
-- kept, one would come back to life if an organization of that ID were
-- created.
--
-- SQLite cannot add a constraint to a table: the table is rebuilt as its
-- documentation prescribes (https://www.sqlite.org/lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"): create the new table, copy
-- the rows, drop the old table, rename the new one, recreate the indexes,
-- all in this migration's transaction. foreign_keys stays on (it cannot be
-- changed inside a transaction), which is safe here: no table references
-- api_keys, so neither the drop nor the rename touches another table, and
-- the copy checks every row's organization.

DELETE FROM api_keys WHERE NOT EXISTS (SELECT 1 FROM orgs WHERE orgs.id = api_keys.org_id);

CREATE TABLE api_keys_new (
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
	CONSTRAINT api_keys_hash_key UNIQUE (hash),
	CONSTRAINT api_keys_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id)
) STRICT;

INSERT INTO api_keys_new (id, org_id, name, role, prefix, hash, created_at, expires_at, last_used, revoked)
	SELECT id, org_id, name, role, prefix, hash, created_at, expires_at, last_used, revoked FROM api_keys;

DROP TABLE api_keys;

ALTER TABLE api_keys_new RENAME TO api_keys;

CREATE INDEX api_keys_org_id ON api_keys (org_id);
