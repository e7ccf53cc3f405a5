-- Refusals of answers the identity provider did not vouch for (a bad
-- signature, a junk code: anyone could have sent them) are kept apart in
-- each organization's SSO log, trimmed on their own, so that they never
-- push out an accepted sign-in or a refusal the IdP vouched for. Events
-- kept before this migration count as vouched for.

ALTER TABLE sso_events ADD COLUMN unverified boolean NOT NULL DEFAULT false;

CREATE INDEX sso_events_org_kind_seq ON sso_events (org_id, unverified, seq DESC);
