import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { seedHosts } from '../helpers/hosts.ts';
import { reserveRefusedPort, startHttpTarget, type HttpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { TEST_ADMIN_TOKEN, waitFor } from '../helpers/vigil.ts';
import { checkJobs, configFor, everyStateEvery, pendingCheckJobs, replayMismatches, spawnVigil, stopProcesses, unaccountedJobs, type VigilProcess } from '../helpers/vigil-processes.ts';

/**
 * Promise: crashes lose nothing. A fleet of 210 hosts (checks of 0.3 to 1.5 s) runs on three worker processes and two
 * schedulers (plus an API); the active scheduler and then a worker are killed with SIGKILL in the
 * middle of their work. test/integration/processes.test.ts covers one host and one process of each;
 * this one checks, for every host and every job, what was left behind.
 */

const SLOW_MS = 300;
const STANDBY_POLL_MS = 2000;
const HEARTBEAT_SECONDS = 10;
const ENV: Record<string, string> = {
  ...everyStateEvery(0.5),
  // The default: the README promises a takeover within it.
  VIGIL_SCHEDULER_STANDBY_POLL_MS: String(STANDBY_POLL_MS),
  VIGIL_JOB_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS),
  VIGIL_WORKER_HEARTBEAT_SECONDS: '0.5',
  VIGIL_FIRST_CHECK_SPREAD_SECONDS: '0',
  VIGIL_CHECK_TIMEOUT_MS: '5000',
  VIGIL_SHUTDOWN_GRACE_MS: '10000',
  VIGIL_JIT_RATE_PER_MINUTE: '0',
  VIGIL_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  DATABASE_POOL_MAX: '4',
  LOG_LEVEL: 'info',
};
const config = configFor(ENV);

const ctx = useTestDatabase({ poolSize: 4 });
let web: HttpTarget;
let refused: LoopbackTarget;
const procs: VigilProcess[] = [];

beforeAll(async () => {
  refused = await reserveRefusedPort();
  // Every HTTP check takes SLOW_MS, so each worker always has checks in flight when it is killed.
  const slow = (fail: () => boolean, times = 1) => (_req: unknown, res: { writeHead(s: number): { end(): void } }) =>
    void setTimeout(() => res.writeHead(fail() ? 500 : 200).end(), SLOW_MS * times);
  web = await startHttpTarget({ '/slow': slow(() => false), '/flaky': slow(() => Math.random() < 0.35), '/slower': slow(() => false, 5) });
});
afterAll(async () => {
  await stopProcesses(procs, 'SIGKILL');
  await Promise.all([web?.close(), refused?.close()]);
});

const query = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ctx.pool.query(sql, params)).rows as T[];

/** Hosts without a scheduled check that started after `since`. */
const hostsNotCheckedSince = async (since: Date) =>
  (await query<{ n: number }>(
    `SELECT count(*)::int AS n FROM hosts h
      WHERE NOT EXISTS (SELECT 1 FROM host_monitoring_history r WHERE r.host_id = h.id AND r.checked_by = 'scheduler' AND r.check_time > $1)`,
    [since],
  ))[0]!.n;

