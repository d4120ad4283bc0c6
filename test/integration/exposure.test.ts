import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReceiverPolicy } from '../../src/webhooks/receiver-address.ts';
import { postWebhook } from '../../src/webhooks/send.ts';
import { expectConforms } from '../helpers/openapi.ts';
import { startHttpTarget, type HttpTarget } from '../helpers/targets.ts';
import { type TestVigil, useTestVigil } from '../helpers/vigil.ts';

let vigil: TestVigil;
let receiver: HttpTarget;

// The default policy: no VIGIL_WEBHOOK_ALLOW_NETWORKS.
const ctx = useTestVigil({ roles: ['api'] });
beforeAll(async () => {
  receiver = await startHttpTarget({ '/hook': (_req, res) => res.writeHead(204).end() });
  vigil = ctx.vigil;
});
afterAll(async () => {
  await receiver?.close();
});

describe('webhook receivers', () => {
  it.each([
    ['cloud metadata (link-local)', 'http://169.254.169.254/latest/meta-data/'],
    ['loopback', 'http://127.0.0.1:9/hook'],
    ['IPv6 loopback', 'http://[::1]:9/hook'],
    ['a private network', 'https://10.1.2.3/hook'],
    ['an IPv4-mapped private address', 'http://[::ffff:192.168.1.1]/hook'],
  ])('refuses %s by default, naming body.url', async (_case, url) => {
    const res = await vigil.http().post('/api/webhooks').send({ url });
    expectConforms(res);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'body.url', message: expect.stringMatching(/VIGIL_WEBHOOK_ALLOW_NETWORKS/) })]);
  });

  it('refuses a PATCH to a private address too', async () => {
    const created = await vigil.http().post('/api/webhooks').send({ url: 'https://receiver.example/hook' });
    expect(created.status).toBe(201);
    const res = await vigil.http().patch(`/api/webhooks/${created.body.id}`).send({ url: 'http://192.168.0.10/hook' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('body.url');
  });

  it('checks the resolved address at delivery: a name resolving to loopback gets nothing unless its network is allowed', async () => {
    const url = `http://localhost:${receiver.port}/hook`;
    const refused = await postWebhook(url, '{}', { 'content-type': 'application/json' }, 2000, createReceiverPolicy([]));
    expect(refused).toMatchObject({ delivered: false, statusCode: null, error: expect.stringMatching(/receiver address (127\.0\.0\.1|::1) is not public/) });
    expect(receiver.requests).toHaveLength(0);
    const allowed = await postWebhook(url, '{}', { 'content-type': 'application/json' }, 2000, createReceiverPolicy(['127.0.0.0/8', '::1/128']));
    expect(allowed).toMatchObject({ delivered: true, statusCode: 204 });
    expect(receiver.requests).toHaveLength(1);
  });
});

describe('/readyz', () => {
  it('says only "unreachable" about a failing database, and logs the detail', async () => {
    await vigil.pool.query('ALTER TABLE vigil_migrations RENAME TO vigil_migrations_hidden');
    try {
      const res = await fetch(`${vigil.apiUrl}/readyz`);
      const text = await res.text();
      expect(res.status).toBe(503);
      expect(JSON.parse(text).checks[0]).toEqual({ name: 'database', ok: false, detail: 'unreachable' });
      expect(text).not.toMatch(/vigil_migrations|relation/);
      expect(vigil.transport.entries).toContainEqual(expect.objectContaining({ message: 'readiness: the database is unreachable', err: expect.stringMatching(/vigil_migrations/) }));
    } finally {
      await vigil.pool.query('ALTER TABLE vigil_migrations_hidden RENAME TO vigil_migrations');
    }
  });
});
