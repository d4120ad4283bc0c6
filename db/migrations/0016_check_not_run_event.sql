-- A check job pg-boss gave up on (src/queue/check-not-run.ts) is announced as an event, so the gap
-- it leaves in a host's history is visible to operators, SSE clients and webhooks.
ALTER TABLE host_events DROP CONSTRAINT host_events_type_check;
ALTER TABLE host_events ADD CONSTRAINT host_events_type_check
  CHECK (type IN ('state_changed', 'incident_opened', 'incident_updated', 'incident_resolved', 'incident_acknowledged', 'check_not_run'));