describe('crashes lose nothing', () => {
  let apiUrl: string;
  let api: VigilProcess;
  let schedulers: VigilProcess[];
  let workers: VigilProcess[];
  let slowerHosts: string[];

  beforeAll(async () => {
    await seedHosts(ctx.pool, { count: 130, namePrefix: 'slow', probes: [{ type: 'http', url: `${web.url}/slow` }] });
    slowerHosts = await seedHosts(ctx.pool, { count: 20, namePrefix: 'slower', probes: [{ type: 'http', url: `${web.url}/slower` }] });
    await seedHosts(ctx.pool, { count: 30, namePrefix: 'flaky', probes: [{ type: 'http', url: `${web.url}/flaky` }] });
    await seedHosts(ctx.pool, { count: 30, namePrefix: 'dead', probes: [{ type: 'tcp', port: refused.port }] });
    await ctx.pool.query(`UPDATE hosts SET enabled = false`);
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}`;
    api = spawnVigil(ctx.db.url, ['api'], { ...ENV, PORT: String(port), HOST: '127.0.0.1' });
    schedulers = [spawnVigil(ctx.db.url, ['scheduler'], ENV)];
    procs.push(api, schedulers[0]!);
    await waitFor('the first scheduler to lead', async () => schedulers[0]!.output().includes('became the active scheduler'), 30_000, 100);
    schedulers.push(spawnVigil(ctx.db.url, ['scheduler'], ENV));
    workers = [0, 1, 2].map(() => spawnVigil(ctx.db.url, ['worker'], ENV));
    procs.push(schedulers[1]!, ...workers);
    await waitFor('the API to be ready', async () => (await fetch(`${apiUrl}/readyz`).catch(() => undefined))?.status === 200, 30_000, 200);
    await waitFor('three workers', async () => (await query<{ n: number }>(`SELECT count(*)::int AS n FROM vigil_workers`))[0]!.n === 3, 30_000, 200);
    // The second scheduler is up (it has logged in standby by the time its pg-boss started).
    await waitFor('the standby scheduler started', async () => schedulers[1]!.output().includes('vigil started'), 30_000, 100);
    await ctx.pool.query(`UPDATE hosts SET enabled = true, next_check_time = now() + random() * interval '0.5 s'`);
    await waitFor('checks of every host', async () => (await hostsNotCheckedSince(new Date(0))) === 0, 30_000, 200);
  }, 90_000);

  it('SIGKILL of the active scheduler: the standby takes over within its poll interval and every host keeps being checked', async () => {
    const [active, standby] = schedulers as [VigilProcess, VigilProcess];
    expect(standby.output()).not.toContain('became the active scheduler');
    active.child.kill('SIGKILL');
    const killedAt = new Date();
    await active.exit;
    await waitFor('the standby to take over', async () => standby.output().includes('became the active scheduler'), 20_000, 50);
    // The first job the new scheduler enqueued: created_on is its claim transaction's start.
    const first = await waitFor('a scheduled check enqueued after the kill', async () =>
      (await query<{ at: Date }>(`SELECT min(created_on) AS at FROM pgboss.job WHERE data->>'checked_by' = 'scheduler' AND created_on > $1 HAVING count(*) > 0`, [killedAt]))[0]);
    const takeoverMs = first.at.getTime() - killedAt.getTime();
    console.log(`crashes: scheduler takeover ${takeoverMs} ms after SIGKILL (standby poll ${STANDBY_POLL_MS} ms)`);
    // The lock is released as the killed session's socket closes; the standby's next attempt wins.
    expect(takeoverMs).toBeLessThan(STANDBY_POLL_MS + 2000);
    const since = new Date();
    await waitFor('every host checked by the new scheduler’s dispatch', async () => (await hostsNotCheckedSince(since)) === 0, 20_000, 200);
  });

  it('SIGKILL of a worker mid-check: its checks are redone by the others once its job heartbeats stop; every host keeps being checked', async () => {
    const [victim, ...survivors] = workers as [VigilProcess, ...VigilProcess[]];
    // JIT checks of hosts whose checks take 1.5 s, one every 50 ms, so they spread over the
    // workers' fetches and some are likely in flight on the victim.
    const jit: string[] = [];
    for (const id of slowerHosts) {
      const res = await fetch(`${apiUrl}/api/monitoring/hosts/${id}/check-connectivity`, { method: 'POST', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      jit.push(((await res.json()) as { task_id: string }).task_id);
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor('the victim running checks', async () => (await query<{ running: number }>(`SELECT running FROM vigil_workers WHERE pid = $1`, [victim.child.pid]))[0]?.running, 10_000, 50);
    const active = (await query<{ id: string }>(`SELECT id FROM pgboss.job WHERE name LIKE 'vigil-checks%' AND state = 'active'`)).map((r) => r.id);
    victim.child.kill('SIGKILL');
    const killedAt = new Date();
    await victim.exit;

    // pg-boss fails the victim's jobs when their heartbeats stop, and retries them elsewhere.
    await waitFor('every job active at the kill to finish', async () =>
      (await query<{ n: number }>(`SELECT count(*)::int AS n FROM pgboss.job WHERE id = ANY($1) AND state <> 'completed'`, [active]))[0]!.n === 0, 60_000, 250);
    // One line per host a retried job carries (a scheduled job may carry several).
    const retried = await query<{ id: string; checked_by: string; rows: number; recorded_at: Date | null }>(
      `SELECT j.id, j.data->>'checked_by' AS checked_by, count(r.id)::int AS rows, max(r.created_at) AS recorded_at
         FROM pgboss.job j
        CROSS JOIN LATERAL (SELECT COALESCE(j.data->>'host_id', h->>'host_id')::uuid AS host_id
                              FROM jsonb_array_elements(COALESCE(j.data->'hosts', '[{}]'::jsonb)) AS h) c
         LEFT JOIN host_monitoring_history r ON r.job_id = j.id AND r.host_id = c.host_id
        WHERE j.id = ANY($1) AND j.retry_count > 0 GROUP BY j.id, j.data, c.host_id`,
      [active],
    );
    const redoneAfterMs = Math.max(...retried.map((r) => r.recorded_at!.getTime() - killedAt.getTime()));
    console.log(
      `crashes: ${active.length} jobs active at the worker kill, ${retried.length} of them the victim's (${retried.filter((r) => r.checked_by === 'jit').length} JIT), ` +
        `all redone within ${redoneAfterMs} ms (job heartbeat ${HEARTBEAT_SECONDS} s); ${jit.length} JIT checks queued before the kill`,
    );
    // The kill did hit checks in flight, and each of them was recorded exactly once; a job's
    // host the victim had not recorded before the kill was recorded after it (so by a surviving
    // worker), within about two heartbeats.
    expect(retried.length).toBeGreaterThan(0);
    expect(retried.filter((r) => r.rows !== 1)).toEqual([]);
    expect(retried.some((r) => r.recorded_at! > killedAt)).toBe(true);
    expect(redoneAfterMs).toBeLessThan((2 * HEARTBEAT_SECONDS + 10) * 1000);
    const since = new Date();
    await waitFor('every host checked after the redo', async () => (await hostsNotCheckedSince(since)) === 0, 20_000, 200);
    expect(survivors.every((w) => !w.exited())).toBe(true);
  }, 90_000);

  it('leaves no job unrecorded or recorded twice, no lease held, and every host as its history says', async () => {
    expect(await stopProcesses([api, schedulers[1]!])).toEqual([0, 0]);
    await waitFor('the queue to drain', async () => (await pendingCheckJobs(ctx.pool)) === 0, 30_000, 200);
    expect(await stopProcesses(workers.slice(1))).toEqual([0, 0]);

    const jobs = await checkJobs(ctx.pool);
    expect(await unaccountedJobs(ctx.pool, jobs)).toEqual([]);
    expect(await query(`SELECT h.id, h.lease_job_id, j.job_id AS jit_job_id FROM hosts h LEFT JOIN host_jit_checks j ON j.host_id = h.id WHERE h.lease_job_id IS NOT NULL OR j.job_id IS NOT NULL`)).toEqual([]);
    expect(await replayMismatches(ctx.pool, config)).toEqual([]);
    const states = await query(`SELECT monitoring_state, count(*)::int AS n FROM hosts GROUP BY 1 ORDER BY 1`);
    console.log(`crashes: ${jobs.length} check jobs, hosts by state ${JSON.stringify(states)}`);
  }, 60_000);
});
