-- Hosts waiting for their value templates to be chosen by their SNMP sysObjectID (seed 001's
-- vendor auto-detect): on the host's next check that reaches its agent, the worker reads
-- sysObjectID.0, assigns the templates whose sys_object_ids prefixes fit it best, and removes the
-- row. A row, not a column on hosts: only a few hosts wait at any time, and the hot hosts row
-- stays as it is.
CREATE TABLE host_value_auto_detect (
  host_id uuid PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
  requested_at timestamptz NOT NULL DEFAULT now()
);
