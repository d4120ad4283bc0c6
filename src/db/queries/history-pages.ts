import type { HostState } from '../../machine/states.ts';
import type { Queryable } from '../pool.ts';
import type { HistoryRow } from './history.ts';

/** Which history rows a page or an export covers; every field optional. */
export interface HistoryFilter {
  hostId?: string;
  /** Inclusive lower bound of check_time. */
  from?: Date;
  /** Exclusive upper bound of check_time. */
  to?: Date;
  state?: HostState;
  success?: boolean;
  errorType?: string;
}

/** Keyset position in newest-first order: the last row's check_time (as PostgreSQL prints it, microseconds kept) and id. */
export interface HistoryPosition {
  checkTime: string;
  id: string;
}

/** A history row with its keyset position. */
export type PositionedHistoryRow = HistoryRow & { position_time: string };

/** The filter as SQL over `m` (host_monitoring_history), parameters $1–$6 in {@link filterParams} order. */
export const HISTORY_FILTER_SQL = `
      ($1::uuid IS NULL OR m.host_id = $1)
  AND ($2::timestamptz IS NULL OR m.check_time >= $2)
  AND ($3::timestamptz IS NULL OR m.check_time < $3)
  AND ($4::text IS NULL OR m.monitoring_state = $4)
  AND ($5::boolean IS NULL OR m.success = $5)
  AND ($6::text IS NULL OR m.error_type = $6)`;

export function filterParams(f: HistoryFilter): unknown[] {
  return [f.hostId ?? null, f.from ?? null, f.to ?? null, f.state ?? null, f.success ?? null, f.errorType ?? null];
}

// `check_time <= $7` is there for the planner: it is an index condition on history_host_time_idx,
// the row comparison alone is not; it only filters the rows tied on check_time.
const AFTER_SQL = `($7::timestamptz IS NULL OR (m.check_time <= $7 AND (m.check_time, m.id) < ($7, $8::bigint)))`;

/** One page of a host's checks, newest first, after `after` (keyset pagination). */
export async function listHistory(
  db: Queryable,
  f: HistoryFilter & { hostId: string },
  page: { after?: HistoryPosition; limit: number },
): Promise<PositionedHistoryRow[]> {
  const { rows } = await db.query<PositionedHistoryRow>(
    `SELECT m.*, m.check_time::text AS position_time
       FROM host_monitoring_history m
      WHERE ${HISTORY_FILTER_SQL} AND ${AFTER_SQL}
      ORDER BY m.check_time DESC, m.id DESC
      LIMIT $9`,
    [...filterParams(f), page.after?.checkTime ?? null, page.after?.id ?? null, page.limit],
  );
  return rows;
}

/** One page of a host's state changes (checks whose state differs from the previous one), newest first. */
export async function listTransitions(
  db: Queryable,
  f: { hostId: string; from?: Date; to?: Date },
  page: { after?: HistoryPosition; limit: number },
): Promise<PositionedHistoryRow[]> {
  // The predicate matches history_transitions_idx's, so only state changes are read.
  const { rows } = await db.query<PositionedHistoryRow>(
    `SELECT m.*, m.check_time::text AS position_time
       FROM host_monitoring_history m
      WHERE ${HISTORY_FILTER_SQL} AND ${AFTER_SQL} AND m.monitoring_state <> m.previous_state
      ORDER BY m.check_time DESC, m.id DESC
      LIMIT $9`,
    [...filterParams(f), page.after?.checkTime ?? null, page.after?.id ?? null, page.limit],
  );
  return rows;
}
