import type pg from 'pg';
import { CHECK_QUEUES } from '../src/queue/names.ts';
import { BENCH_APPLICATION_NAME } from './database.ts';
import { round } from './db-metrics.ts';
import { childrenOf, type UsageSampler } from './measure.ts';

/**
 * Samplers for the measured window: pg_stat_activity (which wait events, statements and lock
 * holders the bench database's backends were busy with — a poor man's Active Session History,
 * which also sorts PostgreSQL's processes into CPU accounting groups), and check-job slot use.
 */

export interface ActivitySummary {
  samples: number;
  /** Mean backends of the bench database in state 'active'. */
  avgActive: number;
  avgIdleInTransaction: number;
  peakConnections: number;
  /** Mean active backends per application and wait event ('CPU' when active without a wait event). */
  waits: { wait: string; avg_active: number }[];
  /** Mean active backends per application and statement (its first 90 characters). */
  statements: { statement: string; avg_active: number }[];
  /** Mean idle-in-transaction backends by application and last statement: time a client holds a transaction between statements. */
  idleInTransaction: { statement: string; avg_idle: number }[];
  /** Mean backends waiting on a lock, by what the backend blocking them was doing (its state and last statement). */
  blockers: { blocker: string; avg_waiting: number }[];
}

interface ActivityRow {
  pid: number;
  datname: string | null;
  application_name: string;
  backend_type: string;
  state: string | null;
  wait: string;
  statement: string;
  blockers: number[];
}

/**
 * Samples pg_stat_activity: each sample classifies the server's processes for CPU accounting
 * (by database and application name) and, inside the window, counts what the bench database's
 * backends are doing.
 */
export class ActivitySampler {
  private readonly waits = new Map<string, number>();
  private readonly statements = new Map<string, number>();
  /** Backends waiting on a heavyweight lock, by what their (first) blocker was doing. */
  private readonly blockers = new Map<string, number>();
  /** Idle-in-transaction backends by application and the statement they last ran. */
  private readonly idleStatements = new Map<string, number>();
  private samples = 0;
  private active = 0;
  private idleInTransaction = 0;
  private peakConnections = 0;
  recording = false;
  private readonly unclassified = new Map<number, number>();
  private readonly pool: pg.Pool;
  private readonly database: string;
  private readonly usage: UsageSampler;
  private readonly postmasterPid: number;

  constructor(pool: pg.Pool, database: string, usage: UsageSampler, postmasterPid: number) {
    this.pool = pool;
    this.database = database;
    this.usage = usage;
    this.postmasterPid = postmasterPid;
  }

  async sample(): Promise<void> {
    const { rows } = await this.pool.query<ActivityRow>(
      `SELECT pid, datname, application_name, backend_type, state,
              CASE WHEN state = 'active' THEN COALESCE(wait_event_type || ':' || wait_event, 'CPU') ELSE '' END AS wait,
              left(btrim(regexp_replace(query, '\\s+', ' ', 'g')), 90) AS statement,
              CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid) ELSE '{}' END AS blockers
         FROM pg_stat_activity WHERE pid <> pg_backend_pid()`,
    );
    this.classify(rows);
    if (this.recording) this.record(rows.filter((r) => r.datname === this.database && r.backend_type === 'client backend'));
  }

  /**
   * A backend is classified once its row names its database: a just-forked one has no row, or one
   * without a database, until it has authenticated. A process that never shows up in
   * pg_stat_activity (the logger, the archiver) counts as background after a few samples. CPU
   * spent before classification is not lost: /proc counts it from the process's start.
   */
  private classify(rows: ActivityRow[]): void {
    if (!this.postmasterPid) return;
    const byPid = new Map(rows.map((r) => [r.pid, r]));
    for (const pid of childrenOf(this.postmasterPid)) {
      if (this.usage.has(pid)) continue;
      const r = byPid.get(pid);
      const unsettled = !r || (r.backend_type === 'client backend' && r.datname === null);
      const sightings = (this.unclassified.get(pid) ?? 0) + 1;
      if (unsettled && sightings < UNCLASSIFIED_SIGHTINGS) {
        this.unclassified.set(pid, sightings);
        continue;
      }
      this.unclassified.delete(pid);
      this.usage.track(pid, postgresGroup(r, this.database));
    }
  }

