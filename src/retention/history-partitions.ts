import type { Pool } from '../db/pool.ts';
import { createHistoryPartitions, DAY_MS, dropHistoryPartitionsBefore, utcDayStart } from '../db/queries/partitions.ts';

/**
 * History retention: check history lives in daily partitions (UTC days). Partitions are created
 * ahead of time, and a partition is dropped once every row it can hold is older than the
 * retention. Dropping a partition removes its rows at once: no DELETE, no bloat, no vacuum.
 */

export interface RetentionPolicy {
  /** Partitions are kept for today and this many days after it. */
  aheadDays: number;
  /** A partition whose whole day is older than this many days is dropped; 0 keeps history forever. */
  retentionDays: number;
  /** The current time (tests pass their own). */
  now: Date;
}

export interface PartitionPlan {
  /** Midnights (UTC) of the days that must have a partition: today and `aheadDays` after it. */
  days: Date[];
  /** Rows before this instant are past the retention; null when history is kept forever. */
  cutoff: Date | null;
}

/** What one retention run did. */
export interface RetentionReport {
  created: string[];
  dropped: string[];
  /** Rows of expired days found in the DEFAULT partition (they never got a partition) and deleted. */
  defaultRowsDeleted: number;
}

export function planPartitions(p: RetentionPolicy): PartitionPlan {
  const today = utcDayStart(p.now).getTime();
  return {
    days: Array.from({ length: p.aheadDays + 1 }, (_, i) => new Date(today + i * DAY_MS)),
    cutoff: p.retentionDays > 0 ? new Date(p.now.getTime() - p.retentionDays * DAY_MS) : null,
  };
}

/**
 * One retention run: create the partitions due ahead (and for days with rows stranded in the
 * DEFAULT partition, moving them), then drop the partitions wholly older than the retention. Two
 * transactions, so a drop waiting out a long export cannot hold back the creation. Idempotent, and
 * safe to run from several processes at once.
 */
export async function maintainHistoryPartitions(pool: Pool, policy: RetentionPolicy): Promise<RetentionReport> {
  const { days, cutoff } = planPartitions(policy);
  const created = await createHistoryPartitions(pool, { days, strayFrom: cutoff && utcDayStart(cutoff) });
  if (!cutoff) return { created, dropped: [], defaultRowsDeleted: 0 };
  const { dropped, defaultRowsDeleted } = await dropHistoryPartitionsBefore(pool, cutoff);
  return { created, dropped, defaultRowsDeleted };
}
