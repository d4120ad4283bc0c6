-- Scheduled maintenance windows: one-off (starts_at, ends_at) or recurring (a cron expression in
-- an IANA time zone, each occurrence lasting duration_seconds), applied to hosts, groups or tags.
-- The scheduler marks the hosts inside an open window (hosts.maintenance_window_id) and clears the
-- mark when it closes (src/maintenance/reconcile.ts).

CREATE TABLE maintenance_windows (
  id uuid PRIMARY KEY,
  label text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
  reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 1000),
  time_zone text NOT NULL,
  starts_at timestamptz,
  ends_at timestamptz,
  cron text,
  duration_seconds integer CHECK (duration_seconds BETWEEN 1 AND 7 * 86400),
  -- A recurring window's occurrences start within [active_from, active_until) when given.
  active_from timestamptz,
  active_until timestamptz,
  host_ids uuid[] NOT NULL DEFAULT '{}',
  groups text[] NOT NULL DEFAULT '{}',
  tags text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((cron IS NULL) = (duration_seconds IS NULL)),
  CHECK ((starts_at IS NULL) = (ends_at IS NULL)),
  CHECK ((starts_at IS NULL) <> (cron IS NULL)),
  CHECK (ends_at > starts_at)
);

-- The open window a host is in (NULL when none). Not a foreign key: a deleted window's hosts are
-- released by the scheduler's next pass, which spreads their checks and announces the end.
ALTER TABLE hosts ADD COLUMN maintenance_window_id uuid;
CREATE INDEX hosts_in_window_idx ON hosts (maintenance_window_id) WHERE maintenance_window_id IS NOT NULL;
-- Windows applied by tag find their hosts without a scan.
CREATE INDEX hosts_tags_idx ON hosts USING gin (tags);

-- The claim skips hosts inside a window, so the partial index does too.
DROP INDEX hosts_due_idx;
CREATE INDEX hosts_due_idx ON hosts (next_check_time) WHERE enabled AND NOT maintenance AND maintenance_window_id IS NULL;

-- Events announcing a window's start and end for each host it covers.
ALTER TABLE host_events DROP CONSTRAINT host_events_type_check;
ALTER TABLE host_events ADD CONSTRAINT host_events_type_check
  CHECK (type IN ('state_changed', 'incident_opened', 'incident_updated', 'incident_resolved', 'incident_acknowledged', 'check_not_run',
                  'flapping_started', 'flapping_stopped', 'maintenance_window_started', 'maintenance_window_ended'));
