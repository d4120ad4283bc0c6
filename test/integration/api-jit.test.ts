import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockHostsForRecord } from '../../src/db/queries/checks.ts';
import { startHttpTarget, type HttpTarget } from '../helpers/targets.ts';
import { startTestVigil, useTestVigil, waitFor, type TestVigil } from '../helpers/vigil.ts';

// Long intervals: only JIT checks run here, so every history row is one this file asked for.
const SLOW_SCHEDULE = { VIGIL_HEALTHY_INTERVAL_SECONDS: '3600', VIGIL_FIRST_CHECK_SPREAD_SECONDS: '3600', VIGIL_WORKER_POLL_SECONDS: '0.5' };
// The workers run JIT checks here: the API's own JIT lane is test/integration/api-jit-lane.test.ts.
const API_ALONE = { ...SLOW_SCHEDULE, VIGIL_API_JIT_SLOTS: '0' };

let worker: TestVigil | undefined;
let target: HttpTarget;

beforeAll(async () => {
  target = await startHttpTarget({ '/health': (_req, res) => res.end('ok') });
});
afterAll(async () => {
  await target?.close();
});
// The API alone first: JIT jobs stay queued until a worker is started.
const ctx = useTestVigil({ roles: ['api'], env: API_ALONE });
const { call } = ctx;
afterAll(async () => {
  await worker?.stop();
});

async function addHost(name: string, enabled = true): Promise<string> {
  const res = await ctx.vigil.http()
    .post('/api/hosts')
    .send({ name, address: '127.0.0.1', enabled, probes: [{ type: 'http', url: `${target.url}/health` }] });
  expect(res.status).toBe(201);
  return res.body.id;
}


