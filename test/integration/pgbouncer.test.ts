import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startPgBouncer, type PgBouncer } from '../helpers/pgbouncer.ts';
import { startTcpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { FAST_ENV, startTestVigil, waitFor, type TestVigil } from '../helpers/vigil.ts';

// docs/operations.md "Connection poolers": the API and the scheduler (session advisory lock, LISTEN) through
// PgBouncer's session pooling, workers through transaction pooling with polling — Debian's
// pgbouncer in front of the test database, every Vigil connection going through it.
let db: TestDatabase;
let bouncer: PgBouncer;
let target: LoopbackTarget;
const vigils: TestVigil[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  bouncer = await startPgBouncer(db.url);
  target = await startTcpTarget();
});
afterAll(async () => {
  for (const v of vigils.reverse()) await v.stop();
  await target?.close();
  await bouncer?.stop();
  await db?.drop();
});

describe('Vigil through PgBouncer', () => {
  it('checks hosts with api+scheduler on session pooling and a worker on transaction pooling', async () => {
    const front = await startTestVigil(bouncer.url('session'), ['api', 'scheduler'], FAST_ENV);
    vigils.push(front);
    const worker = await startTestVigil(bouncer.url('transaction'), ['worker'], { ...FAST_ENV, VIGIL_LISTEN_NOTIFY: 'false' });
    vigils.push(worker);

    const created = await front.http().post('/api/hosts').send({ name: 'pooled', address: '127.0.0.1', probes: [{ type: 'tcp', port: target.port }] }).expect(201);
    const id = created.body.id as string;
    // Scheduled checks: claimed by the scheduler (its leadership lock held on a session), run and recorded by the worker.
    await waitFor('three scheduled checks through PgBouncer', async () => {
      const page = await front.http().get(`/api/monitoring/hosts/${id}/history`).expect(200);
      return (page.body.checks as { checked_by: string; success: boolean }[]).filter((c) => c.checked_by === 'scheduler' && c.success).length >= 3;
    }, 60_000, 200);
    // A JIT check answered by waiting on LISTEN/NOTIFY through the session pool.
    const jit = await front.http().post(`/api/monitoring/hosts/${id}/check-connectivity?wait=true&timeout=20`).expect(200);
    expect(jit.body.result).toMatchObject({ checked_by: 'jit', success: true, state: 'HEALTHY' });
    expect(worker.transport.entries.some((e) => e.message === 'check recorded')).toBe(true);
    expect(bouncer.output()).not.toMatch(/FATAL|ERROR/);
  }, 120_000);
});
