-- Scheduling at scale: maintenance, concurrency groups, delay tracking, worker heartbeats.

ALTER TABLE hosts ADD COLUMN maintenance boolean NOT NULL DEFAULT false;

-- Settings of a group (the OLT, jump host or slow device hosts sit behind). A group named on a
-- host but absent here has the defaults.
CREATE TABLE host_groups (
  name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 255),
  max_concurrent_checks integer NOT NULL DEFAULT 1 CHECK (max_concurrent_checks BETWEEN 1 AND 1000),
  maintenance boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The claim skips hosts in maintenance, so the partial index does too.
DROP INDEX hosts_due_idx;
CREATE INDEX hosts_due_idx ON hosts (next_check_time) WHERE enabled AND NOT maintenance;
CREATE INDEX hosts_group_idx ON hosts ("group") WHERE "group" IS NOT NULL;

ALTER TABLE host_monitoring_history
  DROP CONSTRAINT host_monitoring_history_checked_by_check,
  ADD CONSTRAINT host_monitoring_history_checked_by_check CHECK (checked_by IN ('scheduler', 'jit', 'reset')),
  -- Start of the check minus the time it was due (scheduled checks only).
  ADD COLUMN schedule_lag_ms double precision,
  -- The host's probe types, e.g. 'tcp' or 'tcp+ssh+snmp', for stats by probe type.
  ADD COLUMN probe_type text,
  -- A JIT check of a host in maintenance: recorded, but it does not move the state machine.
  ADD COLUMN in_maintenance boolean NOT NULL DEFAULT false;

-- Live worker processes, each upserting its row every few seconds.
CREATE TABLE vigil_workers (
  id uuid PRIMARY KEY,
  hostname text NOT NULL,
  pid integer NOT NULL,
  concurrency integer NOT NULL,
  running integer NOT NULL DEFAULT 0,
  checks_done bigint NOT NULL DEFAULT 0,
  busy_percent double precision NOT NULL DEFAULT 0,
  started_at timestamptz NOT NULL DEFAULT now(),
  last_heartbeat timestamptz NOT NULL DEFAULT now()
);