describe('JIT checks', () => {
  it('queues at priority 9, shares one queued check between callers, and times out waiting with 202', async () => {
    const id = await addHost('shared');
    const [a, b] = await Promise.all([
      call('post', `/api/monitoring/hosts/${id}/check-connectivity`),
      call('post', `/api/monitoring/hosts/${id}/check-connectivity`),
    ]);
    expect([a!.status, b!.status]).toEqual([202, 202]);
    expect(a!.body).toMatchObject({ host_id: id, hostname: 'shared', ip_address: '127.0.0.1', check_queued: true, priority: 9, result: null });
    expect(b!.body.task_id).toBe(a!.body.task_id);
    const waited = await call('post', `/api/monitoring/hosts/${id}/check-connectivity?wait=true&timeout=0.3`);
    expect(waited.status).toBe(202);
    expect(waited.body.task_id).toBe(a!.body.task_id);
    expect(waited.body.message).toMatch(/not finished within 0.3 s/);
    const task = await call('get', `/api/monitoring/checks/${a!.body.task_id}`);
    expect(task.body).toMatchObject({ task_id: a!.body.task_id, host_id: id, checked_by: 'jit', state: 'created', priority: 9, result: null });
  });

  it('queues a check without waiting for a worker that is recording the host', async () => {
    const id = await addHost('being-recorded');
    // A worker's record transaction, open, holding the host's row as the recorder locks it.
    const recorder = await ctx.vigil.pool.connect();
    try {
      await recorder.query('BEGIN');
      expect((await lockHostsForRecord(recorder, [id])).has(id)).toBe(true);
      // Were the request to take the host's row lock, it would wait here until the ROLLBACK below.
      const res = await call('post', `/api/monitoring/hosts/${id}/check-connectivity`);
      expect(res.status).toBe(202);
      expect(res.body.message).toMatch(/^Fresh connectivity check queued/);
      const mark = await ctx.vigil.pool.query(`SELECT job_id FROM host_jit_checks WHERE host_id = $1`, [id]);
      expect(mark.rows).toEqual([{ job_id: res.body.task_id }]);
    } finally {
      await recorder.query('ROLLBACK');
      recorder.release();
    }
  });

  it('runs the shared check once a worker starts, and the task then shows its result', async () => {
    worker = await startTestVigil(ctx.db.url, ['worker'], SLOW_SCHEDULE);
    const { rows } = await ctx.vigil.pool.query(`SELECT h.id, j.job_id AS jit_job_id FROM hosts h LEFT JOIN host_jit_checks j ON j.host_id = h.id WHERE h.name = 'shared'`);
    const taskId = rows[0].jit_job_id;
    const task = await waitFor('the task to complete', async () => {
      const res = await call('get', `/api/monitoring/checks/${taskId}`);
      return res.body.state === 'completed' && res.body.result ? res : undefined;
    });
    expect(task.body.result).toMatchObject({ success: true, checked_by: 'jit', state: 'HEALTHY', previous_state: 'HEALTHY' });
    const history = await ctx.vigil.pool.query('SELECT job_id FROM host_monitoring_history WHERE host_id = $1', [rows[0].id]);
    expect(history.rows).toEqual([{ job_id: taskId }]);
  });

  it('with wait=true answers 200 with a fresh result measured after the request', async () => {
    const id = await addHost('waited');
    const before = Date.now();
    const res = await call('post', `/api/monitoring/hosts/${id}/check-connectivity?wait=true&timeout=10`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ check_queued: true, current_state: 'HEALTHY', current_status: 'online', priority: 9 });
    expect(res.body.result).toMatchObject({ success: true, checked_by: 'jit', error_type: null, detail: { status_code: 200 } });
    expect(Date.parse(res.body.last_check)).toBeGreaterThanOrEqual(before - 5);
    expect(res.body.last_check).toBe(res.body.result.check_time);
    expect(target.requests.length).toBeGreaterThan(0);
  });

  it('with max_age returns a recent enough result without a new check, and checks again when it is too old', async () => {
    const id = await addHost('cached');
    const first = await call('post', `/api/monitoring/hosts/${id}/check-connectivity?wait=true`);
    expect(first.status).toBe(200);
    const cached = await call('post', `/api/monitoring/hosts/${id}/check-connectivity?max_age=600`);
    expect(cached.status).toBe(200);
    expect(cached.body).toMatchObject({ check_queued: false, task_id: null, last_check: first.body.last_check });
    expect(cached.body.result.check_time).toBe(first.body.last_check);
    expect(cached.body.result_age_seconds).toBeGreaterThanOrEqual(0);
    const count = async () => (await ctx.vigil.pool.query('SELECT count(*)::int AS n FROM host_monitoring_history WHERE host_id = $1', [id])).rows[0].n;
    expect(await count()).toBe(1);
    const fresh = await call('post', `/api/monitoring/hosts/${id}/check-connectivity?max_age=0&wait=true`);
    expect(fresh.status).toBe(200);
    expect(fresh.body.task_id).not.toBeNull();
    expect(await count()).toBe(2);
  });

  it('reports a failing target as a completed check with its error, not as a failed job', async () => {
    const res = await ctx.vigil.http()
      .post('/api/hosts')
      .send({ name: 'refused', address: '127.0.0.1', probes: [{ type: 'tcp', port: 1 }] });
    const checked = await call('post', `/api/monitoring/hosts/${res.body.id}/check-connectivity?wait=true`);
    expect(checked.status).toBe(200);
    expect(checked.body.result).toMatchObject({ success: false, error_type: 'connection_refused', state: 'DEGRADED' });
    expect(checked.body.current_state).toBe('DEGRADED');
    const task = await call('get', `/api/monitoring/checks/${checked.body.task_id}`);
    expect(task.body.state).toBe('completed');
  });

  it('answers 409 for a disabled host, 404 for an unknown one, 400 for a bad query', async () => {
    const disabled = await addHost('off', false);
    expect((await call('post', `/api/monitoring/hosts/${disabled}/check-connectivity`)).status).toBe(409);
    expect((await call('post', '/api/monitoring/hosts/00000000-0000-4000-8000-000000000000/check-connectivity')).status).toBe(404);
    const bad = await call('post', `/api/monitoring/hosts/${disabled}/check-connectivity?timeout=500&wait=maybe`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['query.timeout', 'query.wait']);
    expect((await call('get', '/api/monitoring/checks/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await call('get', '/api/monitoring/hosts/nope/state')).status).toBe(400);
  });
});
