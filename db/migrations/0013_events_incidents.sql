-- State-change events (an outbox: written in the same transaction as the host update, so none is
-- lost or invented) and incidents opened by bad states.

CREATE TABLE host_events (
  -- Assigned under a transaction-level advisory lock held to commit, so ids become visible in
  -- order: a reader that has seen id N has seen every id below N (SSE Last-Event-ID, webhooks).
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type text NOT NULL CHECK (type IN ('state_changed', 'incident_opened', 'incident_updated', 'incident_resolved', 'incident_acknowledged')),
  host_id uuid NOT NULL,
  -- Kept on the event: events outlive a deleted host.
  host_name text NOT NULL,
  host_group text,
  from_state text,
  to_state text,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  -- The history row (check) and job that caused it, when a check did.
  check_id bigint,
  job_id uuid,
  incident_id uuid,
  reason text
);
CREATE INDEX host_events_host_idx ON host_events (host_id, id);
CREATE INDEX host_events_incident_idx ON host_events (incident_id, id) WHERE incident_id IS NOT NULL;

CREATE TABLE incidents (
  id uuid PRIMARY KEY,
  host_id uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
  -- Dedup key: one open incident per host and kind.
  fingerprint text NOT NULL,
  status text NOT NULL CHECK (status IN ('open', 'resolved')),
  trigger_state text NOT NULL,
  current_state text NOT NULL,
  failure_count integer NOT NULL DEFAULT 1,
  last_error_type text,
  last_error_message text,
  opened_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  resolved_at timestamptz,
  acknowledged_at timestamptz,
  acknowledged_by text
);
CREATE UNIQUE INDEX incidents_open_fingerprint_idx ON incidents (fingerprint) WHERE status = 'open';
CREATE INDEX incidents_status_idx ON incidents (status, opened_at DESC);
CREATE INDEX incidents_host_idx ON incidents (host_id, opened_at DESC);
