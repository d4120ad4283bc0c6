import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';
import { nextCheckDelayMs } from '../../src/machine/schedule.ts';
import { hostsOfJob } from '../../src/queue/names.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { seedHosts } from '../helpers/hosts.ts';
import { reserveRefusedPort, startHttpTarget, startTcpTarget, type HttpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { TEST_ADMIN_TOKEN, waitFor } from '../helpers/vigil.ts';
import {
  checkJobs,
  configFor,
  historyByHost,
  pendingCheckJobs,
  replayMismatches,
  spawnVigil,
  stopProcesses,
  unaccountedJobs,
  type VigilProcess,
} from '../helpers/vigil-processes.ts';

/**
 * Promise: every due check runs exactly once. Three workers, two schedulers and an API, each its
 * own process, run 300 hosts at half-second intervals for RUN_MS while clients fire JIT checks;
 * then everything stops and the history and pg-boss's job table are read back.
 */

const RUN_MS = 30_000;
const INTERVAL_SECONDS = 0.5;
/**
 * A check starts at most this long after its due time: measured on 2 cores, p50 88 ms, p99 198 ms,
 * max 270 ms; the margin is for slower CI machines. A skipped check would leave its host
 * unchecked for the rest of the run (its lease lasts 15 minutes).
 */
const MAX_LATE_MS = 3000;

const ENV: Record<string, string> = {
  VIGIL_HEALTHY_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
  VIGIL_DEGRADED_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
  VIGIL_CRITICAL_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
  VIGIL_DOWN_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
  VIGIL_PRODUCER_INTERVAL_MS: '50',
  VIGIL_SCHEDULER_STANDBY_POLL_MS: '200',
  VIGIL_FIRST_CHECK_SPREAD_SECONDS: '0',
  VIGIL_WORKER_POLL_SECONDS: '0.5',
  VIGIL_CHECK_TIMEOUT_MS: '5000',
  VIGIL_SHUTDOWN_GRACE_MS: '10000',
  VIGIL_JIT_RATE_PER_MINUTE: '0',
  VIGIL_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  DATABASE_POOL_MAX: '4',
  LOG_LEVEL: 'warn',
};
const config = configFor(ENV);

const ctx = useTestDatabase({ poolSize: 4 });
let tcp: LoopbackTarget;
let refused: LoopbackTarget;
let web: HttpTarget;
let held: Awaited<ReturnType<typeof startHeldTarget>>;
const procs: VigilProcess[] = [];

beforeAll(async () => {
  tcp = await startTcpTarget();
  refused = await reserveRefusedPort();
  // About a third of the flaky host's answers fail, so hosts walk up and down the machine.
  web = await startHttpTarget({ '/flaky': (_req, res) => void res.writeHead(Math.random() < 0.35 ? 500 : 200).end() });
  held = await startHeldTarget();
});
afterAll(async () => {
  await stopProcesses(procs, 'SIGKILL');
  await Promise.all([tcp?.close(), refused?.close(), web?.close(), held?.close()]);
});

/** Answers nothing until `release()`, then everything (held requests too) with 200. Counts requests per path. */
async function startHeldTarget() {
  const waiting: http.ServerResponse[] = [];
  const requests = new Map<string, number>();
  let released = false;
  const server = http.createServer((req, res) => {
    requests.set(req.url!, (requests.get(req.url!) ?? 0) + 1);
    if (released) res.end('ok');
    else waiting.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: (p: string) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${p}`,
    requests: (p: string) => requests.get(p) ?? 0,
    release: () => {
      released = true;
      for (const res of waiting.splice(0)) res.end('ok');
    },
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

interface JitAnswer {
  hostId: string;
  status: number;
  taskId: string | null;
  message: string;
  result: { check_time: string; checked_by: string } | null;
}

async function jit(apiUrl: string, hostId: string, wait: boolean): Promise<JitAnswer> {
  const res = await fetch(`${apiUrl}/api/monitoring/hosts/${hostId}/check-connectivity${wait ? '?wait=true&timeout=10' : ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
  });
  const body = (await res.json()) as { task_id: string | null; message: string; result: JitAnswer['result'] };
  return { hostId, status: res.status, taskId: body.task_id, message: body.message, result: body.result };
}

/** Several clients firing JIT checks at the same few hosts until `until` says stop. */
async function jitStorm(apiUrl: string, hostIds: string[], clients: number, until: () => boolean): Promise<JitAnswer[]> {
  const answers: JitAnswer[] = [];
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; !until(); i++) {
        // All clients take the same host at the same step, so their calls overlap.
        const hostId = hostIds[i % hostIds.length]!;
        answers.push(await jit(apiUrl, hostId, (i + c) % 3 === 0));
      }
    }),
  );
  return answers;
}

