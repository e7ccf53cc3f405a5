-- api_keys.org_id references orgs, as users.org_id does: without ON DELETE
-- (NO ACTION), so an organization is not deleted while it has API keys.
--
-- API keys of organizations that do not exist are deleted first. No caller
-- could use one (admission refuses a key whose organization is gone), and
-- kept, one would come back to life if an organization of that ID were
-- created.
--
-- Adding the constraint checks every row while it holds a SHARE ROW
-- EXCLUSIVE lock on api_keys and orgs: writes to them wait until this
-- migration commits; reads go on.

DELETE FROM api_keys WHERE NOT EXISTS (SELECT 1 FROM orgs WHERE orgs.id = api_keys.org_id);

ALTER TABLE api_keys ADD CONSTRAINT api_keys_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id);
