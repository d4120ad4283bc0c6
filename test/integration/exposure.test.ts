import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReceiverPolicy } from '../../src/webhooks/receiver-address.ts';
import { postWebhook } from '../../src/webhooks/send.ts';
import { expectConforms } from '../helpers/openapi.ts';
import { startHttpTarget, type HttpTarget } from '../helpers/targets.ts';
import { type TestVigil, useTestVigil } from '../helpers/vigil.ts';

let vigil: TestVigil;
let receiver: HttpTarget;

// The default policy: no VIGIL_WEBHOOK_ALLOW_NETWORKS (a key, so notification channels can be made).
const ctx = useTestVigil({ roles: ['api'], env: { VIGIL_SECRET_KEY: randomBytes(32).toString('base64') } });
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

describe('notification channel receivers', () => {
  it.each([
    ['a Slack URL at the cloud metadata address', { type: 'slack', config: { url: 'http://169.254.169.254/services/T0/B0/x' } }, 'body.config.url'],
    ['a Teams URL on loopback', { type: 'teams', config: { url: 'http://127.0.0.1:9/workflow' } }, 'body.config.url'],
    ['a webhook channel in a private network', { type: 'webhook', config: { url: 'http://10.0.0.7/hook' } }, 'body.config.url'],
    ['PagerDuty events_url on IPv6 loopback', { type: 'pagerduty', config: { routing_key: 'R'.repeat(32), events_url: 'http://[::1]/v2/enqueue' } }, 'body.config.events_url'],
    ['an SMTP server on a private address', { type: 'email', config: { smtp_host: '192.168.1.25', from: 'vigil@example.com', to: ['ops@example.com'] } }, 'body.config.smtp_host'],
  ])('refuses %s by default, naming the field', async (_case, channel, field) => {
    const res = await vigil.call('post', '/api/notification-channels', { name: `refused ${field} ${Math.random()}`, ...channel });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field, message: expect.stringMatching(/is not public.*VIGIL_WEBHOOK_ALLOW_NETWORKS/) })]);
  });

  it('refuses a PATCH to a private address too', async () => {
    const created = await vigil.call('post', '/api/notification-channels', { name: 'public chat', type: 'slack', config: { url: 'https://hooks.example/services/x' } });
    expect(created.status).toBe(201);
    const res = await vigil.call('patch', `/api/notification-channels/${created.body.id}`, { config: { url: 'http://172.16.0.1/services/x' } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('body.config.url');
  });

  it.each([
    ['a chat URL', (port: number) => ({ type: 'slack', config: { url: `http://localhost:${port}/hook` } })],
    ['an SMTP server', (port: number) => ({ type: 'email', config: { smtp_host: 'localhost', smtp_port: port, security: 'none', from: 'vigil@example.com', to: ['ops@example.com'] } })],
  ])('checks the resolved address when sending: %s named localhost is not contacted', async (name, channel) => {
    let connections = 0;
    const listener = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, 'localhost', resolve));
    try {
      const created = await vigil.call('post', '/api/notification-channels', { name: `by name: ${name}`, ...channel((listener.address() as net.AddressInfo).port) });
      expect(created.status).toBe(201);
      const sent = await vigil.call('post', `/api/notification-channels/${created.body.id}/test`);
      expect(sent.status).toBe(200);
      expect(sent.body).toMatchObject({ delivered: false, error: expect.stringMatching(/receiver address (127\.0\.0\.1|::1) is not public/) });
      expect(connections).toBe(0);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
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
