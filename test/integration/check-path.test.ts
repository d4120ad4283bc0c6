import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { getPriority } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';
import { CHECK_QUEUES } from '../../src/queue/names.ts';
import { seedHosts } from '../helpers/hosts.ts';
import { reserveRefusedPort, startHttpTarget, startSilentTarget, type HttpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { spawnVigil, stopProcesses, type VigilProcess } from '../helpers/vigil-processes.ts';
import { authHeader, FAST_ENV, TEST_ADMIN_TOKEN, useTestVigil, waitFor } from '../helpers/vigil.ts';
import request from 'supertest';

/**
 * The four holes of the check path (issue "The check path, made plain and made safe"): a queue
 * backlog longer than the lease, infrastructure errors counted against hosts, schedules on each
 * process's clock, and jobs that fail for good leaving a silent gap. Each test fails on the code
 * before the fix.
 */

/** One key for all the Vigils of a test (a database with credentials refuses any other). */
const SECRET_KEY = randomBytes(32).toString('base64');
const targets: LoopbackTarget[] = [];
const skewed: VigilProcess[] = [];
const CLOCK_AHEAD = path.resolve('test/helpers/clock-ahead.mjs');

/**
 * Each test gets a database of its own (they leave hosts, jobs, events and credentials behind), so
 * every describe block below holds one test and calls this once. Its Vigils are started with
 * `ctx.start` and stopped after the test.
 */
function useFreshVigil() {
  const ctx = useTestVigil({ env: { VIGIL_SECRET_KEY: SECRET_KEY } });
  const query = async <T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> => (await ctx.pool.query(text, values)).rows as T[];
  return { ctx, query };
}

// Runs after each block's own afterEach has stopped its Vigils.
afterEach(async () => {
  await stopProcesses(skewed.splice(0));
  for (const t of targets.splice(0)) await t.close();
});

describe('a queue backlog longer than the lease', () => {
  const { ctx, query } = useFreshVigil();
  it('keeps each host\'s queued job as its check: one job per host however often the lease runs out, and every host reaches DOWN', { timeout: 120_000 }, async () => {
    const silent = await startSilentTarget();
    targets.push(silent);
    // A lease of 0.6 s and checks that hang until their 0.3 s timeout: with 20 such hosts and one
    // check slot per lane, a job waits several seconds in the queue, many leases long.
    const env = { ...FAST_ENV, VIGIL_CHECK_TIMEOUT_MS: '300', VIGIL_LEASE_SECONDS: '0.6', VIGIL_WORKER_CONCURRENCY: '2', VIGIL_FAILING_SHARE: '0.5' };
    const scheduler = await ctx.start(['scheduler'], env);
    const ids = await seedHosts(scheduler.pool, { count: 20, namePrefix: 'backlog', probes: [{ type: 'http', url: silent.url }] });
    const [{ t0 }] = (await query<{ t0: Date }>('SELECT now() AS t0')) as [{ t0: Date }];
    // No worker yet: the backlog only grows. Wait until every lease has run out at least three times.
    await waitFor('three leases to pass for every host', async () => {
      const [row] = await query<{ passed: boolean }>(`SELECT min(next_check_time) > $1::timestamptz + interval '2 seconds' AS passed FROM hosts`, [t0]);
      return row!.passed;
    });
    // Jobs per host carried (a scheduled job may carry several hosts).
    const jobs = await query<{ host_id: string; jobs: number; job_id: string }>(
      `SELECT c.host_id, count(*)::int AS jobs, min(j.id::text) AS job_id
         FROM pgboss.job j CROSS JOIN LATERAL (
           SELECT COALESCE(j.data->>'host_id', h->>'host_id') AS host_id FROM jsonb_array_elements(COALESCE(j.data->'hosts', '[{}]'::jsonb)) AS h) c
        WHERE j.name = ANY($1) GROUP BY 1`,
      [CHECK_QUEUES],
    );
    expect(jobs).toHaveLength(20);
    expect(jobs.every((j) => j.jobs === 1)).toBe(true);
    const leases = await query<{ id: string; lease_job_id: string }>('SELECT id, lease_job_id::text FROM hosts');
    const jobOf = new Map(jobs.map((j) => [j.host_id, j.job_id]));
    for (const h of leases) expect(h.lease_job_id).toBe(jobOf.get(h.id));

    const worker = await ctx.start(['worker'], env);
    await waitFor('every host to reach DOWN', async () => {
      const [row] = await query<{ down: number }>(`SELECT count(*)::int AS down FROM hosts WHERE monitoring_state = 'DOWN'`);
      return row!.down === ids.length;
    }, 90_000, 200);
    // Every check that ran was recorded: none was dropped because its lease had moved on.
    const dropped = worker.transport.entries.filter((e) => e.message === 'check result dropped');
    expect(dropped).toEqual([]);
    const [{ checks }] = (await query<{ checks: number }>(`SELECT count(*)::int AS checks FROM host_monitoring_history WHERE checked_by = 'scheduler'`)) as [{ checks: number }];
    expect(checks).toBeGreaterThanOrEqual(3 * ids.length);
  });
});

describe('infrastructure errors', () => {
  const { ctx, query } = useFreshVigil();
  let target: HttpTarget;
  const env = { ...FAST_ENV, VIGIL_JOB_RETRY_LIMIT: '20' };

  beforeAll(async () => {
    target = await startHttpTarget({ '/': (_req, res) => res.end('ok') });
  });
  afterAll(async () => {
    await target?.close();
  });

  it('never count against a host: a credential lookup failing mid-run moves no machine, and the checks are done after it recovers', { timeout: 60_000 }, async () => {
    const vigil = await ctx.start(['api', 'scheduler', 'worker'], env);
    const api = request.agent(vigil.apiUrl!).set(authHeader());
    const cred = await api.post('/api/credentials').send({ name: 'basic', kind: 'http-basic', username: 'u', password: 'pw-123456' });
    expect(cred.status).toBe(201);
    const names = ['infra-1', 'infra-2', 'infra-3'];
    for (const name of names) {
      const res = await api.post('/api/hosts').send({ name, address: '127.0.0.1', probes: [{ type: 'http', url: target.url, credential_id: cred.body.id }] });
      expect(res.status).toBe(201);
    }
    const successes = async () => (await query<{ n: number }>(`SELECT count(*)::int AS n FROM host_monitoring_history WHERE success`))[0]!.n;
    await waitFor('each host to be checked', async () => (await successes()) >= names.length);

    // The credentials table goes away under the workers: every lookup now fails in the database.
    await vigil.pool.query('ALTER TABLE credentials RENAME TO credentials_offline');
    const notRun = () => vigil.transport.entries.filter((e) => e.message === 'check could not be run; pg-boss will retry it').length;
    await waitFor('checks to fail for lack of their credential', async () => notRun() >= 6, 20_000);
    await vigil.pool.query('ALTER TABLE credentials_offline RENAME TO credentials');
    const before = await successes();
    await waitFor('checks to succeed again', async () => (await successes()) >= before + 2 * names.length, 20_000);

    expect(await query(`SELECT error_type FROM host_monitoring_history WHERE NOT success`)).toEqual([]);
    expect(await query(`SELECT DISTINCT monitoring_state FROM hosts`)).toEqual([{ monitoring_state: 'HEALTHY' }]);
    expect(await query(`SELECT type FROM host_events`)).toEqual([]);
    expect(await query(`SELECT id FROM incidents`)).toEqual([]);
    const metrics = await request(vigil.apiUrl!).get('/metrics');
    expect(metrics.text).toMatch(/vigil_checks_not_run_total\{outcome="retried"\} [1-9]/);
  });
});

describe('a worker\'s CPU priority', () => {
  const { ctx } = useFreshVigil();

  it('a process running only the worker role lowers every thread to VIGIL_WORKER_NICE; one that also serves the API keeps its priority', { timeout: 60_000 }, async () => {
    await ctx.start(['scheduler'], FAST_ENV);
    const env = { ...FAST_ENV, VIGIL_SECRET_KEY: SECRET_KEY, VIGIL_WORKER_NICE: '7' };
    const worker = spawnVigil(ctx.db.url, ['worker'], env);
    const both = spawnVigil(ctx.db.url, ['api', 'worker'], { ...env, PORT: '0', HOST: '127.0.0.1' });
    skewed.push(worker, both);
    const started = (p: VigilProcess) => p.logs().some((l) => l.message === 'vigil started');
    await waitFor('both processes started', async () => started(worker) && started(both), 30_000);
    const threadNices = (p: VigilProcess) => readdirSync(`/proc/${p.child.pid}/task`).map((tid) => getPriority(Number(tid)));
    const workerNices = threadNices(worker);
    expect(workerNices.length).toBeGreaterThan(4);
    expect(new Set(workerNices)).toEqual(new Set([7]));
    expect(worker.logs().find((l) => l.message === 'worker lowered its CPU priority')).toMatchObject({ nice: 7 });
    // Vigil's processes cap V8's heap growth (src/lib/heap-growth.ts) at VIGIL_HEAP_GROWTH_PERCENT's default.
    expect(worker.logs().find((l) => l.message === 'V8 heap growth limited')).toMatchObject({ percent: 25 });
    expect(new Set(threadNices(both))).toEqual(new Set([getPriority(process.pid)]));
    // The worker's own database connections are lowered too: its pool's (application 'vigil') and
    // pg-boss's pool's ('vigil-boss': fetches, heartbeats, supervision; its LISTEN connection idles
    // and is left as it is). No other backend is.
    const workerPorts = localPortsOf(worker.child.pid!);
    const backends = await ctx.pool.query<{ pid: number; client_port: number; application_name: string; listening: boolean }>(
      `SELECT pid, client_port, application_name, query ILIKE 'LISTEN%' AS listening
         FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`,
    );
    const niceOf = (pid: number) => getPriority(pid);
    const ofWorker = (app: string) => backends.rows.filter((b) => workerPorts.has(b.client_port) && b.application_name === app && !b.listening);
    expect(ofWorker('vigil').length).toBeGreaterThan(0);
    expect(ofWorker('vigil-boss').length).toBeGreaterThan(0);
    expect(new Set([...ofWorker('vigil'), ...ofWorker('vigil-boss')].map((b) => niceOf(b.pid)))).toEqual(new Set([7]));
    const others = backends.rows.filter((b) => !workerPorts.has(b.client_port));
    expect(others.length).toBeGreaterThan(0);
    expect(others.filter((b) => niceOf(b.pid) !== 0)).toEqual([]);
  });
});

/** The local TCP ports of a process's sockets: its fds' socket inodes, found in /proc/net/tcp{,6}. */
function localPortsOf(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const link = (() => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return ''; } })();
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) inodes.add(m[1]!);
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      if (inodes.has(cols[9]!)) ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

