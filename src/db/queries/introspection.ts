import { HOST_STATES, type HostState } from '../../machine/states.ts';
import type { Queryable } from '../pool.ts';

/**
 * Read-only views of the scheduler's work for operators. Queue depth reads pg-boss's job table
 * directly (pg-boss has no per-priority count); it is only read, never written.
 */

/** Checks waiting per queue and priority (a scheduled job may carry several; see VIGIL_CHECKS_PER_JOB). */
export async function queuedByPriority(db: Queryable, queues: readonly string[]): Promise<{ queue: string; priority: number; waiting: number }[]> {
  const { rows } = await db.query(
    `SELECT name AS queue, priority, sum(COALESCE(jsonb_array_length(data -> 'hosts'), 1))::int AS waiting FROM pgboss.job
      WHERE name = ANY ($1) AND state IN ('created', 'retry') GROUP BY 1, 2 ORDER BY 1, 2 DESC`,
    [queues],
  );
  return rows;
}

/**
 * How late the most overdue scheduled check is, in seconds: the older of a due host not yet
 * claimed and a claimed check still waiting in the queue. 0 when nothing is overdue. A host in
 * maintenance (its own, its group's or a scheduled window's) is never claimed, so it is not late:
 * the same conditions as lockDueHosts, or a host in a window would show the pool as overloaded.
 */
export async function oldestLagSeconds(db: Queryable, queues: readonly string[]): Promise<number> {
  const { rows } = await db.query<{ lag: number | null }>(
    `SELECT GREATEST(
       (SELECT extract(epoch FROM now() - min(h.next_check_time)) FROM hosts h
         WHERE h.enabled AND NOT h.maintenance AND h.maintenance_window_id IS NULL AND h.next_check_time <= now()
           AND NOT EXISTS (SELECT 1 FROM host_groups g WHERE g.name = h."group" AND g.maintenance)),
       (SELECT extract(epoch FROM now() - min((data ->> 'due_at')::timestamptz)) FROM pgboss.job
         WHERE name = ANY ($1) AND state IN ('created', 'retry') AND data ->> 'checked_by' = 'scheduler'),
       0)::float8 AS lag`,
    [queues],
  );
  return rows[0]?.lag ?? 0;
}

/** The hosts the scheduler will claim next (maintenance of any kind excluded, as lockDueHosts does). */
export async function nextDueHosts(db: Queryable, limit: number) {
  const { rows } = await db.query<{ host_id: string; name: string; next_check_time: Date; monitoring_state: string; check_priority: number }>(
    `SELECT id AS host_id, name, next_check_time, monitoring_state, check_priority FROM hosts h
      WHERE enabled AND NOT maintenance AND maintenance_window_id IS NULL
        AND NOT EXISTS (SELECT 1 FROM host_groups g WHERE g.name = h."group" AND g.maintenance)
      ORDER BY next_check_time LIMIT $1`,
    [limit],
  );
  return rows;
}

/** Hosts per health state; every state is present, 0 when it has none (so a dashboard or alert never meets a missing key). */
export async function hostsByState(db: Queryable): Promise<Record<HostState, number>> {
  const { rows } = await db.query<{ state: HostState; n: number }>(`SELECT monitoring_state AS state, count(*)::int AS n FROM hosts GROUP BY 1`);
  const counts = Object.fromEntries(HOST_STATES.map((s) => [s, 0])) as Record<HostState, number>;
  for (const r of rows) counts[r.state] = r.n;
  return counts;
}

/** Hosts flapping now (hosts_flapping_idx), with their percentage. */
export async function flappingHosts(db: Queryable): Promise<{ name: string; group: string | null; percent: number }[]> {
  const { rows } = await db.query<{ name: string; group: string | null; percent: number }>(
    `SELECT name, "group", flap_percent AS percent FROM hosts WHERE flapping ORDER BY name LIMIT 1000`,
  );
  return rows;
}

export interface CheckStatsRow {
  probe_type: string | null;
  is_total: boolean;
  checks: number;
  successes: number;
  avg_ms: number | null;
  p95_ms: number | null;
  delayed: number;
  last_5m: number;
}

/** Checks of the last `windowSeconds` per probe type, plus a total row (probe_type null). */
export async function checkStats(db: Queryable, windowSeconds: number, delayThresholdMs: number): Promise<CheckStatsRow[]> {
  const { rows } = await db.query<CheckStatsRow>(
    `SELECT probe_type, GROUPING(probe_type) = 1 AS is_total, count(*)::int AS checks, count(*) FILTER (WHERE success)::int AS successes,
            avg(response_time_ms)::float8 AS avg_ms,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time_ms)::float8 AS p95_ms,
            count(*) FILTER (WHERE schedule_lag_ms > $2)::int AS delayed,
            count(*) FILTER (WHERE check_time > now() - interval '5 minutes')::int AS last_5m
       FROM host_monitoring_history
      WHERE check_time > now() - make_interval(secs => $1) AND checked_by <> 'reset'
      GROUP BY ROLLUP (probe_type)`,
    [windowSeconds, delayThresholdMs],
  );
  return rows;
}

/** Whether the server runs autovacuum (some shared servers turn it off). */
export async function autovacuumEnabled(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ on: boolean }>(`SELECT current_setting('autovacuum') = 'on' AS on`);
  return rows[0]!.on;
}
