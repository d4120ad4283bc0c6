import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type pg from 'pg';
import { freePort } from '../src/db/embedded.ts';
import { waitUntilReady, type Api } from './api-client.ts';
import type { ChildRegistry, Tracked } from './children.ts';
import type { BenchOptions } from './options.ts';

/**
 * Vigil as real, separate processes — `node src/main.ts api|scheduler|worker` — configured only
 * through their environment, as an operator would run them.
 */

export const VIGIL_MAIN = path.resolve(import.meta.dirname, '../src/main.ts');

const SECRET_VARIABLES = ['VIGIL_ADMIN_TOKEN', 'VIGIL_SECRET_KEY', 'VIGIL_METRICS_TOKEN'];

/**
 * Variables from our own environment that reach Vigil (after ours, so a caller can override any
 * setting): Vigil's own, and the process knobs an operator would tune (NODE_OPTIONS, MALLOC_ARENA_MAX).
 */
const PASSED_THROUGH = /^(VIGIL_|DATABASE_POOL_MAX$|NODE_OPTIONS$|MALLOC_ARENA_MAX$)/;

export interface VigilEnv {
  env: Record<string, string>;
  /** The same, secrets redacted, for the report. */
  shown: Record<string, string>;
}

export function vigilEnv(opts: BenchOptions, databaseUrl: string, dataDir: string): VigilEnv {
  const interval = String(opts.interval);
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    VIGIL_HEALTHY_INTERVAL_SECONDS: interval,
    VIGIL_DEGRADED_INTERVAL_SECONDS: interval,
    VIGIL_CRITICAL_INTERVAL_SECONDS: interval,
    VIGIL_DOWN_INTERVAL_SECONDS: interval,
    // New hosts' first checks spread over one interval, as in steady state.
    VIGIL_FIRST_CHECK_SPREAD_SECONDS: interval,
    VIGIL_PRODUCER_INTERVAL_MS: '100',
    VIGIL_WORKER_CONCURRENCY: String(opts.concurrency),
    VIGIL_CHECK_TIMEOUT_MS: String(opts.timeoutMs),
    VIGIL_JIT_RATE_PER_MINUTE: '0',
    VIGIL_SHUTDOWN_GRACE_MS: String(opts.timeoutMs + 2000),
    ...Object.fromEntries(Object.entries(process.env).filter((kv): kv is [string, string] => PASSED_THROUGH.test(kv[0]) && kv[1] !== undefined)),
    DATABASE_URL: databaseUrl,
    VIGIL_DATA_DIR: dataDir,
    VIGIL_ADMIN_TOKEN: `bench-${randomBytes(24).toString('base64url')}`,
    VIGIL_SECRET_KEY: randomBytes(32).toString('base64'),
  };
  const shown = Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, SECRET_VARIABLES.includes(k) ? '(random)' : k === 'DATABASE_URL' ? redactUrl(v) : v]),
  );
  return { env, shown };
}

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

export interface ApiProcess {
  proc: Tracked;
  api: Api;
}

/** Starts `vigil api` on a free loopback port and waits for /readyz (migrations applied, queue started). */
export async function startApiProcess(registry: ChildRegistry, env: Record<string, string>, label: string, nodeArgs: string[] = []): Promise<ApiProcess> {
  const port = await freePort();
  const proc = registry.spawnNode(label, VIGIL_MAIN, ['api'], { env: { ...env, PORT: String(port) }, nodeArgs });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(url, 90_000, () => !proc.exited).catch((err: Error) => {
    throw new Error(`${label}: ${err.message}\n${proc.output().slice(-4000)}`);
  });
  return { proc, api: { url, token: env.VIGIL_ADMIN_TOKEN! } };
}

/** Starts `n` worker processes and waits until each has registered itself in vigil_workers. */
export async function startWorkerProcesses(registry: ChildRegistry, env: Record<string, string>, n: number, pool: pg.Pool, nodeArgs: string[]): Promise<Tracked[]> {
  const workers = Array.from({ length: n }, (_, i) => registry.spawnNode(`worker-${i + 1}`, VIGIL_MAIN, ['worker'], { env, nodeArgs }));
  const deadline = Date.now() + 90_000;
  for (;;) {
    const { rows } = await pool.query(`SELECT count(*) AS n FROM vigil_workers WHERE pid = ANY($1)`, [workers.map((w) => w.pid)]);
    if (Number(rows[0].n) === n) return workers;
    const dead = workers.find((w) => w.exited);
    if (dead) throw new Error(`${dead.label} exited while starting:\n${dead.output().slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`only ${rows[0].n} of ${n} workers registered within 90 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function startSchedulerProcess(registry: ChildRegistry, env: Record<string, string>): Tracked {
  return registry.spawnNode('scheduler', VIGIL_MAIN, ['scheduler'], { env });
}

/** Waits for the first check the scheduler dispatched to be recorded: the whole pipeline runs. */
export async function waitForScheduledCheck(pool: pg.Pool, scheduler: Tracked, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query(`SELECT EXISTS (SELECT 1 FROM host_monitoring_history WHERE checked_by = 'scheduler') AS ok`);
    if (rows[0].ok) return;
    if (scheduler.exited) throw new Error(`the scheduler exited:\n${scheduler.output().slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`no scheduled check was recorded within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Connections the Vigil processes may open at most: each has its query pool (DATABASE_POOL_MAX),
 * pg-boss's pool (6, src/queue/boss.ts) and listener or lock connections.
 */
export function connectionBudget(env: Record<string, string>, workers: number): number {
  const pool = Number(env.DATABASE_POOL_MAX ?? 10);
  const boss = 6;
  return (workers + 2) * (pool + boss + 3);
}
