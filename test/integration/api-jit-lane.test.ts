import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import { startHttpTarget, type HttpTarget } from '../helpers/targets.ts';
import { useTestVigil, waitFor } from '../helpers/vigil.ts';

/**
 * The API process runs JIT checks itself (VIGIL_API_JIT_SLOTS), so a caller's answer does not wait
 * for a worker: here no worker runs at all. The scheduler does, and its checks must stay queued
 * for the workers: the API's lane takes only JIT checks, and no more at once than its slots.
 */
let target: HttpTarget;
/** Answers of /held waiting for release, and the most ever waiting at once. */
const held: ServerResponse[] = [];
let mostHeld = 0;

beforeAll(async () => {
  target = await startHttpTarget({
    '/health': (_req, res) => res.end('ok'),
    '/held': (_req, res) => {
      held.push(res);
      mostHeld = Math.max(mostHeld, held.length);
    },
  });
});
afterAll(async () => {
  for (const res of held.splice(0)) res.end('late');
  await target?.close();
});

const ctx = useTestVigil({
  roles: ['api', 'scheduler'],
  env: { VIGIL_API_JIT_SLOTS: '2', VIGIL_FIRST_CHECK_SPREAD_SECONDS: '0', VIGIL_PRODUCER_INTERVAL_MS: '50', VIGIL_WORKER_POLL_SECONDS: '0.5', VIGIL_HEALTHY_INTERVAL_SECONDS: '3600' },
});
const { call } = ctx;

async function addHost(name: string, path: string): Promise<string> {
  const res = await call('post', '/api/hosts', { name, address: '127.0.0.1', probes: [{ type: 'http', url: `${target.url}${path}` }] });
  expect(res.status).toBe(201);
  return res.body.id;
}

const jobsOf = async (hostId: string) =>
  (await ctx.pool.query(
    `SELECT id, state, data->>'checked_by' AS checked_by FROM pgboss.job
      WHERE name = 'vigil-checks' AND (data->>'host_id' = $1 OR data->'hosts' @> jsonb_build_array(jsonb_build_object('host_id', $1::text)))`,
    [hostId],
  )).rows as { id: string; state: string; checked_by: string }[];

describe('JIT checks in the API process', () => {
  it('answers wait=true with a fresh result while no worker runs, and leaves the scheduled check queued', async () => {
    const id = await addHost('jit-only', '/health');
    // The scheduler queues the new host's first check at once; no worker is there to take it.
    await waitFor('the scheduled check queued', async () => (await jobsOf(id)).some((j) => j.checked_by === 'scheduler'));
    const res = await call('post', `/api/monitoring/hosts/${id}/check-connectivity?wait=true&timeout=10`);
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ success: true, checked_by: 'jit', detail: { status_code: 200 } });
    const history = await ctx.pool.query('SELECT job_id, checked_by FROM host_monitoring_history WHERE host_id = $1', [id]);
    expect(history.rows).toEqual([{ job_id: res.body.task_id, checked_by: 'jit' }]);
    const jobs = await jobsOf(id);
    expect(jobs.find((j) => j.checked_by === 'jit')).toMatchObject({ id: res.body.task_id, state: 'completed' });
    // Still queued: the API's lane fetches at the JIT priority only.
    expect(jobs.find((j) => j.checked_by === 'scheduler')?.state).toBe('created');
  });

  it('runs no more JIT checks at once than its slots, and the rest after them', async () => {
    const ids = await Promise.all([1, 2, 3, 4].map((i) => addHost(`held-${i}`, '/held')));
    const queued = await Promise.all(ids.map((id) => call('post', `/api/monitoring/hosts/${id}/check-connectivity`)));
    expect(queued.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    await waitFor('two checks held at the target', async () => held.length === 2);
    // The other two are still queued while both slots are taken.
    const states = await Promise.all(queued.map(async (r, i) => (await jobsOf(ids[i]!)).find((j) => j.id === r.body.task_id)!.state));
    expect(states.filter((s) => s === 'created')).toHaveLength(2);
    // Each release frees a slot for the next one.
    await waitFor('all four checks answered', async () => {
      for (const res of held.splice(0)) res.end('ok');
      const done = await Promise.all(queued.map(async (r, i) => (await jobsOf(ids[i]!)).find((j) => j.id === r.body.task_id)!.state));
      return done.every((s) => s === 'completed');
    });
    expect(mostHeld).toBe(2);
    expect(target.requests.filter((r) => r.url === '/held')).toHaveLength(4);
  });
});
