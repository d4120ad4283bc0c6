import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { startTcpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { FAST_ENV, startTestVigil, waitFor, type TestVigil } from '../helpers/vigil.ts';

// A throwaway PostgreSQL of this test's own, so it can be stopped and started under a running Vigil.
let dataDir: string;
let server: EmbeddedDatabase | undefined;
let vigil: TestVigil;
let tcp: LoopbackTarget;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-outage-'));
  server = await startEmbeddedPostgres(dataDir);
  tcp = await startTcpTarget();
  vigil = await startTestVigil(server.url, ['api', 'scheduler', 'worker'], { ...FAST_ENV, VIGIL_SCHEDULER_STANDBY_POLL_MS: '200' });
}, 120_000);
afterAll(async () => {
  await vigil?.stop();
  await server?.stop();
  await tcp?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const checks = async () => (await vigil.pool.query('SELECT count(*)::int AS n FROM host_monitoring_history')).rows[0].n as number;

describe('database outage', () => {
  it('keeps every role running while PostgreSQL is down and resumes checking when it returns', async () => {
    const created = await vigil.http().post('/api/hosts').send({ name: 'steady', address: '127.0.0.1', probes: [{ type: 'tcp', port: tcp.port }] });
    expect(created.status).toBe(201);
    await waitFor('checks before the outage', async () => (await checks()) >= 3);

    const port = server!.port;
    await server!.stop();
    server = undefined;
    // While it is down the roles notice and say so, without crashing.
    await waitFor('the scheduler to report the outage', async () => vigil.transport.entries.some((e) => e.message === 'producer pass failed; retrying'), 20_000);
    const readyDuring = await request(vigil.apiUrl!).get('/readyz');
    expect(readyDuring.status).toBe(503);
    expect(readyDuring.body.checks.find((c: { name: string }) => c.name === 'database')).toMatchObject({ ok: false });
    expect((await request(vigil.apiUrl!).get('/healthz')).status).toBe(200);
    const during = await vigil.http().get(`/api/hosts/${created.body.id}`);
    expect(during.status).toBe(503);
    expect(during.headers['retry-after']).toBe('5');

    server = await startEmbeddedPostgres(dataDir, () => {}, port);
    const before = await waitFor('the database back', async () => checks().catch(() => undefined), 30_000, 200);
    await waitFor('checks after the outage', async () => (await checks()) >= before + 3, 60_000, 200);
    const ready = await request(vigil.apiUrl!).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: [{ name: 'database', ok: true }, { name: 'migrations', ok: true }, { name: 'queue', ok: true }] });
    const after = await vigil.http().get(`/api/monitoring/hosts/${created.body.id}/state`);
    expect(after.status).toBe(200);
    // Nothing was half-written: every history row's state matches the host's walk (all successes here).
    const { rows } = await vigil.pool.query('SELECT bool_and(success) AS ok, count(DISTINCT job_id) = count(*) AS unique_jobs FROM host_monitoring_history');
    expect(rows[0]).toEqual({ ok: true, unique_jobs: true });
  }, 120_000);
});
