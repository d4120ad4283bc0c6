import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';

import { createSilentLogger } from '../../src/lib/logger.ts';
import { startBoss } from '../../src/queue/boss.ts';
import { produceDueChecks } from '../../src/queue/producer.ts';

import { seedHosts } from '../helpers/hosts.ts';
import { expectConforms } from '../helpers/openapi.ts';
import { startHttpTarget, startSilentTarget, startTcpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { useTestVigil, waitFor } from '../helpers/vigil.ts';

// Scheduled checks only; intervals long, so each host is checked once per test.
const ENV = { VIGIL_HEALTHY_INTERVAL_SECONDS: '3600', VIGIL_DEGRADED_INTERVAL_SECONDS: '3600', VIGIL_CRITICAL_INTERVAL_SECONDS: '3600', VIGIL_DOWN_INTERVAL_SECONDS: '3600', VIGIL_WORKER_POLL_SECONDS: '0.5', VIGIL_PRODUCER_INTERVAL_MS: '50' };

let tcp: LoopbackTarget;
beforeAll(async () => {
  tcp = await startTcpTarget();
});
afterAll(async () => {
  await tcp?.close();
});
// Each test starts the Vigils it needs (ctx.start); they are stopped and the rows cleared after it.
const ctx = useTestVigil({ env: ENV, poolSize: 4, resetSql: `DELETE FROM hosts; DELETE FROM host_groups; DELETE FROM pgboss.job WHERE name LIKE 'vigil-%'` });


const historyOrder = async () =>
  (await ctx.pool.query<{ name: string; monitoring_state: string; previous_state: string; check_time: Date; response_time_ms: number; schedule_lag_ms: number | null }>(
    `SELECT h.name, m.previous_state, m.monitoring_state, m.check_time, m.response_time_ms, m.schedule_lag_ms
       FROM host_monitoring_history m JOIN hosts h ON h.id = m.host_id ORDER BY m.check_time, m.id`,
  )).rows;

describe('dispatch under backlog', () => {
  it('checks CRITICAL hosts before HEALTHY ones when one worker cannot keep up', async () => {
    const probes = [{ type: 'tcp', port: tcp.port }];
    await seedHosts(ctx.pool, { count: 10, namePrefix: 'healthy', probes, state: 'HEALTHY', priority: 3, dueAgoMs: 60_000 });
    await seedHosts(ctx.pool, { count: 10, namePrefix: 'critical', probes, state: 'CRITICAL', priority: 9, dueAgoMs: 1000 });
    // Enqueue the whole backlog first, then let one single-slot worker drain it. One shared lane,
    // so only priority decides the order.
    const env = { VIGIL_FAILING_SHARE: '0', VIGIL_WORKER_CONCURRENCY: '1' };
    const config = loadConfig({ DATABASE_URL: ctx.db.url, ...ENV, ...env });
    const boss = await startBoss(ctx.db.url, config, createSilentLogger());
    expect(await produceDueChecks({ pool: ctx.pool, boss, config, logger: createSilentLogger() })).toBe(20);
    await boss.stop({ graceful: false });
    await ctx.start(['worker'], env);
    const rows = await waitFor('20 checks', async () => ((await historyOrder()).length === 20 ? historyOrder() : undefined), 30_000);
    expect(rows.slice(0, 10).every((r) => r.previous_state === 'CRITICAL')).toBe(true);
    expect(rows.slice(10).every((r) => r.previous_state === 'HEALTHY')).toBe(true);
  });

  it('keeps healthy hosts on schedule while 200 failing hosts hang until their timeout', async () => {
    const silent = await startSilentTarget();
    try {
      await seedHosts(ctx.pool, { count: 200, namePrefix: 'hanging', probes: [{ type: 'tcp', port: silent.port }], state: 'DOWN', priority: 9 });
      // TCP to the silent target connects, so make those hang on HTTP instead.
      await ctx.pool.query(`UPDATE hosts SET probes = $1 WHERE name LIKE 'hanging-%'`, [JSON.stringify([{ type: 'http', url: `http://127.0.0.1:${silent.port}/` }])]);
      await seedHosts(ctx.pool, { count: 200, namePrefix: 'fine', probes: [{ type: 'tcp', port: tcp.port }], state: 'HEALTHY', priority: 3, dueAgoMs: 0 });
      const v = await ctx.start(['scheduler', 'worker', 'api'], { VIGIL_WORKER_CONCURRENCY: '20', VIGIL_CHECK_TIMEOUT_MS: '3000' });
      const fine = await waitFor('every healthy host checked', async () => {
        const rows = (await historyOrder()).filter((r) => r.name.startsWith('fine-'));
        return rows.length === 200 ? rows : undefined;
      }, 30_000);
      // Each healthy check started within a few seconds of being due, though the failing lane is
      // still full of hanging checks.
      expect(Math.max(...fine.map((r) => r.schedule_lag_ms!))).toBeLessThan(v.config.delayThresholdSeconds * 1000);
      const queue = await v.http().get('/api/monitoring/queue');
      expectConforms(queue);
      expect(queue.body.waiting_by_priority.filter((w: { lane: string }) => w.lane === 'failing').reduce((s: number, w: { waiting: number }) => s + w.waiting, 0)).toBeGreaterThan(100);
      const hanging = (await historyOrder()).filter((r) => r.name.startsWith('hanging-'));
      expect(hanging.length).toBeLessThan(100);
    } finally {
      await silent.close();
    }
  }, 60_000);

  it('enqueues no more than the rate limit allows in one pass', async () => {
    await seedHosts(ctx.pool, { count: 50, namePrefix: 'rated', probes: [{ type: 'tcp', port: tcp.port }] });
    const config = loadConfig({ DATABASE_URL: ctx.db.url, ...ENV, VIGIL_CLAIM_BATCH_SIZE: '7' });
    const boss = await startBoss(ctx.db.url, config, createSilentLogger());
    try {
      expect(await produceDueChecks({ pool: ctx.pool, boss, config, logger: createSilentLogger() }, 12)).toBe(12);
      // Checks, not jobs: hosts due together share a job.
      const { rows } = await ctx.pool.query(`SELECT sum(COALESCE(jsonb_array_length(data -> 'hosts'), 1))::int AS n FROM pgboss.job WHERE name LIKE 'vigil-%' AND state = 'created'`);
      expect(rows[0].n).toBe(12);
    } finally {
      await boss.stop({ graceful: false });
    }
  });
});

/** An HTTP target that answers after `delayMs` and records the most requests it held at once, per path prefix. */
async function startSlowTarget(delayMs: number) {
  let active = 0;
  let maxActive = 0;
  const server = http.createServer((_req, res) => {
    active++;
    maxActive = Math.max(maxActive, active);
    setTimeout(() => {
      active--;
      res.end('ok');
    }, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    maxActive: () => maxActive,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe('JIT checks on a busy worker', () => {
  it('answers a JIT check while every check slot is held by a target that hangs', async () => {
    const silent = await startSilentTarget();
    try {
      // Two slots, both taken by scheduled checks that only end at the 8 s timeout.
      const env = { VIGIL_FAILING_SHARE: '0', VIGIL_WORKER_CONCURRENCY: '2', VIGIL_CHECK_TIMEOUT_MS: '8000' };
      await seedHosts(ctx.pool, { count: 2, namePrefix: 'hang', probes: [{ type: 'http', url: `http://127.0.0.1:${silent.port}/` }], dueAgoMs: 1000 });
      const [quick] = await seedHosts(ctx.pool, { count: 1, namePrefix: 'quick', probes: [{ type: 'tcp', port: tcp.port }], dueAgoMs: -3_600_000 });
      const v = await ctx.start(['api', 'scheduler', 'worker'], env);
      await waitFor('both slots to hang', async () => (await ctx.pool.query(`SELECT sum(COALESCE(jsonb_array_length(data -> 'hosts'), 1))::int AS n FROM pgboss.job WHERE name LIKE 'vigil-%' AND state = 'active'`)).rows[0].n === 2);
      const began = Date.now();
      const res = await v.http().post(`/api/monitoring/hosts/${quick}/check-connectivity?wait=true&timeout=20`);
      const tookMs = Date.now() - began;
      expectConforms(res);
      expect(res.body.result).toMatchObject({ success: true });
      // Fetched over the lane's capacity and recorded on its own, not after the hanging checks.
      expect(tookMs).toBeLessThan(6000);
      expect((await ctx.pool.query(`SELECT count(*)::int AS n FROM host_monitoring_history WHERE host_id <> $1`, [quick])).rows[0].n).toBe(0);
    } finally {
      await silent.close();
    }
  }, 30_000);
});

describe('job heartbeats', () => {
  it('beats a check that outlasts the heartbeat, so nobody retries it, and never touches checks that end sooner', async () => {
    // pg-boss retries a job whose heartbeat is VIGIL_JOB_HEARTBEAT_SECONDS (10) old. The slow
    // host answers after 14 s: its job must have been touched, its one attempt recorded once.
    let answered = 0;
    const targets: { close: () => Promise<void> }[] = [];
    const slow = await startHttpTarget({ '/': (_req, res) => void setTimeout(() => { answered++; res.end('ok'); }, 14_000) });
    try {
      const [slowHost] = await seedHosts(ctx.pool, { count: 1, namePrefix: 'slow', probes: [{ type: 'http', url: `${slow.url}/` }], dueAgoMs: 1000 });
      // Twenty 2 s checks, due 0.5 s apart: some are always in flight while the slow one runs.
      const medium = await startHttpTarget({ '/': (_req, res) => void setTimeout(() => res.end('ok'), 2000) });
      targets.push(medium);
      const fast: string[] = [];
      for (let i = 0; i < 20; i++) fast.push(...(await seedHosts(ctx.pool, { count: 1, namePrefix: `fast-${i}`, probes: [{ type: 'http', url: `${medium.url}/` }], dueAgoMs: -500 * i })));
      // One check per job, so each job lives exactly as long as its check.
      await ctx.start(['scheduler', 'worker'], { VIGIL_CHECK_TIMEOUT_MS: '20000', VIGIL_LEASE_SECONDS: '60', VIGIL_JOB_HEARTBEAT_SECONDS: '10', VIGIL_CHECKS_PER_JOB: '1' });
      const jobs = await waitFor('the slow check to be recorded', async () => {
        const { rows } = await ctx.pool.query<{ host_id: string; retry_count: number; started_on: Date; heartbeat_on: Date; state: string }>(
          `SELECT m.host_id, j.retry_count, j.started_on, j.heartbeat_on, j.state FROM host_monitoring_history m JOIN pgboss.job j ON j.id = m.job_id`);
        return rows.some((r) => r.host_id === slowHost) && rows.length === 21 ? rows : undefined;
      }, 40_000);
      const slowJob = jobs.find((j) => j.host_id === slowHost)!;
      expect(slowJob).toMatchObject({ retry_count: 0, state: 'completed' });
      expect(slowJob.heartbeat_on.getTime()).toBeGreaterThan(slowJob.started_on.getTime());
      expect(answered).toBe(1);
      expect(slow.requests).toHaveLength(1);
      // A check that ends within a third of the heartbeat costs no heartbeat write (touching every
      // held job every 5 s touched some of these).
      const untouched = jobs.filter((r) => fast.includes(r.host_id)).filter((j) => j.heartbeat_on.getTime() === j.started_on.getTime());
      expect(untouched).toHaveLength(20);
    } finally {
      await slow.close();
      for (const t of targets) await t.close();
    }
  }, 60_000);
});

describe('concurrency groups', () => {
  it('never runs two checks of a group of limit 1 at once, across three workers', async () => {
    const target = await startSlowTarget(150);
    try {
      await seedHosts(ctx.pool, { count: 10, namePrefix: 'olt-node', probes: [{ type: 'http', url: target.url }], group: 'olt-1' });
      for (let i = 0; i < 3; i++) await ctx.start(['worker'], { VIGIL_WORKER_CONCURRENCY: '5', VIGIL_FAILING_SHARE: '0' });
      await ctx.start(['scheduler']);
      const rows = await waitFor('10 checks', async () => ((await historyOrder()).length >= 10 ? historyOrder() : undefined), 30_000);
      expect(target.maxActive()).toBe(1);
      // From the history: each check ends before the next one starts.
      const spans = rows.map((r) => [r.check_time.getTime(), r.check_time.getTime() + r.response_time_ms] as const).sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1] - 1);
    } finally {
      await target.close();
    }
  });

  it('lets a group run as many at once as its limit allows', async () => {
    const target = await startSlowTarget(300);
    try {
      await ctx.pool.query(`INSERT INTO host_groups (name, max_concurrent_checks) VALUES ('olt-3', 3)`);
      await seedHosts(ctx.pool, { count: 12, namePrefix: 'olt3-node', probes: [{ type: 'http', url: target.url }], group: 'olt-3' });
      await ctx.start(['worker', 'scheduler'], { VIGIL_WORKER_CONCURRENCY: '10', VIGIL_FAILING_SHARE: '0' });
      await waitFor('12 checks', async () => (await historyOrder()).length >= 12, 30_000);
      expect(target.maxActive()).toBeLessThanOrEqual(3);
      expect(target.maxActive()).toBeGreaterThan(1);
    } finally {
      await target.close();
    }
  });
});