  private record(rows: ActivityRow[]): void {
    this.samples++;
    const byPid = new Map(rows.map((r) => [r.pid, r]));
    for (const r of rows) {
      const blocker = r.blockers.length ? byPid.get(r.blockers[0]!) : undefined;
      if (!blocker) continue;
      const doing = blocker.state === 'active' ? `active (${blocker.wait})` : blocker.state;
      const key = `${blocker.application_name}: ${doing}, last ${blocker.statement}`;
      this.blockers.set(key, (this.blockers.get(key) ?? 0) + 1);
    }
    this.peakConnections = Math.max(this.peakConnections, rows.length);
    for (const r of rows) {
      if (r.application_name === BENCH_APPLICATION_NAME) continue;
      if (r.state === 'idle in transaction') {
        this.idleInTransaction++;
        const key = `${r.application_name}: ${r.statement}`;
        this.idleStatements.set(key, (this.idleStatements.get(key) ?? 0) + 1);
      }
      if (r.state !== 'active') continue;
      this.active++;
      const wait = `${r.application_name}: ${r.wait}`;
      this.waits.set(wait, (this.waits.get(wait) ?? 0) + 1);
      const statement = `${r.application_name}: ${r.statement}`;
      this.statements.set(statement, (this.statements.get(statement) ?? 0) + 1);
    }
  }

  summary(): ActivitySummary {
    const n = Math.max(1, this.samples);
    const top = (m: Map<string, number>, k: number) =>
      [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k).map(([key, count]) => [key, round(count / n, 3)] as const);
    return {
      samples: this.samples,
      avgActive: round(this.active / n, 3),
      avgIdleInTransaction: round(this.idleInTransaction / n, 3),
      peakConnections: this.peakConnections,
      waits: top(this.waits, 12).map(([wait, avg]) => ({ wait, avg_active: avg })),
      statements: top(this.statements, 12).map(([statement, avg]) => ({ statement, avg_active: avg })),
      idleInTransaction: top(this.idleStatements, 5).map(([statement, avg]) => ({ statement, avg_idle: avg })),
      blockers: top(this.blockers, 6).map(([blocker, avg]) => ({ blocker, avg_waiting: avg })),
    };
  }
}

const UNCLASSIFIED_SIGHTINGS = 3;

/** The CPU accounting group of a postgres process. */
function postgresGroup(row: ActivityRow | undefined, database: string): string {
  if (!row || row.backend_type !== 'client backend' || row.datname === null) return 'postgres [server background]';
  if (row.datname !== database) return 'postgres [other databases]';
  if (row.application_name === BENCH_APPLICATION_NAME) return 'postgres [bench client]';
  return `postgres [${row.application_name || 'unnamed'}]`;
}

export interface SlotUse {
  samples: number;
  /** Jobs pg-boss holds as active, by queue: mean and peak over the samples. */
  activeJobs: { queue: string; mean: number; peak: number }[];
  /** Probes running by the workers' own count (vigil_workers.running), mean. */
  probesRunningMean: number;
}

/** Samples, once a second in the window, how many checks active jobs hold (a job may carry several) and how many probes run. */
export class SlotSampler {
  private samples = 0;
  private probes = 0;
  private readonly active = new Map<string, { sum: number; peak: number }>();
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  async sample(): Promise<void> {
    const jobs = await this.pool.query<{ name: string; n: string }>(
      `SELECT name, sum(COALESCE(jsonb_array_length(data -> 'hosts'), 1)) AS n FROM pgboss.job WHERE name = ANY ($1::text[]) AND state = 'active' GROUP BY name`,
      [CHECK_QUEUES],
    );
    const { rows } = await this.pool.query<{ running: string | null }>(`SELECT sum(running) AS running FROM vigil_workers`);
    this.samples++;
    this.probes += Number(rows[0]?.running ?? 0);
    for (const queue of CHECK_QUEUES) {
      const n = Number(jobs.rows.find((r) => r.name === queue)?.n ?? 0);
      const a = this.active.get(queue) ?? { sum: 0, peak: 0 };
      this.active.set(queue, { sum: a.sum + n, peak: Math.max(a.peak, n) });
    }
  }

  summary(): SlotUse {
    const n = Math.max(1, this.samples);
    return {
      samples: this.samples,
      activeJobs: [...this.active.entries()].map(([queue, a]) => ({ queue, mean: round(a.sum / n, 2), peak: a.peak })),
      probesRunningMean: round(this.probes / n, 2),
    };
  }
}
