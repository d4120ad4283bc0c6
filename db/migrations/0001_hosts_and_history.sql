-- Hosts, each with its persisted health machine, and the history of every check.

CREATE TABLE hosts (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
  address text NOT NULL CHECK (length(address) BETWEEN 1 AND 255),
  -- Ordered list of probe configs, validated by the API's zod schemas before it gets here.
  probes jsonb NOT NULL CHECK (jsonb_typeof(probes) = 'array'),
  enabled boolean NOT NULL DEFAULT true,
  tags text[] NOT NULL DEFAULT '{}',
  "group" text,

  -- The XState persisted snapshot is the source of truth; the columns below mirror it for
  -- queries and indexes and are written in the same statement.
  machine_snapshot jsonb NOT NULL,
  monitoring_state text NOT NULL CHECK (monitoring_state IN ('HEALTHY', 'DEGRADED', 'CRITICAL', 'DOWN')),
  consecutive_failures integer NOT NULL DEFAULT 0,
  consecutive_successes integer NOT NULL DEFAULT 0,
  next_check_time timestamptz NOT NULL,
  check_priority integer NOT NULL,
  last_state_change timestamptz,

  -- Last check, denormalised so the state endpoint and max_age answers need no history scan.
  last_check timestamptz,
  last_success boolean,
  last_response_time_ms double precision,
  last_error_type text,
  last_error_message text,

  -- The scheduled check job that holds this host's lease (NULL when none is outstanding). A
  -- worker holding any other job id for a scheduled check knows its claim is stale.
  lease_job_id uuid,
  -- The JIT check queued or running for this host, shared by concurrent callers.
  jit_job_id uuid,

  -- Bumped on every write that changes what a reader sees (ETags, change feeds).
  state_version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The producer's claim: enabled hosts by due time. Partial, so disabled hosts cost nothing.
CREATE INDEX hosts_due_idx ON hosts (next_check_time) WHERE enabled;
CREATE INDEX hosts_state_idx ON hosts (monitoring_state);

CREATE TABLE host_monitoring_history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  host_id uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
  check_time timestamptz NOT NULL,
  monitoring_state text NOT NULL,
  previous_state text NOT NULL,
  response_time_ms double precision,
  success boolean NOT NULL,
  error_message text,
  error_type text,
  checked_by text NOT NULL CHECK (checked_by IN ('scheduler', 'jit')),
  -- The pg-boss job that ran the check: links a JIT task id to its result.
  job_id uuid,
  detail jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX history_host_time_idx ON host_monitoring_history (host_id, check_time DESC);
CREATE INDEX history_state_time_idx ON host_monitoring_history (monitoring_state, check_time DESC);
CREATE INDEX history_time_idx ON host_monitoring_history (check_time DESC);
CREATE INDEX history_job_idx ON host_monitoring_history (job_id) WHERE job_id IS NOT NULL;