describe('a worker\'s clock', () => {
  const { ctx, query } = useFreshVigil();

  it('schedule and record on the database\'s time even when the worker\'s clock is an hour ahead', { timeout: 60_000 }, async () => {
    const listener = await startHttpTarget({ '/': (_req, res) => res.end('ok') });
    targets.push(listener);
    const env = { ...FAST_ENV, VIGIL_HEALTHY_INTERVAL_SECONDS: '60' };
    const scheduler = await ctx.start(['scheduler', 'api'], env);
    // The worker is a process of its own whose clock runs an hour ahead.
    const worker = spawnVigil(ctx.db.url, ['worker'], { ...env, VIGIL_SECRET_KEY: SECRET_KEY, NODE_OPTIONS: `--import=${CLOCK_AHEAD}` });
    skewed.push(worker);
    // Due in a few seconds, so each collects a value (its response time) with its first check.
    const hostIds = await seedHosts(scheduler.pool, { count: 3, namePrefix: 'clock', probes: [{ type: 'http', url: listener.url }], dueAgoMs: -3000 });
    const api = request.agent(scheduler.apiUrl!).set(authHeader());
    const template = await api.post('/api/value-templates').send({ name: 'clock-rt', items: [{ source: 'http', name: 'rt', unit: 'seconds', measure: 'response_time' }] });
    expect(template.status).toBe(201);
    for (const id of hostIds) expect((await api.post(`/api/hosts/${id}/value-templates`).send({ template_ids: [template.body.id] })).status).toBe(200);
    await waitFor('the checks to be recorded', async () => (await query(`SELECT 1 FROM host_monitoring_history`)).length === 3, 30_000);
    // The skew is real: the worker's own log lines are stamped an hour ahead.
    const stamped = worker.logs().find((l) => l.message === 'vigil started');
    expect(Date.parse(String(stamped?.timestamp)) - Date.now()).toBeGreaterThan(3_500_000);
    const [history] = await query<{ skew_s: number; max_lag_ms: number }>(
      `SELECT max(abs(extract(epoch FROM check_time - now())))::float8 AS skew_s, max(schedule_lag_ms)::float8 AS max_lag_ms FROM host_monitoring_history`,
    );
    expect(history!.skew_s).toBeLessThan(60);
    expect(history!.max_lag_ms).toBeLessThan(60_000);
    const [hosts] = await query<{ max_next_s: number; min_next_s: number }>(
      `SELECT max(extract(epoch FROM next_check_time - now()))::float8 AS max_next_s, min(extract(epoch FROM next_check_time - now()))::float8 AS min_next_s FROM hosts`,
    );
    // The HEALTHY interval (60 s) varies by at most ± 10 %.
    expect(hosts!.max_next_s).toBeLessThanOrEqual(66);
    expect(hosts!.min_next_s).toBeGreaterThan(30);
    // Values are stamped on the database's time too (a counter's rate spans two workers' stamps).
    const [values] = await query<{ n: number; skew_s: number }>(
      `SELECT count(*)::int AS n, max(abs(extract(epoch FROM (latest_values->>'collected_at')::timestamptz - now())))::float8 AS skew_s FROM hosts WHERE latest_values IS NOT NULL`,
    );
    expect(values).toMatchObject({ n: 3 });
    expect(values!.skew_s).toBeLessThan(60);
  });
});

