import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { hostsOfJob } from '../../src/queue/names.ts';
import { seedHosts } from '../helpers/hosts.ts';
import { reserveRefusedPort, startHttpTarget, type HttpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { TEST_ADMIN_TOKEN, waitFor } from '../helpers/vigil.ts';
import { checkJobs, configFor, everyStateEvery, pendingCheckJobs, replayMismatches, spawnVigil, stopProcesses, unaccountedJobs, type VigilProcess } from '../helpers/vigil-processes.ts';

/**
 * Promise: the database can restart. An API, a scheduler and a worker, each its own process, run
 * against a throwaway PostgreSQL of this test's own, which is stopped (fast shutdown: sessions
 * and transactions in flight are cut) while checks are in flight, kept down longer than a job
 * heartbeat, and started again on the same port.
 */

const HEARTBEAT_SECONDS = 10;
/**
 * Longer than a job heartbeat: when the database returns, the jobs whose results the worker held
 * through the outage are past their heartbeat, so either the worker records them first or pg-boss
 * retries them elsewhere — once either way.
 */
const OUTAGE_MS = (HEARTBEAT_SECONDS + 2) * 1000;
const ENV: Record<string, string> = {
  ...everyStateEvery(0.5),
  VIGIL_FIRST_CHECK_SPREAD_SECONDS: '0',
  VIGIL_JOB_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS),
  VIGIL_CHECK_TIMEOUT_MS: '5000',
  VIGIL_SHUTDOWN_GRACE_MS: '10000',
  VIGIL_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  DATABASE_POOL_MAX: '4',
  LOG_LEVEL: 'info',
};
const config = configFor(ENV);

let dataDir: string;
let server: EmbeddedDatabase | undefined;
let web: HttpTarget;
let refused: LoopbackTarget;
const procs: VigilProcess[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-restart-'));
  server = await startEmbeddedPostgres(dataDir);
  refused = await reserveRefusedPort();
  // Each HTTP check takes 400 ms, so checks are in flight whenever the database goes away.
  const slow = (fail: () => boolean) => (_req: unknown, res: { writeHead(s: number): { end(): void } }) =>
    void setTimeout(() => res.writeHead(fail() ? 500 : 200).end(), 400);
  web = await startHttpTarget({ '/slow': slow(() => false), '/flaky': slow(() => Math.random() < 0.35) });
}, 120_000);
afterAll(async () => {
  await stopProcesses(procs, 'SIGKILL');
  await server?.stop();
  await Promise.all([web?.close(), refused?.close()]);
  await rm(dataDir, { recursive: true, force: true });
});

