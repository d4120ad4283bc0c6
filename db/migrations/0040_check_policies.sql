-- Named check policies (intervals and priorities per state, timeout, thresholds, probe retries),
-- assigned to hosts and groups; a host may also override single fields. The settings are a JSON
-- object validated by the API's zod schema (src/api/policy-schemas.ts): fields left out fall back
-- to the next level (host -> group -> fleet defaults).

CREATE TABLE check_policies (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
  settings jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- RESTRICT: a policy in use cannot vanish from under its hosts (the API answers 409 naming them).
ALTER TABLE hosts
  ADD COLUMN policy_id uuid REFERENCES check_policies (id) ON DELETE RESTRICT,
  ADD COLUMN policy_overrides jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(policy_overrides) = 'object');
ALTER TABLE host_groups ADD COLUMN policy_id uuid REFERENCES check_policies (id) ON DELETE RESTRICT;

-- A policy change finds the hosts it reschedules through these.
CREATE INDEX hosts_policy_idx ON hosts (policy_id) WHERE policy_id IS NOT NULL;
CREATE INDEX host_groups_policy_idx ON host_groups (policy_id) WHERE policy_id IS NOT NULL;
