import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { seedHosts } from '../helpers/hosts.ts';
import { startHttpTarget, type HttpTarget } from '../helpers/targets.ts';
import { authHeader, FAST_ENV, useTestVigil, waitFor } from '../helpers/vigil.ts';

/**
 * Scheduled jobs that carry several hosts (VIGIL_CHECKS_PER_JOB): each host is still checked and
 * recorded on its own — a fast host does not wait for a slow one in its job — and a retried job
 * checks only the hosts its earlier attempt did not record.
 */

const SECRET_KEY = randomBytes(32).toString('base64');
// Each host is due once in a test: a second check of it would be a duplicate.
const ENV = { ...FAST_ENV, VIGIL_SECRET_KEY: SECRET_KEY, VIGIL_HEALTHY_INTERVAL_SECONDS: '3600', VIGIL_JOB_RETRY_LIMIT: '20', VIGIL_CHECK_TIMEOUT_MS: '10000' };

const targets: HttpTarget[] = [];
afterEach(async () => {
  for (const t of targets.splice(0)) await t.close();
});

interface Row {
  host_id: string;
  job_id: string;
  success: boolean;
  created_at: Date;
}

describe('hosts sharing a job', () => {
  const ctx = useTestVigil({ env: ENV });

  it('are recorded as each finishes: a fast host is recorded at once while another host of its job is still being checked', { timeout: 60_000 }, async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const target = await startHttpTarget({
      '/fast': (_req, res) => res.end('ok'),
      '/slow': (_req, res) => void held.then(() => res.end('ok')),
    });
    targets.push(target);
    const [slow] = await seedHosts(ctx.pool, { count: 1, namePrefix: 'slow', probes: [{ type: 'http', url: `${target.url}/slow` }] });
    const fast = await seedHosts(ctx.pool, { count: 3, namePrefix: 'fast', probes: [{ type: 'http', url: `${target.url}/fast` }] });
    await ctx.start(['scheduler', 'worker'], ENV);
    const rows = async () => (await ctx.pool.query<Row>(`SELECT host_id, job_id, success, created_at FROM host_monitoring_history`)).rows;
    // The fast hosts are recorded while the slow one's request is still held.
    const early = await waitFor('the fast hosts to be recorded', async () => ((await rows()).length === 3 ? rows() : undefined), 20_000);
    expect(new Set(early.map((r) => r.host_id))).toEqual(new Set(fast));
    const { rows: [job] } = await ctx.pool.query<{ id: string; state: string; hosts: number }>(
      `SELECT id, state::text, jsonb_array_length(data -> 'hosts') AS hosts FROM pgboss.job WHERE id = $1`, [early[0]!.job_id]);
    // One job carries all four, and it stays active until its last host is recorded.
    expect(job).toMatchObject({ state: 'active', hosts: 4 });
    expect(new Set(early.map((r) => r.job_id))).toEqual(new Set([job!.id]));
    release();
    const all = await waitFor('the slow host to be recorded', async () => ((await rows()).length === 4 ? rows() : undefined), 20_000);
    expect(all.find((r) => r.host_id === slow)).toMatchObject({ job_id: job!.id, success: true });
    await waitFor('the job to complete', async () =>
      (await ctx.pool.query(`SELECT 1 FROM pgboss.job WHERE id = $1 AND state = 'completed'`, [job!.id])).rowCount === 1);
    const leases = await ctx.pool.query(`SELECT id FROM hosts WHERE lease_job_id IS NOT NULL`);
    expect(leases.rows).toEqual([]);
  });
});

describe('a retried job', () => {
  const ctx = useTestVigil({ env: ENV });

  it('checks only the hosts its earlier attempts did not record', { timeout: 60_000 }, async () => {
    const target = await startHttpTarget({ '/plain': (_req, res) => res.end('ok'), '/guarded': (_req, res) => res.end('ok') });
    targets.push(target);
    const api = await ctx.start(['api'], ENV);
    const cred = await request(api.apiUrl!).post('/api/credentials').set(authHeader())
      .send({ name: 'basic', kind: 'http-basic', username: 'u', password: 'pw-123456' });
    expect(cred.status).toBe(201);
    const plain = await seedHosts(ctx.pool, { count: 3, namePrefix: 'plain', probes: [{ type: 'http', url: `${target.url}/plain` }] });
    const [guarded] = await seedHosts(ctx.pool, { count: 1, namePrefix: 'guarded', probes: [{ type: 'http', url: `${target.url}/guarded`, credential_id: cred.body.id }] });
    // The guarded host's credential cannot be read: Vigil's own failure, so its job fails and is retried.
    await ctx.pool.query('ALTER TABLE credentials RENAME TO credentials_offline');
    const vigil = await ctx.start(['scheduler', 'worker'], ENV);
    const notRun = () => vigil.transport.entries.filter((e) => e.message === 'check could not be run; pg-boss will retry it').length;
    await waitFor('the job to be retried twice', async () => notRun() >= 2, 20_000);
    await ctx.pool.query('ALTER TABLE credentials_offline RENAME TO credentials');
    const rows = async () => (await ctx.pool.query<Row>(`SELECT host_id, job_id, success, created_at FROM host_monitoring_history`)).rows;
    const all = await waitFor('every host to be recorded', async () => ((await rows()).length === 4 ? rows() : undefined), 30_000);

    // One job carried the four; each host has one row from it, the guarded one's from a later attempt.
    expect(new Set(all.map((r) => r.job_id)).size).toBe(1);
    expect(new Set(all.map((r) => r.host_id))).toEqual(new Set([...plain, guarded]));
    expect(all.every((r) => r.success)).toBe(true);
    const { rows: [job] } = await ctx.pool.query<{ state: string; retry_count: number }>(`SELECT state::text, retry_count FROM pgboss.job WHERE id = $1`, [all[0]!.job_id]);
    expect(job!.retry_count).toBeGreaterThanOrEqual(2);
    await waitFor('the job to complete', async () =>
      (await ctx.pool.query(`SELECT 1 FROM pgboss.job WHERE id = $1 AND state = 'completed'`, [all[0]!.job_id])).rowCount === 1);
    // The retries did not check the recorded hosts again: one request each.
    expect(target.requests.filter((r) => r.url === '/plain')).toHaveLength(3);
    expect(target.requests.filter((r) => r.url === '/guarded')).toHaveLength(1);
    expect((await ctx.pool.query(`SELECT id FROM hosts WHERE lease_job_id IS NOT NULL`)).rows).toEqual([]);
  });
});
