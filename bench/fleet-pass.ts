import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiCall, type Api } from './api-client.ts';
import type { ChildRegistry } from './children.ts';
import { benchPool, type BenchServer } from './database.ts';
import { readStat, serverCpuSeconds } from './measure.ts';
import { summarise } from './stats.ts';
import { startApiProcess, startSchedulerProcess, startWorkerProcesses, waitForScheduledCheck } from './vigil-cluster.ts';

/**
 * The large-fleet pass: a fleet the size operators run, on the seed's intervals (HEALTHY 30 min,
 * DEGRADED 5, CRITICAL 2, DOWN 30), a share of it failing, for a window of minutes. Not a test of
 * the ceiling (the main window is) but of what such a fleet costs: the schedule lag of its checks
 * and the CPU Vigil and PostgreSQL spend on it, projected to hosts per core. First checks are
 * spread over the HEALTHY interval, and the window opens once the hosts that came due during
 * registration and start-up are checked, so it sees the steady state.
 */

export interface FleetPassDeps {
  server: BenchServer;
  registry: ChildRegistry;
  env: Record<string, string>;
  hosts: number;
  /** Share of hosts whose target answers 503. */
  failingShare: number;
  seconds: number;
  postmasterPid: number | undefined;
  log: (line: string) => void;
}

export interface FleetPassResult {
  hosts: number;
  failing_share: number;
  window_seconds: number;
  intervals_seconds: { healthy: number; degraded: number; critical: number; down: number };
  /** Scheduled checks recorded in the window, and per second. */
  checks: number;
  checks_per_second: number;
  lag_ms: { count: number; p50: number | null; p95: number | null; p99: number | null; max: number | null };
  /** CPU seconds in the window: Vigil's three processes, and the whole PostgreSQL server (nothing else runs on it meanwhile). */
  cpu_seconds: { vigil: number; postgres: number | null };
  /** (Vigil + PostgreSQL CPU) ÷ window: the cores this fleet keeps busy. */
  cores_used: number | null;
  /** hosts ÷ cores_used: how many such hosts one core would carry at this load. */
  hosts_per_core: number | null;
}

const INTERVALS = { healthy: 1800, degraded: 300, critical: 120, down: 1800 };

