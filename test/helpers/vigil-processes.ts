import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config/config.ts';
import type { Pool } from '../../src/db/pool.ts';
import type { HistoryRow } from '../../src/db/queries/history.ts';
import { applyCheckResult, initialHealth, type PersistedHealth } from '../../src/machine/apply-result.ts';
import { createHealthMachine } from '../../src/machine/health-machine.ts';
import { CHECK_QUEUES, hostsOfJob, type CheckJobData } from '../../src/queue/names.ts';

/**
 * Shared by the reliability suite: Vigil roles as real child processes of src/main.ts, and the
 * proofs read back from the database afterwards (history replayed through the machine, pg-boss's
 * job table against the history).
 */

const MAIN = path.resolve('src/main.ts');

/** A Vigil child process and what it printed. */
export interface VigilProcess {
  roles: string[];
  child: ChildProcess;
  output(): string;
  /** Parsed JSON log lines (stdout), oldest first. */
  logs(): Record<string, unknown>[];
  /** Exit code (null after a signal). */
  exit: Promise<number | null>;
  exited(): boolean;
}

/** Starts `node src/main.ts <roles…>` with only PATH, DATABASE_URL and `env` in its environment. */
export function spawnVigil(databaseUrl: string, roles: string[], env: Record<string, string>): VigilProcess {
  const child = spawn(process.execPath, [MAIN, ...roles], {
    env: { PATH: process.env.PATH!, DATABASE_URL: databaseUrl, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => chunks.push(d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => chunks.push(d));
  let done = false;
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => ((done = true), resolve(code))));
  const output = () => chunks.join('');
  const logs = () =>
    output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { roles, child, output, logs, exit, exited: () => done };
}

/** Sends `signal` to each process and waits for all of them to exit; returns their exit codes. */
export async function stopProcesses(procs: VigilProcess[], signal: NodeJS.Signals = 'SIGTERM'): Promise<(number | null)[]> {
  for (const p of procs) if (!p.exited()) p.child.kill(signal);
  return Promise.all(procs.map((p) => p.exit));
}

/** Every state checked every `seconds`, dispatched every 50 ms: the reliability runs' schedule. */
export function everyStateEvery(seconds: number): Record<string, string> {
  const s = String(seconds);
  return { VIGIL_HEALTHY_INTERVAL_SECONDS: s, VIGIL_DEGRADED_INTERVAL_SECONDS: s, VIGIL_CRITICAL_INTERVAL_SECONDS: s, VIGIL_DOWN_INTERVAL_SECONDS: s, VIGIL_PRODUCER_INTERVAL_MS: '50' };
}

/** The config the child processes run with (for the machine thresholds and intervals). */
export function configFor(env: Record<string, string>): Config {
  return loadConfig({ DATABASE_URL: 'postgres://unused/unused', ...env });
}

/** Every history row, per host in record order (ids are taken under the host's row lock, so they follow commit order). */
export async function historyByHost(pool: Pool): Promise<Map<string, HistoryRow[]>> {
  const { rows } = await pool.query<HistoryRow>(
    `SELECT id, host_id, check_time, monitoring_state, previous_state, success, checked_by, job_id, in_maintenance, schedule_lag_ms
       FROM host_monitoring_history ORDER BY host_id, id`,
  );
  const byHost = new Map<string, HistoryRow[]>();
  for (const r of rows) byHost.set(r.host_id, [...(byHost.get(r.host_id) ?? []), r]);
  return byHost;
}

/**
 * Replays each host's history through the health machine from its initial state and compares
 * every row (previous_state, monitoring_state) and the host row (state, counters, snapshot, last
 * check) with the replay. Returns one line per disagreement; empty means the stored state is
 * exactly what its history implies, nothing half-written. Hosts must start HEALTHY with zero
 * counters (as seedHosts and the API create them).
 */
export async function replayMismatches(pool: Pool, config: Config): Promise<string[]> {
  const machine = createHealthMachine(config.machine);
  const history = await historyByHost(pool);
  const { rows: hosts } = await pool.query(
    `SELECT id, monitoring_state, consecutive_failures, consecutive_successes, machine_snapshot, last_check, last_success FROM hosts`,
  );
  const problems: string[] = [];
  for (const host of hosts) {
    let health: PersistedHealth = initialHealth(machine);
    const rows = history.get(host.id) ?? [];
    for (const [i, row] of rows.entries()) {
      const at = `host ${host.id} row ${i} (history id ${row.id})`;
      if (i > 0 && row.previous_state !== rows[i - 1]!.monitoring_state) {
        problems.push(`${at}: previous_state ${row.previous_state} but the row before ended in ${rows[i - 1]!.monitoring_state}`);
      }
      // Checks in maintenance are recorded without moving the machine.
      const applied = row.in_maintenance
        ? { persisted: health, state: health.value, previousState: health.value }
        : applyCheckResult(machine, health, row.success);
      if (row.previous_state !== applied.previousState || row.monitoring_state !== applied.state) {
        problems.push(`${at}: recorded ${row.previous_state}->${row.monitoring_state}, replay gives ${applied.previousState}->${applied.state}`);
      }
      health = applied.persisted;
    }
    const stored = { state: host.monitoring_state, failures: host.consecutive_failures, successes: host.consecutive_successes, snapshot: pick(host.machine_snapshot) };
    const replayed = { state: health.value, failures: health.context.consecutiveFailures, successes: health.context.consecutiveSuccesses, snapshot: pick(health) };
    if (JSON.stringify(stored) !== JSON.stringify(replayed)) problems.push(`host ${host.id}: stored ${JSON.stringify(stored)}, replay of ${rows.length} rows gives ${JSON.stringify(replayed)}`);
    const last = rows.at(-1);
    if (last && (host.last_check?.getTime() !== last.check_time.getTime() || host.last_success !== last.success)) {
      problems.push(`host ${host.id}: last_check/last_success ${host.last_check?.toISOString()}/${host.last_success} differ from its latest history row ${last.check_time.toISOString()}/${last.success}`);
    }
  }
  return problems;
}

const pick = (s: PersistedHealth) => ({ value: s.value, context: s.context });

/** A check job as pg-boss keeps it (completed jobs stay for deleteAfterSeconds, an hour). */
export interface CheckJob {
  id: string;
  name: string;
  state: string;
  retry_count: number;
  data: CheckJobData;
  output: { recorded?: boolean; skipped_reason?: string } | null;
  created_on: Date;
  started_on: Date | null;
  completed_on: Date | null;
}

export async function checkJobs(pool: Pool): Promise<CheckJob[]> {
  const { rows } = await pool.query<CheckJob>(
    `SELECT id, name, state::text AS state, retry_count, data, output, created_on, started_on, completed_on
       FROM pgboss.job WHERE name = ANY($1) ORDER BY created_on, id`,
    [CHECK_QUEUES],
  );
  return rows;
}

/** Check jobs not finished yet (queued, waiting for a retry, or running). */
export async function pendingCheckJobs(pool: Pool): Promise<number> {
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = ANY($1) AND state IN ('created', 'retry', 'active')`, [CHECK_QUEUES]);
  return rows[0].n as number;
}

/**
 * Matches every check job with its history rows: each host a finished job carries must have
 * exactly one. (A scheduled job whose lease was taken over is dropped by recordCheck as
 * 'stale_lease' without a row; that only happens once a lease ran out, VIGIL_LEASE_SECONDS, far
 * longer than these runs — or on a retry of a job whose first attempt already recorded the host,
 * which then has its one row. So zero rows is a skipped due time here, two a duplicate.) Returns
 * one line per job and host that ran twice, was never recorded, or is unfinished.
 */
export async function unaccountedJobs(pool: Pool, jobs: CheckJob[]): Promise<string[]> {
  const { rows } = await pool.query<{ job_id: string; host_id: string; n: number }>(
    `SELECT job_id, host_id, count(*)::int AS n FROM host_monitoring_history WHERE job_id IS NOT NULL GROUP BY job_id, host_id`,
  );
  const rowsPerCheck = new Map(rows.map((r) => [`${r.job_id} ${r.host_id}`, r.n]));
  const problems: string[] = [];
  for (const job of jobs) {
    for (const { host_id: hostId } of hostsOfJob(job.data)) {
      const n = rowsPerCheck.get(`${job.id} ${hostId}`) ?? 0;
      const what = `${job.data.checked_by} job ${job.id} (host ${hostId}, ${job.state}, retries ${job.retry_count}, output ${JSON.stringify(job.output)})`;
      if (job.state !== 'completed') problems.push(`${what}: not completed`);
      else if (n !== 1) problems.push(`${what}: ${n} history rows`);
    }
  }
  return problems;
}
