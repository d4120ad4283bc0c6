import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';

import { reserveRefusedPort, startTcpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { FAST_ENV, useTestVigil, waitFor } from '../helpers/vigil.ts';

const METRICS_TOKEN = 'metrics-token-0123456789';
let tcp: LoopbackTarget;

/** One sample's value from Prometheus text, by metric name and exact label set. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
  for (const line of text.split('\n')) {
    const m = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = (m[2] ?? '').split(',').filter(Boolean).sort().join(',');
    if (got === want) return Number(m[3]);
  }
  return undefined;
}

const PROMTOOL = '/usr/bin/promtool';

/** `promtool check metrics` on Prometheus text: its exit code and what it said (one line per problem). */
function promtoolCheckMetrics(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(PROMTOOL, ['check', 'metrics'], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, output: `${stdout}${stderr}`.trim() });
    });
    child.stdin!.end(text);
  });
}

beforeAll(async () => {
  tcp = await startTcpTarget();
});
afterAll(async () => {
  await tcp?.close();
});
const ctx = useTestVigil({ roles: ['api', 'scheduler', 'worker'], env: { ...FAST_ENV, VIGIL_METRICS_TOKEN: METRICS_TOKEN } });

describe('/metrics', () => {
  it('counts checks by probe, result and error type, and reports hosts by state, queue depth and process metrics', async () => {
    const refused = await reserveRefusedPort();
    await ctx.vigil.http().post('/api/hosts').send({ name: 'up', address: '127.0.0.1', probes: [{ type: 'tcp', port: tcp.port }] });
    await ctx.vigil.http().post('/api/hosts').send({ name: 'down', address: '127.0.0.1', probes: [{ type: 'tcp', port: refused.port }] });
    const scrape = async () => (await request(ctx.vigil.apiUrl!).get('/metrics').set('authorization', `Bearer ${METRICS_TOKEN}`)).text;
    const text = await waitFor('checks of both hosts', async () => {
      const t = await scrape();
      return (sample(t, 'vigil_checks_total', { probe: 'tcp', result: 'success', error_type: 'none' }) ?? 0) >= 2 &&
        (sample(t, 'vigil_checks_total', { probe: 'tcp', result: 'failure', error_type: 'connection_refused' }) ?? 0) >= 3
        ? t
        : undefined;
    });
    expect(sample(text, 'vigil_check_duration_seconds_count', { probe: 'tcp' })).toBeGreaterThanOrEqual(5);
    expect(sample(text, 'vigil_schedule_lag_seconds_count')).toBeGreaterThanOrEqual(5);
    expect(sample(text, 'vigil_hosts', { state: 'HEALTHY' })).toBe(1);
    // Every state is a series (0 when empty), so an alert on one never meets a missing series.
    expect(['DEGRADED', 'CRITICAL', 'DOWN'].map((state) => sample(text, 'vigil_hosts', { state })).reduce((a, b) => a! + b!, 0)).toBe(1);
    expect(text).toMatch(/^# TYPE vigil_queue_depth gauge$/m);
    expect(text).toMatch(/^# TYPE vigil_active_checks gauge$/m);
    expect(sample(text, 'vigil_process_resident_memory_bytes')).toBeGreaterThan(0);
    // A Prometheus scraper needs no more than this content type.
    const res = await request(ctx.vigil.apiUrl!).get('/metrics').set('authorization', `Bearer ${METRICS_TOKEN}`);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it("passes Prometheus's own linter (promtool check metrics)", async () => {
    // Debian's prometheus package; .ci/run installs it. Missing, the test fails rather than skips.
    expect(existsSync(PROMTOOL), `${PROMTOOL} is missing: apt-get install --no-install-recommends prometheus`).toBe(true);
    const text = (await request(ctx.vigil.apiUrl!).get('/metrics').set('authorization', `Bearer ${METRICS_TOKEN}`)).text;
    // promtool accepts empty input, so first make sure there is something to lint.
    expect(text).toMatch(/^# TYPE vigil_checks_total counter$/m);
    expect(text).toMatch(/^# TYPE vigil_nodejs_active_handles gauge$/m);
    expect(await promtoolCheckMetrics(text)).toEqual({ code: 0, output: '' });
  });

  it('needs the metrics token when one is configured', async () => {
    expect((await request(ctx.vigil.apiUrl!).get('/metrics')).status).toBe(401);
    expect((await request(ctx.vigil.apiUrl!).get('/metrics').set('authorization', 'Bearer wrong-token-wrong-token')).status).toBe(401);
  });

  it('is served on VIGIL_METRICS_PORT by processes without the API', async () => {
    const port = await freePort();
    await ctx.start(['worker'], { VIGIL_METRICS_PORT: String(port) });
    const res = await request(`http://127.0.0.1:${port}`).get('/metrics').set('authorization', `Bearer ${METRICS_TOKEN}`);

    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^# TYPE vigil_checks_total counter$/m);

  });
});

describe('start-up checks of the database', () => {
  it('warns exactly when the server runs without autovacuum', async () => {
    const { rows } = await ctx.vigil.pool.query(`SELECT current_setting('autovacuum') AS autovacuum`);
    const warned = ctx.vigil.transport.entries.some((e) => e.level === 'warn' && String(e.message).startsWith('autovacuum is off'));
    // The embedded server has it on; some shared servers (this workplace's, for one) turn it off.
    expect(warned).toBe(rows[0].autovacuum !== 'on');
  });
});

describe('request ids', () => {
  it('echoes a caller X-Request-Id, makes one otherwise, and puts it on the log line', async () => {
    const given = await ctx.vigil.http().get('/api/hosts').set('x-request-id', 'trace-abc.123');
    expect(given.headers['x-request-id']).toBe('trace-abc.123');
    const made = await ctx.vigil.http().get('/api/hosts');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await ctx.vigil.http().get('/api/hosts').set('x-request-id', 'bad id <script> " forged');
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor('the log lines', async () => ctx.vigil.transport.entries.some((e) => e.request_id === made.headers['x-request-id']));
    const line = ctx.vigil.transport.entries.find((e) => e.request_id === 'trace-abc.123' && e.message === 'request')!;
    expect(line).toMatchObject({ method: 'GET', path: '/api/hosts', status: 200 });
  });
});