export async function runFleetPass(deps: FleetPassDeps): Promise<FleetPassResult> {
  const name = `vigil_bench_${process.pid}_fleet`;
  const url = await deps.server.createDatabase(name);
  const pool = benchPool(url);
  const target = await startTarget();
  const env = {
    ...deps.env,
    DATABASE_URL: url,
    VIGIL_HEALTHY_INTERVAL_SECONDS: String(INTERVALS.healthy),
    VIGIL_DEGRADED_INTERVAL_SECONDS: String(INTERVALS.degraded),
    VIGIL_CRITICAL_INTERVAL_SECONDS: String(INTERVALS.critical),
    VIGIL_DOWN_INTERVAL_SECONDS: String(INTERVALS.down),
    VIGIL_FIRST_CHECK_SPREAD_SECONDS: String(INTERVALS.healthy),
  };
  const { proc: apiProc, api } = await startApiProcess(deps.registry, env, 'api (fleet)');
  const procs = [apiProc];
  try {
    const registered = Date.now();
    await register(api, target.port, deps);
    deps.log(`fleet pass: ${deps.hosts} hosts registered in ${((Date.now() - registered) / 1000).toFixed(1)} s`);
    // Statistics for the freshly loaded table, as autovacuum's analyze would take within a minute;
    // a server with autovacuum off (the test server here) would otherwise plan every claim for an
    // empty table all window long.
    await pool.query('ANALYZE hosts');
    procs.push(...(await startWorkerProcesses(deps.registry, env, 1, pool, [])));
    const scheduler = startSchedulerProcess(deps.registry, env);
    procs.push(scheduler);
    await waitForScheduledCheck(pool, scheduler, 120_000);
    // Hosts that came due while the fleet was registered and Vigil started are a backlog, not the
    // steady state: the window opens once the oldest due check is less than a second late.
    const caughtUp = await waitForCaughtUp(api, 180_000);
    deps.log(`fleet pass: ${caughtUp ? 'caught up with the start-up backlog' : 'still behind after 180 s; measuring anyway'}`);
    const cpu = () => procs.reduce((sum, p) => sum + (readStat(p.pid)?.cpuSeconds ?? 0), 0);
    const pgCpu = () => (deps.postmasterPid ? serverCpuSeconds(deps.postmasterPid) : null);
    const { rows: [start] } = await pool.query<{ now: Date }>(`SELECT now()`);
    const [vigil0, pg0] = [cpu(), pgCpu()];
    deps.log(`fleet pass: a ${deps.seconds} s window`);
    await new Promise((r) => setTimeout(r, deps.seconds * 1000));
    const [vigil1, pg1] = [cpu(), pgCpu()];
    const { rows } = await pool.query<{ lag: number }>(
      `SELECT schedule_lag_ms AS lag FROM host_monitoring_history WHERE checked_by = 'scheduler' AND check_time >= $1 AND schedule_lag_ms IS NOT NULL`,
      [start!.now],
    );
    const lags = rows.map((r) => Number(r.lag));
    const stats = summarise(lags);
    const vigilCpu = vigil1 - vigil0;
    const postgresCpu = pg0 === null || pg1 === null ? null : pg1 - pg0;
    const coresUsed = postgresCpu === null ? null : (vigilCpu + postgresCpu) / deps.seconds;
    const result: FleetPassResult = {
      hosts: deps.hosts,
      failing_share: deps.failingShare,
      window_seconds: deps.seconds,
      intervals_seconds: INTERVALS,
      checks: lags.length,
      checks_per_second: lags.length / deps.seconds,
      lag_ms: { count: lags.length, p50: stats.p50, p95: stats.p95, p99: stats.p99, max: stats.max },
      cpu_seconds: { vigil: vigilCpu, postgres: postgresCpu },
      cores_used: coresUsed,
      hosts_per_core: coresUsed ? deps.hosts / coresUsed : null,
    };
    deps.log(`fleet pass: ${result.checks} checks, lag p99 ${stats.p99} ms, ${coresUsed?.toFixed(3) ?? '?'} cores`);
    return result;
  } finally {
    for (const p of procs.reverse()) await deps.registry.stop(p, 15_000);
    await target.close();
    await pool.end();
    await deps.server.dropDatabase(name).catch(() => {});
  }
}

/** Waits until the queue's oldest due check is under a second late; false when it is not within `timeoutMs`. */
async function waitForCaughtUp(api: Api, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { body } = await apiCall<{ oldest_lag_seconds: number }>(api, 'GET', '/api/monitoring/queue');
    if (body.oldest_lag_seconds < 1) return true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return false;
}

/** Registers the fleet through the bulk API; host i fails when its path says so (the first share of each hundred). */
async function register(api: Api, port: number, deps: FleetPassDeps): Promise<void> {
  const failingPerHundred = Math.round(deps.failingShare * 100);
  const host = (i: number) => ({
    name: `fleet-${i}`,
    address: '127.0.0.1',
    probes: [{ type: 'http', url: `http://127.0.0.1:${port}/${i % 100 < failingPerHundred ? 'fail' : 'ok'}/${i}` }],
  });
  for (let i = 0; i < deps.hosts; i += 5000) {
    await apiCall(api, 'POST', '/api/hosts/bulk', { hosts: Array.from({ length: Math.min(5000, deps.hosts - i) }, (_, k) => host(i + k)) });
  }
}

/** One HTTP server for the whole fleet: /ok/… answers 200, /fail/… 503. */
async function startTarget(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    res.statusCode = req.url?.startsWith('/fail/') ? 503 : 200;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