describe('the API\'s clock', () => {
  const { ctx, query } = useFreshVigil();

  it('answer max_age, schedule new hosts, end the default trend range and expire sessions and tokens on the database\'s time even when the API\'s clock is an hour ahead', { timeout: 60_000 }, async () => {
    const listener = await startHttpTarget({ '/': (_req, res) => res.end('ok') });
    targets.push(listener);
    const checking = await ctx.start(['scheduler', 'worker'], FAST_ENV);
    const [hostId] = await seedHosts(checking.pool, { count: 1, namePrefix: 'clock-api', probes: [{ type: 'http', url: listener.url }] });
    await waitFor('the host\'s first check', async () => (await query(`SELECT 1 FROM host_monitoring_history`)).length > 0, 30_000);
    // The API is a process of its own whose clock runs an hour ahead.
    const port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    skewed.push(spawnVigil(ctx.db.url, ['api'], { ...FAST_ENV, PORT: String(port), HOST: '127.0.0.1', VIGIL_ADMIN_TOKEN: TEST_ADMIN_TOKEN, VIGIL_SECRET_KEY: SECRET_KEY, NODE_OPTIONS: `--import=${CLOCK_AHEAD}` }));
    await waitFor('the skewed API to be ready', async () => (await fetch(`${apiUrl}/readyz`).catch(() => undefined))?.status === 200, 30_000, 200);

    // A result seconds old is within max_age=600 on the database's clock (an hour old on the API's).
    const cached = await request(apiUrl).post(`/api/monitoring/hosts/${hostId}/check-connectivity?max_age=600`).set(authHeader());
    expect(cached.status).toBe(200);
    expect(cached.body).toMatchObject({ check_queued: false, task_id: null });
    expect(cached.body.result_age_seconds).toBeLessThan(60);
    // A new host is due at the database's now() (first-check spread 0), not an hour later. Disabled,
    // so no claim moves its due time before it is read.
    const created = await request(apiUrl).post('/api/hosts').set(authHeader())
      .send({ name: 'clock-api-new', address: '127.0.0.1', enabled: false, probes: [{ type: 'http', url: listener.url }] });
    expect(created.status).toBe(201);
    const [due] = await query<{ due_in_s: number }>(`SELECT extract(epoch FROM next_check_time - now())::float8 AS due_in_s FROM hosts WHERE id = $1`, [created.body.id]);
    expect(Math.abs(due!.due_in_s)).toBeLessThan(60);
    // A dashboard session lasts 12 hours on the database's clock (the one its expiry is checked
    // against), not 13 hours because the API's clock is ahead; its cookie says the same.
    const session = await request(apiUrl).post('/api/session').set(authHeader());
    expect(session.status).toBe(201);
    const [left] = await query<{ left_s: number }>(`SELECT extract(epoch FROM $1::timestamptz - now())::float8 AS left_s`, [session.body.expires_at]);
    expect(Math.abs(left!.left_s - 12 * 3600)).toBeLessThan(60);
    const maxAge = Number(/Max-Age=(\d+)/.exec(String(session.headers['set-cookie']))?.[1]);
    expect(Math.abs(maxAge - 12 * 3600)).toBeLessThan(60);
    // The trend's default range (the last 24 hours) ends at the database's now().
    const trend = await request(apiUrl).get(`/api/monitoring/hosts/${hostId}/trend`).set(authHeader());
    expect(trend.status).toBe(200);
    const [end] = await query<{ off_s: number }>(`SELECT extract(epoch FROM $1::timestamptz - now())::float8 AS off_s`, [trend.body.to]);
    expect(Math.abs(end!.off_s)).toBeLessThan(60);
    // A token made to last a day expires a day from the database's now().
    const token = await request(apiUrl).post('/api/tokens').set(authHeader()).send({ name: 'clock-token', scopes: ['read'], expires_in_days: 1 });
    expect(token.status).toBe(201);
    const [expiry] = await query<{ left_s: number }>(`SELECT extract(epoch FROM expires_at - now())::float8 AS left_s FROM api_tokens WHERE name = 'clock-token'`);
    expect(Math.abs(expiry!.left_s - 86_400)).toBeLessThan(60);
  });
});

