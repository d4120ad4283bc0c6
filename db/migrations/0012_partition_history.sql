-- host_monitoring_history becomes partitioned by UTC day (RANGE on check_time), so history older
-- than the retention is removed by dropping whole partitions (src/maintenance/retention.ts) rather
-- than by a DELETE that leaves the table and its indexes bloated.
--
-- One transaction: set the old table aside, create the partitioned table with the same columns,
-- defaults, constraints and indexes, one partition per UTC day holding rows (plus today and the
-- next 3 days) and a DEFAULT partition, copy the rows with their ids, continue the id sequence
-- where the old one stopped, drop the old table. The old table stays ACCESS EXCLUSIVE locked
-- until commit: checks cannot record results meanwhile (measured: about 5 s per million rows on
-- a 2-core test machine, PostgreSQL 15).
--
-- Partitions are named host_monitoring_history_pYYYYMMDD and cover [00:00, 24:00) UTC of that day.
-- The DEFAULT partition, host_monitoring_history_default, takes rows no daily partition covers
-- (the maintenance job late, back-dated rows), so an insert never fails; the maintenance job moves
-- them into their own partition when it creates it.
--
-- The primary key has to contain the partition key, so it is (id, check_time). id still comes from
-- one identity sequence and so stays unique, but nothing can reference a history row by id alone.

LOCK TABLE host_monitoring_history IN ACCESS EXCLUSIVE MODE;

ALTER TABLE host_monitoring_history RENAME TO host_monitoring_history_unpartitioned;
ALTER TABLE host_monitoring_history_unpartitioned RENAME CONSTRAINT host_monitoring_history_pkey TO host_monitoring_history_unpartitioned_pkey;
ALTER SEQUENCE host_monitoring_history_id_seq RENAME TO host_monitoring_history_unpartitioned_id_seq;
-- Not needed to read it whole; dropped now so the new table's indexes keep their names.
DROP INDEX history_host_time_idx, history_state_time_idx, history_time_idx, history_job_idx, history_transitions_idx;

-- Columns in the old table's order (0001 and 0003), so `SELECT *` reads as before.
CREATE TABLE host_monitoring_history (
  id bigint GENERATED ALWAYS AS IDENTITY,
  host_id uuid NOT NULL,
  check_time timestamptz NOT NULL,
  monitoring_state text NOT NULL,
  previous_state text NOT NULL,
  response_time_ms double precision,
  success boolean NOT NULL,
  error_message text,
  error_type text,
  checked_by text NOT NULL CONSTRAINT host_monitoring_history_checked_by_check CHECK (checked_by IN ('scheduler', 'jit', 'reset')),
  -- The pg-boss job that ran the check: links a JIT task id to its result.
  job_id uuid,
  detail jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Start of the check minus the time it was due (scheduled checks only).
  schedule_lag_ms double precision,
  -- The host's probe types, e.g. 'tcp' or 'tcp+ssh+snmp', for stats by probe type.
  probe_type text,
  -- A JIT check of a host in maintenance: recorded, but it does not move the state machine.
  in_maintenance boolean NOT NULL DEFAULT false
) PARTITION BY RANGE (check_time);

CREATE TABLE host_monitoring_history_default PARTITION OF host_monitoring_history DEFAULT;

-- A UTC day is always 24 hours; `+ interval '1 day'` would follow the session's time zone.
DO $$
DECLARE
  day timestamptz;
BEGIN
  FOR day IN
    SELECT date_trunc('day', check_time, 'UTC') FROM host_monitoring_history_unpartitioned
    UNION
    SELECT date_trunc('day', now(), 'UTC') + n * interval '24 hours' FROM generate_series(0, 3) AS n
  LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF host_monitoring_history FOR VALUES FROM (%L) TO (%L)',
                   'host_monitoring_history_p' || to_char(day AT TIME ZONE 'UTC', 'YYYYMMDD'),
                   to_char(day AT TIME ZONE 'UTC', 'YYYY-MM-DD "00:00:00+00"'),
                   to_char((day + interval '24 hours') AT TIME ZONE 'UTC', 'YYYY-MM-DD "00:00:00+00"'));
  END LOOP;
END
$$;

INSERT INTO host_monitoring_history (id, host_id, check_time, monitoring_state, previous_state, response_time_ms, success,
                                     error_message, error_type, checked_by, job_id, detail, created_at, schedule_lag_ms,
                                     probe_type, in_maintenance)
OVERRIDING SYSTEM VALUE
SELECT id, host_id, check_time, monitoring_state, previous_state, response_time_ms, success,
       error_message, error_type, checked_by, job_id, detail, created_at, schedule_lag_ms,
       probe_type, in_maintenance
  FROM host_monitoring_history_unpartitioned;

-- New ids continue after the last one the old sequence handed out (and after any copied id).
SELECT setval(pg_get_serial_sequence('host_monitoring_history', 'id'), GREATEST(s.last_value, m.max_id), s.is_called OR m.max_id IS NOT NULL)
  FROM host_monitoring_history_unpartitioned_id_seq s, (SELECT max(id) AS max_id FROM host_monitoring_history) m;

DROP TABLE host_monitoring_history_unpartitioned;

-- Constraints and indexes after the copy: one validation and one sorted build per partition
-- instead of maintaining them row by row. Each is a partitioned one: every partition, including
-- those created later, gets its own.
ALTER TABLE host_monitoring_history
  ADD CONSTRAINT host_monitoring_history_pkey PRIMARY KEY (id, check_time),
  ADD CONSTRAINT host_monitoring_history_host_id_fkey FOREIGN KEY (host_id) REFERENCES hosts (id) ON DELETE CASCADE;

CREATE INDEX history_host_time_idx ON host_monitoring_history (host_id, check_time DESC);
CREATE INDEX history_state_time_idx ON host_monitoring_history (monitoring_state, check_time DESC);
CREATE INDEX history_time_idx ON host_monitoring_history (check_time DESC);
CREATE INDEX history_job_idx ON host_monitoring_history (job_id) WHERE job_id IS NOT NULL;
-- GET …/transitions (0010): state changes are a small fraction of checks; this finds them directly.
CREATE INDEX history_transitions_idx ON host_monitoring_history (host_id, check_time DESC, id DESC)
  WHERE monitoring_state <> previous_state;
