import type { HistorySource } from '../../machine/check-outcome.ts';
import type { Queryable } from '../pool.ts';

/** A row of host_monitoring_history. */
export interface HistoryRow {
  id: string;
  host_id: string;
  check_time: Date;
  monitoring_state: string;
  previous_state: string;
  response_time_ms: number | null;
  success: boolean;
  error_message: string | null;
  error_type: string | null;
  /** reset: a group reset's row, not a check. */
  checked_by: HistorySource;
  job_id: string | null;
  detail: Record<string, unknown>;
  created_at: Date;
  /** How late a scheduled check started after its due time; null for JIT checks. */
  schedule_lag_ms: number | null;
  probe_type: string | null;
  in_maintenance: boolean;
}

export async function recentHistory(db: Queryable, hostId: string, limit: number): Promise<HistoryRow[]> {
  const { rows } = await db.query<HistoryRow>(
    `SELECT * FROM host_monitoring_history WHERE host_id = $1 ORDER BY check_time DESC, id DESC LIMIT $2`,
    [hostId, limit],
  );
  return rows;
}

/** The check a job ran, if it has been recorded. */
export async function historyForJob(db: Queryable, jobId: string): Promise<HistoryRow | undefined> {
  const { rows } = await db.query<HistoryRow>(`SELECT * FROM host_monitoring_history WHERE job_id = $1 LIMIT 1`, [jobId]);
  return rows[0];
}
