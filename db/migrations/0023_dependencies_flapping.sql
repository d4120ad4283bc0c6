-- Host dependencies (a host behind a parent: an OLT, a switch, a jump host), the UNREACHABLE
-- state they lead to, and flap detection.

ALTER TABLE hosts DROP CONSTRAINT hosts_monitoring_state_check;
ALTER TABLE hosts ADD CONSTRAINT hosts_monitoring_state_check
  CHECK (monitoring_state IN ('HEALTHY', 'DEGRADED', 'CRITICAL', 'DOWN', 'UNREACHABLE'));

-- A host's own parents. Deleting a parent is refused (RESTRICT) while a child depends on it: the
-- API detaches the children first only when asked to.
CREATE TABLE host_dependencies (
  child_id uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
  parent_id uuid NOT NULL REFERENCES hosts (id) ON DELETE RESTRICT,
  PRIMARY KEY (child_id, parent_id),
  CHECK (child_id <> parent_id)
);
-- Children of a parent: the recovery spread and the descendants of an incident's host walk down.
CREATE INDEX host_dependencies_parent_idx ON host_dependencies (parent_id, child_id);

-- A group's gateway: every member (but the gateway itself) depends on it.
ALTER TABLE host_groups ADD COLUMN gateway_host_id uuid REFERENCES hosts (id) ON DELETE RESTRICT;
CREATE INDEX host_groups_gateway_idx ON host_groups (gateway_host_id) WHERE gateway_host_id IS NOT NULL;

-- Every parent edge, own or through the group's gateway: what the recursive walks follow.
CREATE VIEW host_parent_edges AS
  SELECT child_id, parent_id FROM host_dependencies
  UNION
  SELECT h.id, g.gateway_host_id FROM hosts h JOIN host_groups g ON g.name = h."group"
   WHERE g.gateway_host_id IS NOT NULL AND g.gateway_host_id <> h.id;

-- The hosts an incident's host made UNREACHABLE while the incident was open (its paged list and count).
CREATE TABLE incident_unreachable_hosts (
  incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  host_id uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
  since timestamptz NOT NULL,
  PRIMARY KEY (incident_id, host_id)
);
CREATE INDEX incident_unreachable_hosts_host_idx ON incident_unreachable_hosts (host_id);

-- Flap detection (Icinga 2's weighted state-change percentage): one character per recent check
-- result, '1' where it differed from the one before, oldest first, at most 20.
ALTER TABLE hosts
  ADD COLUMN flap_changes text NOT NULL DEFAULT '' CHECK (flap_changes ~ '^[01]{0,20}$'),
  ADD COLUMN flap_percent double precision NOT NULL DEFAULT 0,
  ADD COLUMN flapping boolean NOT NULL DEFAULT false;
CREATE INDEX hosts_flapping_idx ON hosts (id) WHERE flapping;

ALTER TABLE host_events DROP CONSTRAINT host_events_type_check;
ALTER TABLE host_events ADD CONSTRAINT host_events_type_check
  CHECK (type IN ('state_changed', 'incident_opened', 'incident_updated', 'incident_resolved', 'incident_acknowledged', 'check_not_run',
                  'flapping_started', 'flapping_stopped'));