describe('a check job that fails for good', () => {
  const { ctx, query } = useFreshVigil();
  it('releases the host at once, reschedules it at its state\'s interval and says so with an event and a metric', { timeout: 60_000 }, async () => {
    const refused = await reserveRefusedPort();
    // No retries: the first failure is final. The CRITICAL interval is 45 s, far from the 900 s lease.
    const env = { ...FAST_ENV, VIGIL_JOB_RETRY_LIMIT: '0', VIGIL_CRITICAL_INTERVAL_SECONDS: '45' };
    const vigil = await ctx.start(['api', 'scheduler', 'worker'], env);
    const api = request.agent(vigil.apiUrl!).set(authHeader());
    const cred = await api.post('/api/credentials').send({ name: 'bearer', kind: 'http-bearer', token: 'token-0123456789' });
    expect(cred.status).toBe(201);
    await vigil.pool.query('ALTER TABLE credentials RENAME TO credentials_offline');
    const [hostId] = await seedHosts(vigil.pool, { count: 1, namePrefix: 'gone', state: 'CRITICAL', priority: 9, probes: [{ type: 'http', url: refused.url, credential_id: cred.body.id }] });
    const [event] = await waitFor('the check_not_run event', async () => query<{ type: string; reason: string; from_state: string; to_state: string }>(
      `SELECT type, reason, from_state, to_state FROM host_events WHERE host_id = $1`, [hostId],
    ).then((rows) => (rows.length > 0 ? rows : undefined)), 20_000);
    expect(event).toMatchObject({ type: 'check_not_run', from_state: 'CRITICAL', to_state: 'CRITICAL' });
    expect(event!.reason).toMatch(/gave up after 1 attempt: credential .* could not be looked up/);
    const [host] = await query<{ lease_job_id: string | null; monitoring_state: string; next_s: number }>(
      `SELECT lease_job_id, monitoring_state, extract(epoch FROM next_check_time - now())::float8 AS next_s FROM hosts WHERE id = $1`, [hostId],
    );
    expect(host!.lease_job_id).toBeNull();
    expect(host!.monitoring_state).toBe('CRITICAL');
    expect(host!.next_s).toBeGreaterThan(30);
    expect(host!.next_s).toBeLessThan(50);
    expect(await query(`SELECT 1 FROM host_monitoring_history WHERE host_id = $1`, [hostId])).toEqual([]);
    const metrics = await request(vigil.apiUrl!).get('/metrics');
    expect(metrics.text).toMatch(/vigil_checks_not_run_total\{outcome="abandoned"\} 1/);
    expect(vigil.transport.entries.some((e) => String(e.message).startsWith('check could not be run; pg-boss gave up'))).toBe(true);
    await vigil.pool.query('ALTER TABLE credentials_offline RENAME TO credentials');
  });
});

