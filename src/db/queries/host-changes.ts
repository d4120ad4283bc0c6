import type { Queryable } from '../pool.ts';
import type { HostRow } from './hosts.ts';

/**
 * The change feed over hosts. Every write stamps a host row with its transaction id (change_xid,
 * set by a trigger, see migration 0010) and every delete leaves a tombstone with one. A position
 * is (transaction id, host id); a page holds the changes after it in that order, but only those
 * of transactions older than every transaction still running (pg_snapshot_xmin), so a slower
 * transaction that commits later still lands after the position a client has been given.
 */

/** A position in the feed: everything up to and including it has been handed out. */
export interface FeedPosition {
  xid: string;
  id: string;
}

export const FEED_START: FeedPosition = { xid: '0', id: '00000000-0000-0000-0000-000000000000' };

export type FeedEntry =
  | { kind: 'changed'; position: FeedPosition; host: HostRow }
  | { kind: 'deleted'; position: FeedPosition; id: string; deletedAt: Date };

export interface FeedPage {
  entries: FeedEntry[];
  /** Transactions below this id have all finished: the feed is complete up to it. */
  horizon: string;
  /** The next transaction id to be assigned: a position beyond it cannot come from this database. */
  nextXid: string;
}

type FeedRow = HostRow & { horizon: string; next_xid: string; feed_xid: string | null; feed_id: string | null; deleted: boolean | null; deleted_at: Date | null };

// One statement, so the horizon and the rows come from the same snapshot. The two ordered index
// scans (hosts_change_idx, host_tombstones_change_idx) are merged and stop at the limit.
const FEED_SQL = `
  WITH horizon AS (
    SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin, pg_snapshot_xmax(pg_current_snapshot()) AS xmax
  ),
  page AS (
    SELECT c.* FROM (
      SELECT h.change_xid, h.id, false AS deleted, NULL::timestamptz AS deleted_at
        FROM hosts h WHERE (h.change_xid, h.id) > ($1::xid8, $2::uuid)
      UNION ALL
      SELECT t.change_xid, t.host_id, true, t.deleted_at
        FROM host_tombstones t WHERE (t.change_xid, t.host_id) > ($1::xid8, $2::uuid)
    ) c
    WHERE c.change_xid < (SELECT xmin FROM horizon)
    ORDER BY c.change_xid, c.id
    LIMIT $3
  )
  SELECT hz.xmin::text AS horizon, hz.xmax::text AS next_xid, p.change_xid::text AS feed_xid, p.id AS feed_id,
         p.deleted, p.deleted_at, h.*
    FROM horizon hz
    LEFT JOIN page p ON true
    LEFT JOIN hosts h ON h.id = p.id AND NOT p.deleted
   ORDER BY p.change_xid, p.id`;

export async function readHostChanges(db: Queryable, after: FeedPosition, limit: number): Promise<FeedPage> {
  const { rows } = await db.query<FeedRow>(FEED_SQL, [after.xid, after.id, limit]);
  const first = rows[0]!;
  const entries = rows.filter((r) => r.feed_xid !== null).map((r): FeedEntry => {
    const position = { xid: r.feed_xid!, id: r.feed_id! };
    return r.deleted ? { kind: 'deleted', position, id: r.feed_id!, deletedAt: r.deleted_at! } : { kind: 'changed', position, host: r };
  });
  return { entries, horizon: first.horizon, nextXid: first.next_xid };
}
