import type pg from 'pg';
import { CHECK_QUEUES } from '../src/queue/names.ts';

/**
 * What the database says about the measured window: checks recorded and their schedule lag (from
 * the history), where their time went (pg-boss's and Vigil's timestamps), rows written by table
 * (pg_stat_user_tables) and the database's size. All SQL here only reads. Sampling during the
 * window is in activity.ts.
 */

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface CheckBreakdown {
  key: string;
  checks: number;
  lag_p50_ms: number | null;
  lag_p99_ms: number | null;
  probe_avg_ms: number | null;
  success_share: number | null;
}

export interface WindowChecks {
  /** Scheduled / JIT checks recorded (committed) inside the window. */
  scheduledRecorded: number;
  jitRecorded: number;
  historyRows: number;
  /** Scheduled checks that started inside the window. */
  lagCount: number;
  lagMs: Percentiles;
  delayedShare: number | null;
  successShare: number | null;
  probeMs: Percentiles;
  byLane: CheckBreakdown[];
  byBehaviour: CheckBreakdown[];
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export async function windowChecks(pool: pg.Pool, start: Date, end: Date): Promise<WindowChecks> {
  const counts = await pool.query(
    `SELECT count(*) FILTER (WHERE checked_by = 'scheduler') AS scheduled, count(*) FILTER (WHERE checked_by = 'jit') AS jit, count(*) AS rows
       FROM host_monitoring_history
      WHERE created_at >= $1 AND created_at < $2 AND check_time >= $1::timestamptz - interval '10 minutes'`,
    [start, end],
  );
  const lag = await pool.query(
    `SELECT count(*) AS n,
            percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY schedule_lag_ms) AS lag, max(schedule_lag_ms) AS lag_max,
            percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY response_time_ms) AS probe, max(response_time_ms) AS probe_max,
            avg(success::int) AS success, avg(COALESCE((detail->>'delayed')::boolean, false)::int) AS delayed
       FROM host_monitoring_history
      WHERE checked_by = 'scheduler' AND check_time >= $1 AND check_time < $2`,
    [start, end],
  );
  const c = counts.rows[0];
  const l = lag.rows[0];
  return {
    scheduledRecorded: Number(c.scheduled),
    jitRecorded: Number(c.jit),
    historyRows: Number(c.rows),
    lagCount: Number(l.n),
    lagMs: percentiles(l.lag, l.lag_max),
    delayedShare: num(l.delayed),
    successShare: num(l.success),
    probeMs: percentiles(l.probe, l.probe_max),
    byLane: await breakdown(pool, start, end, `CASE WHEN x.previous_state IN ('CRITICAL', 'DOWN') THEN 'failing' ELSE 'normal' END`),
    byBehaviour: await breakdown(pool, start, end, `split_part(h.name, '-', 2) || '/' || split_part(h.name, '-', 3)`),
  };
}

function percentiles(values: unknown, max: unknown): Percentiles {
  const [p50, p95, p99] = Array.isArray(values) ? values.map(num) : [null, null, null];
  return { p50: p50 ?? null, p95: p95 ?? null, p99: p99 ?? null, max: num(max) };
}

/** Scheduled checks started in the window, grouped (the lane from the state before the check, the behaviour from the host name). */
async function breakdown(pool: pg.Pool, start: Date, end: Date, key: string): Promise<CheckBreakdown[]> {
  const { rows } = await pool.query(
    `SELECT ${key} AS key, count(*) AS checks,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY x.schedule_lag_ms) AS lag_p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY x.schedule_lag_ms) AS lag_p99,
            avg(x.response_time_ms) AS probe_avg, avg(x.success::int) AS success
       FROM host_monitoring_history x JOIN hosts h ON h.id = x.host_id
      WHERE x.checked_by = 'scheduler' AND x.check_time >= $1 AND x.check_time < $2
      GROUP BY 1 ORDER BY 1`,
    [start, end],
  );
  return rows.map((r) => ({
    key: String(r.key),
    checks: Number(r.checks),
    lag_p50_ms: num(r.lag_p50),
    lag_p99_ms: num(r.lag_p99),
    probe_avg_ms: num(r.probe_avg),
    success_share: num(r.success),
  }));
}

export interface TimelineSegment {
  segment: string;
  mean_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  mean_normal_ms: number | null;
  mean_failing_ms: number | null;
}

export interface CheckTimeline {
  checks: number;
  segments: TimelineSegment[];
  /** Σ(fetch → complete) of every check started in the window ÷ (slots × window): how busy the slots were with a job. */
  slotShareInJob: number | null;
  /** The same for the probe alone. */
  slotShareInProbe: number | null;
}

/**
 * Where a check's wall time goes (scheduled checks, or JIT ones), from timestamps Vigil and pg-boss already record:
 * the job's created/started/completed times (pg-boss), the check's start (history.check_time), its
 * probe time, and the start of the transaction that recorded it (history.created_at = now()).
 */
export async function checkTimeline(pool: pg.Pool, start: Date, end: Date, slots: number, checkedBy: 'scheduler' | 'jit' = 'scheduler'): Promise<CheckTimeline> {
  const spans = `
    SELECT x.checked_by, CASE WHEN x.previous_state IN ('CRITICAL', 'DOWN') THEN 'failing' ELSE 'normal' END AS lane,
           extract(epoch FROM j.started_on - j.created_on) * 1000 AS queued,
           extract(epoch FROM x.check_time - j.started_on) * 1000 AS before_probe,
           x.response_time_ms AS probe,
           extract(epoch FROM x.created_at - x.check_time) * 1000 - x.response_time_ms AS before_record,
           extract(epoch FROM j.completed_on - x.created_at) * 1000 AS record_and_complete,
           extract(epoch FROM j.completed_on - j.started_on) * 1000 AS in_job
      FROM host_monitoring_history x JOIN pgboss.job j ON j.id = x.job_id AND j.name = ANY ($4::text[])
     WHERE x.check_time >= $1 AND x.check_time < $2 AND j.completed_on IS NOT NULL`;
  const segments = ['queued', 'before_probe', 'probe', 'before_record', 'record_and_complete', 'in_job'];
  const stats = segments
    .map((s) => `avg(${s}) FILTER (WHERE checked_by = $5) AS ${s}_mean,
      percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY ${s}) FILTER (WHERE checked_by = $5) AS ${s}_pct,
      avg(${s}) FILTER (WHERE checked_by = $5 AND lane = 'normal') AS ${s}_normal,
      avg(${s}) FILTER (WHERE checked_by = $5 AND lane = 'failing') AS ${s}_failing`)
    .join(',\n');
  const { rows } = await pool.query(
    `SELECT count(*) FILTER (WHERE checked_by = $5) AS checks, ${stats},
            sum(in_job) FILTER (WHERE checked_by = $5) / 1000 / ($3::float8 * extract(epoch FROM $2::timestamptz - $1::timestamptz)) AS share_job,
            sum(probe) FILTER (WHERE checked_by = $5) / 1000 / ($3::float8 * extract(epoch FROM $2::timestamptz - $1::timestamptz)) AS share_probe
       FROM (${spans}) t`,
    [start, end, slots, CHECK_QUEUES, checkedBy],
  );
  const r = rows[0];
  return {
    checks: Number(r.checks),
    segments: segments.map((s) => {
      const [p50, p95] = Array.isArray(r[`${s}_pct`]) ? r[`${s}_pct`].map(num) : [null, null];
      return { segment: s, mean_ms: num(r[`${s}_mean`]), p50_ms: p50 ?? null, p95_ms: p95 ?? null, mean_normal_ms: num(r[`${s}_normal`]), mean_failing_ms: num(r[`${s}_failing`]) };
    }),
    slotShareInJob: num(r.share_job),
    slotShareInProbe: num(r.share_probe),
  };
}

/** A database's size after VACUUM, and the part of it the free space map says is reusable: in all and by table. */
export interface VacuumedFootprint {
  size: number;
  reusable: number;
  /** Each table with its indexes and TOAST (history partitions count as their parent): bytes, and the reusable part. */
  tables: Map<string, { size: number; reusable: number }>;
}

/**
 * The database's size after a VACUUM, and how much of it is free for reuse (the free space map,
 * pg_freespacemap): what the target "growth after vacuum" compares. Space that vacuum frees (a
 * host row's old version, a pg-boss job deleted) is reused by later writes instead of growing the
 * files, so growth after vacuum is size minus reusable space. Null where the extension cannot be
 * created (a server whose role is not allowed to).
 */
export async function vacuumedFootprint(pool: pg.Pool): Promise<VacuumedFootprint | null> {
  try {
    await pool.query('CREATE EXTENSION IF NOT EXISTS pg_freespacemap');
  } catch {
    return null;
  }
  await pool.query('VACUUM');
  const { rows } = await pool.query(
    `SELECT pg_database_size(current_database()) AS size,
            (SELECT coalesce(sum(f.avail), 0) FROM pg_class c CROSS JOIN LATERAL pg_freespace(c.oid::regclass) f
              WHERE c.relkind IN ('r', 't', 'm', 'i') AND c.relpersistence = 'p') AS reusable`,
  );
  // Each relation's owner: an index its table, a TOAST table its table, a partition its parent.
  const tables = await pool.query<{ table: string; size: string; reusable: string }>(
    `WITH rel AS (
       SELECT c.oid, COALESCE(i.indrelid, c.oid) AS owner FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid
        WHERE c.relkind IN ('r', 't', 'm', 'i') AND c.relpersistence = 'p'
     ), untoasted AS (
       SELECT rel.oid, COALESCE(t.oid, rel.owner) AS owner FROM rel LEFT JOIN pg_class t ON t.reltoastrelid = rel.owner
     )
     SELECT COALESCE(inh.inhparent, u.owner)::regclass::text AS table,
            sum(pg_relation_size(u.oid, 'main') + pg_relation_size(u.oid, 'fsm') + pg_relation_size(u.oid, 'vm')) AS size,
            sum((SELECT coalesce(sum(f.avail), 0) FROM pg_freespace(u.oid::regclass) f)) AS reusable
       FROM untoasted u LEFT JOIN pg_inherits inh ON inh.inhrelid = u.owner
      GROUP BY 1`,
  );
  return {
    size: Number(rows[0].size),
    reusable: Number(rows[0].reusable),
    tables: new Map(tables.rows.map((t) => [t.table, { size: Number(t.size), reusable: Number(t.reusable) }])),
  };
}

/** Growth after vacuum by table between two footprints, largest first; tables that did not grow are left out. */
export function vacuumedGrowthByTable(before: VacuumedFootprint, after: VacuumedFootprint): { table: string; bytes: number }[] {
  return [...after.tables.entries()]
    .map(([table, a]) => {
      const b = before.tables.get(table) ?? { size: 0, reusable: 0 };
      return { table, bytes: a.size - a.reusable - (b.size - b.reusable) };
    })
    .filter((t) => t.bytes > 0)
    .sort((x, y) => y.bytes - x.bytes);
}

export async function databaseSize(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query(`SELECT pg_database_size(current_database()) AS size`);
  return Number(rows[0].size);
}

/** The history table's rows and bytes (all partitions): heap (with TOAST) and indexes, for bytes per row. */
export async function historyFootprint(pool: pg.Pool): Promise<{ rows: number; heapBytes: number; indexBytes: number }> {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*) FROM host_monitoring_history) AS rows,
            COALESCE(sum(pg_table_size(c.oid)), 0) AS heap, COALESCE(sum(pg_indexes_size(c.oid)), 0) AS indexes
       FROM pg_class c WHERE c.oid = 'host_monitoring_history'::regclass OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'host_monitoring_history'::regclass)`,
  );
  return { rows: Number(rows[0].rows), heapBytes: Number(rows[0].heap), indexBytes: Number(rows[0].indexes) };
}

/** Transactions committed and rolled back in the current database so far (pg_stat_database). */
export async function transactionCounts(pool: pg.Pool): Promise<{ commits: number; rollbacks: number }> {
  const { rows } = await pool.query(`SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = current_database()`);
  return { commits: Number(rows[0].xact_commit), rollbacks: Number(rows[0].xact_rollback) };
}

/** Rows inserted/updated/deleted per table so far; history partitions count as their parent. */
export async function tableWrites(pool: pg.Pool): Promise<Map<string, { ins: number; upd: number; del: number }>> {
  const { rows } = await pool.query(`SELECT schemaname, relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables`);
  const out = new Map<string, { ins: number; upd: number; del: number }>();
  for (const r of rows) {
    const name = `${r.schemaname}.${String(r.relname).replace(/_(p\d{8}|default)$/, '')}`;
    const t = out.get(name) ?? { ins: 0, upd: 0, del: 0 };
    out.set(name, { ins: t.ins + Number(r.n_tup_ins), upd: t.upd + Number(r.n_tup_upd), del: t.del + Number(r.n_tup_del) });
  }
  return out;
}

export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