/** Runs `work` on a short-lived pool (a pool kept across the outage would only collect errors). */
async function withPool<T>(work: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = createPool(server!.url, 2);
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

const count = (sql: string, params: unknown[] = []) => withPool(async (p) => (await p.query(sql, params)).rows[0].n as number);
const logged = (p: VigilProcess, message: string) => p.logs().some((l) => l.message === message);
const readyz = async (apiUrl: string) => (await fetch(`${apiUrl}/readyz`).catch(() => undefined))?.status;

describe('the database can restart', () => {
  it('keeps every process running through an outage, answers 503 meanwhile, resumes checking, and half-writes nothing', async () => {
    const port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    // The API starts first and applies the migrations; the others find them applied.
    const api = spawnVigil(server!.url, ['api'], { ...ENV, PORT: String(port), HOST: '127.0.0.1' });
    procs.push(api);
    await waitFor('the API to be ready', async () => (await readyz(apiUrl)) === 200, 60_000, 200);
    const scheduler = spawnVigil(server!.url, ['scheduler'], ENV);
    const worker = spawnVigil(server!.url, ['worker'], ENV);
    procs.push(scheduler, worker);
    const hosts = await withPool(async (pool) => [
      ...(await seedHosts(pool, { count: 40, namePrefix: 'slow', probes: [{ type: 'http', url: `${web.url}/slow` }] })),
      ...(await seedHosts(pool, { count: 15, namePrefix: 'flaky', probes: [{ type: 'http', url: `${web.url}/flaky` }] })),
      ...(await seedHosts(pool, { count: 15, namePrefix: 'dead', probes: [{ type: 'tcp', port: refused.port }] })),
    ]);
    await waitFor('a few checks of every host', async () => (await count(`SELECT count(DISTINCT host_id)::int AS n FROM host_monitoring_history`)) === hosts.length, 60_000, 200);

    // Stop it while checks are in flight (pg-boss jobs active, probes waiting on the target).
    const inFlight = await waitFor('checks in flight', async () =>
      withPool(async (p) => {
        const { rows } = await p.query(`SELECT id FROM pgboss.job WHERE name LIKE 'vigil-checks%' AND state = 'active'`);
        return rows.length >= 5 && rows.map((r) => r.id as string);
      }), 10_000, 20);
    const dbPort = server!.port;
    await server!.stop();
    server = undefined;
    const downAt = Date.now();

    // Down: each role notices and says so, none exits, the API is alive but not ready.
    await waitFor('the scheduler to report the outage', async () => logged(scheduler, 'producer pass failed; retrying'), 20_000, 100);
    await waitFor('the worker to report the outage', async () =>
      logged(worker, 'fetching check jobs failed; retrying') || logged(worker, 'database unavailable; holding check results'), 20_000, 100);
    const readyDown = await fetch(`${apiUrl}/readyz`);
    expect(readyDown.status).toBe(503);
    expect(((await readyDown.json()) as { checks: { name: string; ok: boolean }[] }).checks.find((c) => c.name === 'database')).toMatchObject({ ok: false });
    const hostDown = await fetch(`${apiUrl}/api/hosts/${hosts[0]}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(hostDown.status).toBe(503);
    expect(hostDown.headers.get('retry-after')).toBe('5');
    expect((await fetch(`${apiUrl}/healthz`)).status).toBe(200);
    // Keep it down past a job heartbeat (a fixed span by design: the outage's length is the point).
    await new Promise((r) => setTimeout(r, Math.max(0, downAt + OUTAGE_MS - Date.now())));
    expect(procs.filter((p) => p.exited())).toEqual([]);
    expect(await readyz(apiUrl)).toBe(503);

    server = await startEmbeddedPostgres(dataDir, () => {}, dbPort);
    const upAt = new Date();
    await waitFor('the API ready again', async () => (await readyz(apiUrl)) === 200, 30_000, 100);
    const readyAfterMs = Date.now() - upAt.getTime();
    // Checks resume for every host (the producer's backoff is at most 30 s).
    await waitFor('every host checked again', async () =>
      (await count(`SELECT count(DISTINCT host_id)::int AS n FROM host_monitoring_history WHERE check_time > $1`, [upAt])) === hosts.length, 60_000, 250);
    const resumedAfterMs = Date.now() - upAt.getTime();
    await waitFor('three more checks of every host', async () =>
      (await count(`SELECT count(*)::int AS n FROM (SELECT host_id FROM host_monitoring_history WHERE check_time > $1 GROUP BY 1 HAVING count(*) >= 3) x`, [upAt])) === hosts.length, 30_000, 250);
    expect(procs.filter((p) => p.exited())).toEqual([]);

    // Stop dispatch, drain, stop the worker: each exits cleanly.
    expect(await stopProcesses([api, scheduler])).toEqual([0, 0]);
    await withPool(async (pool) => waitFor('the queue to drain', async () => (await pendingCheckJobs(pool)) === 0, 30_000, 200));
    expect(await stopProcesses([worker])).toEqual([0]);

    await withPool(async (pool) => {
      const jobs = await checkJobs(pool);
      // Every check job, including those in flight at the stop and held across the outage, has
      // exactly one history row; no host kept a lease; every host's state, counters and snapshot
      // are what its history replayed through the machine gives, and each row's previous_state is
      // the state the row before it left.
      expect(await unaccountedJobs(pool, jobs)).toEqual([]);
      expect((await pool.query(`SELECT h.id FROM hosts h LEFT JOIN host_jit_checks j ON j.host_id = h.id WHERE h.lease_job_id IS NOT NULL OR j.job_id IS NOT NULL`)).rows).toEqual([]);
      expect(await replayMismatches(pool, config)).toEqual([]);
      const retried = jobs.filter((j) => j.retry_count > 0).length;
      // The checks in flight at the stop were recorded once each, after the restart: their results
      // were held through the outage (or their jobs retried), not lost.
      // (A scheduled job may carry several hosts: one row for each.)
      const { rows: held } = await pool.query(`SELECT job_id, created_at FROM host_monitoring_history WHERE job_id = ANY($1)`, [inFlight]);
      const checksInFlight = jobs.filter((j) => inFlight.includes(j.id)).reduce((n, j) => n + hostsOfJob(j.data).length, 0);
      expect(checksInFlight).toBeGreaterThanOrEqual(inFlight.length);
      expect(held.length).toBe(checksInFlight);
      const heldAcross = held.filter((r) => r.created_at >= upAt).length;
      console.log(
        `database-restart: outage ${OUTAGE_MS} ms; ready ${readyAfterMs} ms and every host checked ${resumedAfterMs} ms after the restart; ` +
          `${jobs.length} check jobs, ${inFlight.length} in flight at the stop carrying ${checksInFlight} checks (${heldAcross} of them recorded after the restart), ${retried} retried by pg-boss`,
      );
    });
  }, 150_000);
});
