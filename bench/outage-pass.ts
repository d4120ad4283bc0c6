import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiCall, type Api } from './api-client.ts';
import type { ChildRegistry } from './children.ts';
import { benchPool, type BenchServer } from './database.ts';
import { summarise } from './stats.ts';
import { startApiProcess, startSchedulerProcess, startWorkerProcesses, waitForScheduledCheck } from './vigil-cluster.ts';

/**
 * The mass-outage pass: a gateway with `children` hosts behind it and `bystanders` healthy hosts
 * elsewhere; mid-window the gateway and everything behind it stop answering. Run twice on
 * databases of their own, without and with the dependency (the group's gateway), side by side:
 * probes spent on the hosts behind the gateway (counted at the target), incidents opened, state
 * changes announced, and the schedule lag of the healthy bystanders while it lasts.
 */

export interface OutagePassDeps {
  server: BenchServer;
  registry: ChildRegistry;
  env: Record<string, string>;
  children: number;
  bystanders: number;
  outageSeconds: number;
  log: (line: string) => void;
}

export interface OutageVariant {
  dependencies: boolean;
  children: number;
  bystanders: number;
  outage_seconds: number;
  /** Probes the hosts behind the gateway received during the outage (at the target). */
  probes_to_children: number;
  /** Hosts behind the gateway UNREACHABLE / DOWN at the end of the outage. */
  children_unreachable: number;
  children_down: number;
  incidents_opened: number;
  /** state_changed events written during the outage (what notifications would be made of). */
  state_changes: number;
  /** Schedule lag of the bystanders' scheduled checks during the outage, ms. */
  bystander_lag_ms: { count: number; p50: number | null; p95: number | null; max: number | null };
}

/**
 * Intervals in the default ratios (HEALTHY 30 min : DEGRADED 5 : CRITICAL 2 : DOWN 30), scaled so
 * the outage spans four HEALTHY intervals and shows each cadence many times over; UNREACHABLE's
 * slow cadence is three HEALTHY intervals. A 60 s outage: HEALTHY 15 s, CRITICAL 1 s.
 */
function passEnv(outageSeconds: number): Record<string, string> {
  const healthy = Math.min(20, Math.max(2, outageSeconds / 4));
  const s = (x: number) => String(Math.round(x * 100) / 100);
  return {
    VIGIL_HEALTHY_INTERVAL_SECONDS: s(healthy),
    VIGIL_DEGRADED_INTERVAL_SECONDS: s(healthy / 6),
    VIGIL_CRITICAL_INTERVAL_SECONDS: s(healthy / 15),
    VIGIL_DOWN_INTERVAL_SECONDS: s(healthy),
    VIGIL_UNREACHABLE_INTERVAL_SECONDS: s(healthy * 3),
    VIGIL_DEPENDENCY_RECOVERY_SPREAD_SECONDS: s(healthy / 2),
    VIGIL_FIRST_CHECK_SPREAD_SECONDS: s(healthy / 2),
    VIGIL_CHECK_TIMEOUT_MS: '2000',
  };
}
const GROUP_LIMIT = 50;

export async function runOutagePass(deps: OutagePassDeps): Promise<OutageVariant[]> {
  const variants: OutageVariant[] = [];
  for (const dependencies of [false, true]) variants.push(await runVariant(deps, dependencies));
  return variants;
}

async function runVariant(deps: OutagePassDeps, dependencies: boolean): Promise<OutageVariant> {
  const name = `vigil_bench_${process.pid}_outage_${dependencies ? 'deps' : 'nodeps'}`;
  const url = await deps.server.createDatabase(name);
  const pool = benchPool(url);
  const target = await startTarget();
  const env = { ...deps.env, ...passEnv(deps.outageSeconds), DATABASE_URL: url };
  const { proc: apiProc, api } = await startApiProcess(deps.registry, env, `api (outage, ${label(dependencies)})`);
  const procs = [apiProc];
  try {
    await register(api, target, deps, dependencies);
    procs.push(...(await startWorkerProcesses(deps.registry, env, 1, pool, [])));
    const scheduler = startSchedulerProcess(deps.registry, env);
    procs.push(scheduler);
    await waitForScheduledCheck(pool, scheduler, 60_000);
    await waitForAllChecked(pool, deps.children + deps.bystanders + 1);
    const startedAt = Date.now();
    const { rows: clock } = await pool.query<{ now: Date }>(`SELECT now()`);
    target.down = true;
    deps.log(`outage (${label(dependencies)}): gateway and ${deps.children} hosts down for ${deps.outageSeconds} s`);
    await new Promise((r) => setTimeout(r, deps.outageSeconds * 1000));
    const probes = target.probes.filter((p) => p.at >= startedAt && p.path.startsWith('child-')).length;
    const variant = await measure(pool, clock[0]!.now, deps, dependencies, probes);
    deps.log(`outage (${label(dependencies)}): ${probes} probes behind the gateway, ${variant.incidents_opened} incidents, bystander lag p95 ${variant.bystander_lag_ms.p95} ms`);
    return variant;
  } finally {
    for (const p of procs.reverse()) await deps.registry.stop(p, 15_000);
    await target.close();
    await pool.end();
    await deps.server.dropDatabase(name).catch(() => {});
  }
}

