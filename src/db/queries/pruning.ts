import type { Queryable } from '../pool.ts';

/**
 * Deleting rows past their retention from the tables that grow with every event: host_events,
 * webhook_deliveries, host_tombstones and resolved incidents. Each statement deletes by an
 * indexed age column (migration 0018). Batched so one run never holds a huge transaction: the
 * caller loops until a batch comes back short.
 */

/** Rows deleted per statement. */
export const PRUNE_BATCH = 10_000;

/**
 * Events older than the cutoff, except those a webhook still needs: not yet dispatched (past the
 * dispatcher's cursor) or with a delivery still pending. The newest event always stays, so a new
 * webhook's starting point (max id) never goes back to 0.
 */
export async function pruneEvents(db: Queryable, cutoff: Date): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM host_events WHERE id IN (
       SELECT e.id FROM host_events e
        WHERE e.occurred_at < $1
          AND e.id <= (SELECT last_event_id FROM webhook_dispatch_cursor)
          AND e.id <= (SELECT last_event_id FROM notification_dispatch_cursor)
          AND e.id < (SELECT max(id) FROM host_events)
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.status = 'pending')
        LIMIT $2)`,
    [cutoff, PRUNE_BATCH],
  );
  return rowCount ?? 0;
}

/** Delivered or failed deliveries created before the cutoff; pending ones stay until they finish. */
export async function pruneDeliveries(db: Queryable, cutoff: Date): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM webhook_deliveries WHERE id IN (
       SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1 LIMIT $2)`,
    [cutoff, PRUNE_BATCH],
  );
  return rowCount ?? 0;
}

/**
 * Finished notification deliveries created before the cutoff (a digest only once nothing held
 * still points at it: held rows keep it pending until it is sent). Pending and held ones stay.
 */
export async function pruneNotificationDeliveries(db: Queryable, cutoff: Date): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM notification_deliveries WHERE id IN (
       SELECT id FROM notification_deliveries WHERE status NOT IN ('pending', 'held') AND created_at < $1 LIMIT $2)`,
    [cutoff, PRUNE_BATCH],
  );
  return rowCount ?? 0;
}

/** Incidents resolved before the cutoff; open ones stay whatever their age. */
export async function pruneResolvedIncidents(db: Queryable, cutoff: Date): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM incidents WHERE id IN (
       SELECT id FROM incidents WHERE status = 'resolved' AND resolved_at < $1 LIMIT $2)`,
    [cutoff, PRUNE_BATCH],
  );
  return rowCount ?? 0;
}

/** Tombstones of hosts deleted before the cutoff, remembering the newest pruned position for the feed. */
export async function pruneTombstones(db: Queryable, cutoff: Date): Promise<number> {
  const { rows } = await db.query<{ pruned: number }>(
    `WITH gone AS (
       DELETE FROM host_tombstones WHERE host_id IN (
         SELECT host_id FROM host_tombstones WHERE deleted_at < $1 LIMIT $2)
       RETURNING change_xid
     ), mark AS (
       INSERT INTO change_feed_pruned (through_xid) SELECT max(change_xid) FROM gone HAVING count(*) > 0
       ON CONFLICT (only_row) DO UPDATE SET through_xid = GREATEST(change_feed_pruned.through_xid, EXCLUDED.through_xid)
     )
     SELECT count(*)::int AS pruned FROM gone`,
    [cutoff, PRUNE_BATCH],
  );
  return rows[0]!.pruned;
}

/** The newest change-feed position whose tombstone was pruned; null when none was. */
export async function readPrunedFeedXid(db: Queryable): Promise<string | null> {
  const { rows } = await db.query<{ xid: string }>(`SELECT through_xid::text AS xid FROM change_feed_pruned`);
  return rows[0]?.xid ?? null;
}