describe('a group reset', () => {
  const { ctx, query } = useFreshVigil();
  it('is a state change like any other: state_changed events, and open incidents resolved', { timeout: 60_000 }, async () => {
    const refused = await reserveRefusedPort();
    const checking = await ctx.start(['api', 'scheduler', 'worker'], FAST_ENV);
    const api = request.agent(checking.apiUrl!).set(authHeader());
    for (const name of ['reset-1', 'reset-2']) {
      const res = await api.post('/api/hosts').send({ name, address: '127.0.0.1', group: 'olt-7', probes: [{ type: 'tcp', port: refused.port }] });
      expect(res.status).toBe(201);
    }
    await waitFor('both hosts DOWN with an open incident', async () =>
      (await query(`SELECT 1 FROM incidents WHERE status = 'open'`)).length === 2);
    await checking.stop();

    // Only an API now: nothing checks the hosts, so only the reset can change them.
    const apiOnly = await ctx.start(['api'], FAST_ENV);
    const res = await request(apiOnly.apiUrl!).post('/api/groups/olt-7/reset').set(authHeader());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ affected: 2 });
    const events = await query<{ type: string; from_state: string; to_state: string; reason: string }>(
      `SELECT type, from_state, to_state, reason FROM host_events WHERE reason = 'group reset' ORDER BY id`,
    );
    expect(events.filter((e) => e.type === 'state_changed')).toEqual([
      { type: 'state_changed', from_state: 'DOWN', to_state: 'HEALTHY', reason: 'group reset' },
      { type: 'state_changed', from_state: 'DOWN', to_state: 'HEALTHY', reason: 'group reset' },
    ]);
    expect(events.filter((e) => e.type === 'incident_resolved')).toHaveLength(2);
    expect(await query(`SELECT status FROM incidents`)).toEqual([{ status: 'resolved' }, { status: 'resolved' }]);
  });
});