const label = (dependencies: boolean) => (dependencies ? 'with dependencies' : 'without dependencies');

async function register(api: Api, target: Target, deps: OutagePassDeps, dependencies: boolean): Promise<void> {
  const probe = (path: string) => ({ type: 'http', url: `http://127.0.0.1:${target.port}/${path}` });
  await apiCall(api, 'POST', '/api/hosts/bulk', { hosts: [{ name: 'gateway', address: '127.0.0.1', probes: [probe('gateway')] }] });
  const children = Array.from({ length: deps.children }, (_, i) => ({ name: `child-${i}`, address: '127.0.0.1', probes: [probe(`child-${i}`)], group: 'behind-gateway' }));
  for (let i = 0; i < children.length; i += 5000) await apiCall(api, 'POST', '/api/hosts/bulk', { hosts: children.slice(i, i + 5000) });
  const bystanders = Array.from({ length: deps.bystanders }, (_, i) => ({ name: `bystander-${i}`, address: '127.0.0.1', probes: [probe(`bystander-${i}`)] }));
  for (let i = 0; i < bystanders.length; i += 5000) await apiCall(api, 'POST', '/api/hosts/bulk', { hosts: bystanders.slice(i, i + 5000) });
  const gateway = (await apiCall<{ hosts: { id: string }[] }>(api, 'GET', '/api/hosts?q=gateway')).body.hosts[0]!;
  await apiCall(api, 'PATCH', '/api/groups/behind-gateway', { max_concurrent_checks: GROUP_LIMIT, ...(dependencies ? { gateway_host_id: gateway.id } : {}) });
}

async function waitForAllChecked(pool: ReturnType<typeof benchPool>, hosts: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM hosts WHERE last_check IS NOT NULL`);
    if (rows[0]!.n >= hosts) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`not every host was checked within 120 s`);
}

async function measure(pool: ReturnType<typeof benchPool>, since: Date, deps: OutagePassDeps, dependencies: boolean, probes: number): Promise<OutageVariant> {
  const { rows: states } = await pool.query<{ state: string; n: number }>(
    `SELECT monitoring_state AS state, count(*)::int AS n FROM hosts WHERE name LIKE 'child-%' GROUP BY 1`,
  );
  const of = (s: string) => states.find((r) => r.state === s)?.n ?? 0;
  const { rows: incidents } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM incidents WHERE opened_at >= $1`, [since]);
  const { rows: changes } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM host_events WHERE type = 'state_changed' AND occurred_at >= $1`, [since]);
  const { rows: lags } = await pool.query<{ lag: number }>(
    `SELECT schedule_lag_ms AS lag FROM host_monitoring_history hm JOIN hosts h ON h.id = hm.host_id
      WHERE h.name LIKE 'bystander-%' AND hm.check_time >= $1 AND hm.checked_by = 'scheduler' AND hm.schedule_lag_ms IS NOT NULL`,
    [since],
  );
  const lag = summarise(lags.map((r) => r.lag));
  return {
    dependencies,
    children: deps.children,
    bystanders: deps.bystanders,
    outage_seconds: deps.outageSeconds,
    probes_to_children: probes,
    children_unreachable: of('UNREACHABLE'),
    children_down: of('DOWN'),
    incidents_opened: incidents[0]!.n,
    state_changes: changes[0]!.n,
    bystander_lag_ms: { count: lags.length, p50: lag.p50, p95: lag.p95, max: lag.max },
  };
}

interface Target {
  port: number;
  down: boolean;
  probes: { path: string; at: number }[];
  close(): Promise<void>;
}

/** One HTTP server for every host of the pass (path = host name); while `down`, the gateway and its hosts answer 503. */
async function startTarget(): Promise<Target> {
  const target: Target = { port: 0, down: false, probes: [], close: async () => {} };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').slice(1);
    target.probes.push({ path, at: Date.now() });
    const behind = path === 'gateway' || path.startsWith('child-');
    res.writeHead(target.down && behind ? 503 : 200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target.port = (server.address() as AddressInfo).port;
  target.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return target;
}