describe('every due check runs exactly once', () => {
  it('three workers, two schedulers, an API and JIT clients: no due check twice, none skipped, state matches history', async () => {
    const okHosts = await seedHosts(ctx.pool, { count: 200, namePrefix: 'ok', probes: [{ type: 'tcp', port: tcp.port }] });
    const deadHosts = await seedHosts(ctx.pool, { count: 40, namePrefix: 'dead', probes: [{ type: 'tcp', port: refused.port }] });
    const flakyHosts = await seedHosts(ctx.pool, { count: 60, namePrefix: 'flaky', probes: [{ type: 'http', url: `${web.url}/flaky` }] });
    const heldHosts: string[] = [];
    for (let i = 0; i < 4; i++) heldHosts.push(...(await seedHosts(ctx.pool, { count: 1, namePrefix: `held${i}`, probes: [{ type: 'http', url: held.url(`/h${i}`) }] })));
    const fleetHosts = [...okHosts, ...deadHosts, ...flakyHosts];
    await ctx.pool.query(`UPDATE hosts SET enabled = false`);

    const port = await freePort();
    const api = spawnVigil(ctx.db.url, ['api'], { ...ENV, PORT: String(port), HOST: '127.0.0.1' });
    const apiUrl = `http://127.0.0.1:${port}`;
    const schedulers = [spawnVigil(ctx.db.url, ['scheduler'], ENV), spawnVigil(ctx.db.url, ['scheduler'], ENV)];
    const workers = [0, 1, 2].map(() => spawnVigil(ctx.db.url, ['worker'], ENV));
    procs.push(api, ...schedulers, ...workers);
    await waitFor('the API to be ready', async () => (await fetch(`${apiUrl}/readyz`).catch(() => undefined))?.status === 200, 30_000, 200);
    await waitFor('three workers', async () => (await ctx.pool.query(`SELECT count(*)::int AS n FROM vigil_workers`)).rows[0].n === 3, 30_000, 200);
    // Hosts were seeded disabled, so lag is measured from a start when every process runs; their
    // first due times spread over one interval, as a running fleet's are.
    await ctx.pool.query(`UPDATE hosts SET enabled = true, next_check_time = now() + random() * make_interval(secs => $1)`, [INTERVAL_SECONDS]);

    // Several clients hammer ten hosts with JIT checks for the whole run.
    const runEnd = Date.now() + RUN_MS;
    const storm = jitStorm(apiUrl, okHosts.slice(0, 10), 4, () => Date.now() > runEnd);

    // Held hosts: their scheduled check hangs at the target; JIT calls from four clients in three
    // rounds must all join the one JIT job, which also hangs there.
    await waitFor('the held hosts’ scheduled checks in flight', async () => [0, 1, 2, 3].every((i) => held.requests(`/h${i}`) >= 1), 20_000);
    const rounds: JitAnswer[][] = [];
    for (let round = 0; round < 3; round++) rounds.push(await Promise.all(heldHosts.flatMap((h) => [0, 1, 2, 3].map(() => jit(apiUrl, h, false)))));
    await waitFor('the JIT checks in flight at the held target', async () => [0, 1, 2, 3].every((i) => held.requests(`/h${i}`) >= 2), 20_000);
    const pendingJit = await ctx.pool.query(
      `SELECT data->>'host_id' AS host_id, count(*)::int AS n FROM pgboss.job
        WHERE name = 'vigil-checks' AND data->>'checked_by' = 'jit' AND data->>'host_id' = ANY($1) GROUP BY 1`,
      [heldHosts],
    );
    const heldLeases = await ctx.pool.query(`SELECT h.id, h.lease_job_id, j.job_id AS jit_job_id FROM hosts h LEFT JOIN host_jit_checks j ON j.host_id = h.id WHERE h.id = ANY($1)`, [heldHosts]);
    held.release();
    for (const hostId of heldHosts) {
      const answers = rounds.flat().filter((a) => a.hostId === hostId);
      expect(answers.map((a) => a.status)).toEqual(Array(12).fill(202));
      expect(new Set(answers.map((a) => a.taskId)).size).toBe(1);
      expect(answers.filter((a) => a.message.startsWith('Fresh')).length).toBe(1);
    }
    // One JIT job per held host in the queue, next to its outstanding scheduled check.
    expect(pendingJit.rows.map((r) => r.n)).toEqual([1, 1, 1, 1]);
    for (const h of heldLeases.rows) {
      expect(h.lease_job_id).not.toBeNull();
      expect(h.jit_job_id).toBe(rounds[0]!.find((a) => a.hostId === h.id)!.taskId);
    }
    // Once the held JIT check is done, the next call starts a fresh one.
    await waitFor('the held JIT checks recorded', async () => (await ctx.pool.query(`SELECT count(*)::int AS n FROM hosts h LEFT JOIN host_jit_checks j ON j.host_id = h.id WHERE h.id = ANY($1) AND j.job_id IS NULL`, [heldHosts])).rows[0].n === 4, 20_000);
    const again = await jit(apiUrl, heldHosts[0]!, true);
    expect(again.status).toBe(200);
    expect(again.taskId).not.toBe(rounds[0]![0]!.taskId);

    const stormAnswers = await storm;
    // Stop dispatching first, then let the workers drain the queue, so every job created has run.
    const schedulerStoppedAt = Date.now();
    expect(await stopProcesses([api, ...schedulers])).toEqual([0, 0, 0]);
    await waitFor('the queue to drain', async () => (await pendingCheckJobs(ctx.pool)) === 0, 30_000, 200);
    expect(await stopProcesses(workers)).toEqual([0, 0, 0]);

    const jobs = await checkJobs(ctx.pool);
    const jobById = new Map(jobs.map((j) => [j.id, j]));
    const history = await historyByHost(ctx.pool);
    const rows = [...history.values()].flat();
    const scheduled = jobs.filter((j) => j.data.checked_by === 'scheduler');
    const lags = rows.filter((r) => r.checked_by === 'scheduler').map((r) => r.schedule_lag_ms!).sort((a, b) => a - b);
    const shared = new Map<string, number>();
    for (const a of stormAnswers) shared.set(a.taskId!, (shared.get(a.taskId!) ?? 0) + 1);
    console.log(
      `exactly-once: ${jobs.length} check jobs (${scheduled.length} scheduled, ${jobs.length - scheduled.length} JIT) in ${RUN_MS / 1000} s, ` +
        `${rows.length} history rows; schedule lag p50 ${lags[Math.floor(lags.length / 2)]} ms, p99 ${lags[Math.floor(lags.length * 0.99)]} ms, max ${lags.at(-1)} ms; ` +
        `${stormAnswers.length} storm JIT calls → ${shared.size} jobs (${[...shared.values()].filter((n) => n > 1).length} shared by several calls); ` +
        `states ${JSON.stringify((await ctx.pool.query(`SELECT monitoring_state, count(*)::int AS n FROM hosts GROUP BY 1 ORDER BY 1`)).rows)}`,
    );

    // --- No due check twice, none skipped: every job has exactly one history row. ---
    expect(await unaccountedJobs(ctx.pool, jobs)).toEqual([]);
    const carries = (jobId: string, hostId: string) => hostsOfJob(jobById.get(jobId)!.data).some((h) => h.host_id === hostId);
    expect(rows.filter((r) => !r.job_id || !jobById.has(r.job_id) || !carries(r.job_id, r.host_id))).toEqual([]);
    expect(rows.filter((r) => r.checked_by !== jobById.get(r.job_id!)!.data.checked_by)).toEqual([]);

    // One scheduled job per host and due time, due times strictly increasing per host, and each
    // scheduled row's lag measured from its job's due time.
    const dueKeys = scheduled.flatMap((j) => hostsOfJob(j.data).map((h) => `${h.host_id} ${h.due_at}`));
    expect(new Set(dueKeys).size).toBe(dueKeys.length);
    const lateRows: string[] = [];
    for (const r of rows.filter((x) => x.checked_by === 'scheduler')) {
      const dueMs = Date.parse(hostsOfJob(jobById.get(r.job_id!)!.data).find((h) => h.host_id === r.host_id)!.due_at!);
      const lag = r.check_time.getTime() - dueMs;
      if (lag < 0 || Math.abs(lag - r.schedule_lag_ms!) > 1 || lag > MAX_LATE_MS) lateRows.push(`${r.job_id}: due ${dueMs}, started ${r.check_time.getTime()}, lag ${r.schedule_lag_ms}`);
    }
    expect(lateRows).toEqual([]);

    // Spacing: scheduled checks of a host never closer than its interval (a duplicate would be),
    // and no gap (scheduled or JIT) longer than its interval plus MAX_LATE_MS from the first
    // check to the moment the schedulers stopped (a skipped check would leave the host unchecked
    // until its lease ran out, 15 minutes).
    const firstCheck = Math.min(...rows.map((r) => r.check_time.getTime()));
    const spacing: string[] = [];
    for (const hostId of fleetHosts) {
      const delayMs = nextCheckDelayMs(hostId, 'HEALTHY', config);
      const times = (history.get(hostId) ?? []).map((r) => r.check_time.getTime()).sort((a, b) => a - b);
      const sched = (history.get(hostId) ?? []).filter((r) => r.checked_by === 'scheduler').map((r) => r.check_time.getTime()).sort((a, b) => a - b);
      const edges = [firstCheck, ...times, schedulerStoppedAt];
      for (let i = 1; i < edges.length; i++) {
        if (edges[i]! - edges[i - 1]! > delayMs + MAX_LATE_MS) spacing.push(`host ${hostId}: ${edges[i]! - edges[i - 1]!} ms without a check (edge ${i} of ${edges.length})`);
      }
      for (let i = 1; i < sched.length; i++) {
        if (sched[i]! - sched[i - 1]! < delayMs - 2) spacing.push(`host ${hostId}: scheduled checks ${sched[i]! - sched[i - 1]!} ms apart, interval ${delayMs} ms`);
      }
    }
    expect(spacing).toEqual([]);

    // --- JIT storm: each task id answered ran exactly once, for that host; waited answers show its result. ---
    expect(stormAnswers.every((a) => a.status === 200 || a.status === 202)).toBe(true);
    for (const a of stormAnswers) {
      const job = jobById.get(a.taskId!);
      expect(job?.data).toMatchObject({ host_id: a.hostId, checked_by: 'jit' });
      if (a.status === 200) {
        const row = rows.find((r) => r.job_id === a.taskId)!;
        expect(a.result).toMatchObject({ check_time: row.check_time.toISOString(), checked_by: 'jit' });
      }
    }

    // --- Host rows agree with their history, and nothing is left claimed. ---
    expect(await replayMismatches(ctx.pool, config)).toEqual([]);
    const leftovers = await ctx.pool.query(`SELECT h.id, h.lease_job_id, j.job_id AS jit_job_id FROM hosts h LEFT JOIN host_jit_checks j ON j.host_id = h.id WHERE h.lease_job_id IS NOT NULL OR j.job_id IS NOT NULL`);
    expect(leftovers.rows).toEqual([]);

  }, 150_000);
});
