-- The change feed's tombstones are pruned after VIGIL_TOMBSTONE_RETENTION_DAYS. A client whose
-- cursor is older than the newest pruned tombstone could miss a deletion, so the feed answers 410
-- for such a cursor (list again); this one row remembers how far pruning has gone.
CREATE TABLE change_feed_pruned (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  through_xid xid8 NOT NULL
);
-- Pruning old rows by age: resolved incidents and finished deliveries by their end time.
CREATE INDEX host_events_occurred_idx ON host_events (occurred_at);
CREATE INDEX incidents_resolved_idx ON incidents (resolved_at) WHERE status = 'resolved';
CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (created_at) WHERE status <> 'pending';
CREATE INDEX host_tombstones_deleted_idx ON host_tombstones (deleted_at);
-- Event pruning skips events with a pending delivery: a small partial index answers that.
CREATE INDEX webhook_deliveries_pending_event_idx ON webhook_deliveries (event_id) WHERE status = 'pending';
