/**
 * Issue 13's "done when": with a read token, 20 slow history exports and 50 slow event streams
 * replaying from the start (real sockets whose responses are never read) against one Vigil
 * running every role, scheduled checks keep their lag under the delay threshold, a JIT check
 * still answers within 2 s and the process's memory stays bounded. The figures are printed.
 */
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTcpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { authHeader, useTestVigil, waitFor, type TestVigil } from '../helpers/vigil.ts';

const HOSTS = 20;
let vigil: TestVigil;
let tcp: LoopbackTarget;
const hostIds: string[] = [];
const slow: http.ClientRequest[] = [];

function pausedGet(url: string, token: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers: authHeader(token) }, (res) => {
      res.pause();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    slow.push(req);
  });
}

const ctx = useTestVigil({
  roles: ['api', 'scheduler', 'worker'],
  env: {
    VIGIL_HEALTHY_INTERVAL_SECONDS: '2', VIGIL_PRODUCER_INTERVAL_MS: '200', VIGIL_FIRST_CHECK_SPREAD_SECONDS: '0',
    VIGIL_CHECK_TIMEOUT_MS: '2000', VIGIL_DELAY_THRESHOLD_SECONDS: '10', VIGIL_SSE_STREAMS_PER_TOKEN: '50', VIGIL_SHUTDOWN_GRACE_MS: '5000',
  },
});
beforeAll(async () => {
  vigil = ctx.vigil;
  tcp = await startTcpTarget();
  for (let i = 0; i < HOSTS; i++) {
    const res = await vigil.http().post('/api/hosts').send({ name: `slow-${i}`, address: '127.0.0.1', probes: [{ type: 'tcp', port: tcp.port }] });
    hostIds.push(res.body.id);
  }
  await vigil.pool.query(
    `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, response_time_ms, success, checked_by, job_id, detail)
     SELECT $1, now() - interval '1 day' + i * interval '100 ms', 'HEALTHY', 'HEALTHY', 5, true, 'scheduler', gen_random_uuid(), jsonb_build_object('pad', repeat('x', 300))
       FROM generate_series(1, 120000) AS i`,
    [hostIds[0]],
  );
  await vigil.pool.query(`INSERT INTO host_events (type, host_id, host_name, to_state) SELECT 'state_changed', $1, 'slow-0', 'HEALTHY' FROM generate_series(1, 150000)`, [hostIds[0]]);
}, 120_000);
afterAll(async () => {
  for (const req of slow) req.destroy();
  await tcp?.close();
});

it('keeps checks on schedule and JIT under 2 s while slow exports and streams hold on', async () => {
  const token = (await vigil.http().post('/api/tokens').send({ name: 'slow-reader', scopes: ['read'] })).body.token as string;
  const rssBefore = process.memoryUsage().rss;
  const started = new Date();
  const exports = await Promise.all(Array.from({ length: 20 }, () => pausedGet(`${vigil.apiUrl}/api/monitoring/history/export?format=ndjson`, token)));
  const streams = await Promise.all(Array.from({ length: 50 }, () => pausedGet(`${vigil.apiUrl}/api/events?last_event_id=0`, token)));
  let rssMax = process.memoryUsage().rss;
  const jitMs: number[] = [];
  for (let round = 0; round < 5; round++) {
    await new Promise((r) => setTimeout(r, 2000));
    const t0 = Date.now();
    const jit = await vigil.http().post(`/api/monitoring/hosts/${hostIds[round % HOSTS]}/check-connectivity?wait=true&timeout=5`);
    jitMs.push(Date.now() - t0);
    expect(jit.status).toBe(200);
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
  }
  const { rows } = await vigil.pool.query<{ checks: number; max_lag: number; delayed: number }>(
    `SELECT count(*)::int AS checks, coalesce(max(schedule_lag_ms), 0)::int AS max_lag, count(*) FILTER (WHERE (detail->>'delayed')::boolean)::int AS delayed
       FROM host_monitoring_history WHERE checked_by = 'scheduler' AND check_time >= $1`,
    [started],
  );
  const figures = { exports_200: exports.filter((s) => s === 200).length, exports_429: exports.filter((s) => s === 429).length,
    streams_200: streams.filter((s) => s === 200).length, jit_ms: jitMs, ...rows[0], rss_before_mb: Math.round(rssBefore / 1e6), rss_max_mb: Math.round(rssMax / 1e6) };
  console.log('slow clients:', JSON.stringify(figures));
  expect(figures.exports_200 + figures.exports_429).toBe(20);
  expect(figures.streams_200).toBe(50);
  expect(Math.max(...jitMs)).toBeLessThan(2000);
  expect(rows[0]!.checks).toBeGreaterThan(HOSTS * 3);
  expect(rows[0]!.delayed).toBe(0);
  expect(rssMax - rssBefore).toBeLessThan(150e6);
  await waitFor('the API to answer', async () => (await vigil.http(token).get('/api/hosts')).status === 200);
});
