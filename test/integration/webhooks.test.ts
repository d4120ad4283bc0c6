import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { appendEvents, type NewEvent } from '../../src/db/queries/events.ts';
import { withTransaction } from '../../src/db/transaction.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { expectMatchesComponent } from '../helpers/openapi.ts';
import { openSse } from '../helpers/sse.ts';
import { reserveRefusedPort, startHttpTarget, startSilentTarget, type HttpTarget, type LoopbackTarget, type ReceivedRequest } from '../helpers/targets.ts';
import { authHeader, FAST_ENV, startTestVigil, useTestVigil, waitFor } from '../helpers/vigil.ts';

const SECRET = 'whsec_test_9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const ENV = {
  ...FAST_ENV,
  VIGIL_SECRET_KEY: randomBytes(32).toString('base64'),
  VIGIL_WORKER_CONCURRENCY: '2',
  VIGIL_WEBHOOK_CONCURRENCY: '4',
  VIGIL_WEBHOOK_TIMEOUT_MS: '500',
  VIGIL_WEBHOOK_RETRY_LIMIT: '2',
  VIGIL_WEBHOOK_RETRY_DELAY_SECONDS: '1',
  VIGIL_WEBHOOK_RETRY_DELAY_MAX_SECONDS: '1',
  // The receivers here are on loopback, which webhooks may not reach unless named.
  VIGIL_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8',
};

let receiver: HttpTarget;
let dead: LoopbackTarget;
let silent: LoopbackTarget;
const flakyAnswers: number[] = [];

beforeAll(async () => {
  receiver = await startHttpTarget({
    '/ok': (_req, res) => void res.writeHead(200).end('thanks'),
    '/all': (_req, res) => void res.writeHead(204).end(),
    '/same': (_req, res) => void res.writeHead(204).end(),
    '/flaky': (_req, res) => void res.writeHead(flakyAnswers.shift() ?? 200).end(),
    '/redirect': (_req, res) => void res.writeHead(302, { location: '/landing' }).end(),
    '/landing': (_req, res) => void res.writeHead(200).end(),
  });
  dead = await reserveRefusedPort();
  silent = await startSilentTarget();
});
afterAll(async () => {
  await receiver?.close();
  await silent?.close();
});
const ctx = useTestVigil({ roles: ['api', 'scheduler', 'worker'], env: ENV, resetSql: `DELETE FROM webhooks; DELETE FROM hosts` });
const { call } = ctx;

async function subscribe(body: Record<string, unknown>): Promise<string> {
  const res = await call('post', '/api/webhooks', body);
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const requestsTo = (path: string) => receiver.requests.filter((r) => r.url === path);

type Delivery = { id: string; event_id: string; status: string; attempts: number; last_status_code: number | null; last_error: string | null; latency_ms: number | null; next_attempt_at: string | null };
async function deliveries(webhookId: string, query = ''): Promise<Delivery[]> {
  const res = await call('get', `/api/webhooks/${webhookId}/deliveries${query}`);
  expect(res.status).toBe(200);
  return res.body.deliveries;
}

/** Appends events the way workers do (in a transaction, announced on commit); returns their ids. */
async function emit(events: Partial<NewEvent>[]): Promise<string[]> {
  const before = (await ctx.pool.query<{ id: string }>(`SELECT COALESCE(max(id), 0)::text AS id FROM host_events`)).rows[0]!.id;
  await withTransaction(ctx.pool, (tx) =>
    appendEvents(tx, events.map((e) => ({ type: 'state_changed', hostId: crypto.randomUUID(), hostName: 'h', hostGroup: null, ...e }))),
  );
  const { rows } = await ctx.pool.query<{ id: string }>(`SELECT id::text FROM host_events WHERE id > $1 ORDER BY id`, [before]);
  return rows.map((r) => r.id);
}

/** Verifies Vigil-Signature the way a receiver would, independently of Vigil's code. */
function signatureVerifies(req: ReceivedRequest, secret: string): boolean {
  const header = String(req.headers['vigil-signature'] ?? '');
  const parts = Object.fromEntries(header.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  if (!/^\d+$/.test(parts.t ?? '') || !/^[0-9a-f]{64}$/.test(parts.v1 ?? '')) return false;
  if (Math.abs(Date.now() / 1000 - Number(parts.t)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${req.body}`).digest();
  return timingSafeEqual(expected, Buffer.from(parts.v1!, 'hex'));
}

describe('webhook delivery of real checks', () => {
  it("POSTs a host's state changes, signed, with the documented headers, payload and delivery log", async () => {
    const webhookId = await subscribe({ url: `${receiver.url}/ok`, secret: SECRET, event_types: ['state_changed'] });
    const host = await call('post', '/api/hosts', { name: 'falling', address: '127.0.0.1', group: 'e2e', probes: [{ type: 'tcp', port: dead.port }] });
    // A receiver has the request a moment before the worker records its answer: wait for the log.
    const log = await waitFor('three state changes delivered', async () => {
      const list = await deliveries(webhookId);
      return list.length === 3 && list.every((d) => d.status === 'delivered') && list;
    });

    const received = requestsTo('/ok');
    expect(received.map((r) => JSON.parse(r.body)).map((p) => `${p.from_state}->${p.to_state}`)).toEqual(['HEALTHY->DEGRADED', 'DEGRADED->CRITICAL', 'CRITICAL->DOWN']);
    for (const req of received) {
      const payload = JSON.parse(req.body);
      expect(req.method).toBe('POST');
      expect(req.headers).toMatchObject({ 'content-type': 'application/json', 'user-agent': 'Vigil-Webhooks', 'vigil-event-id': payload.id });
      expect(req.headers['vigil-delivery-id']).toMatch(/^\d+$/);
      expect(signatureVerifies(req, SECRET)).toBe(true);
      expect(signatureVerifies(req, 'whsec_some_other_secret_000000')).toBe(false);
      expect(Object.keys(payload).sort()).toEqual(['check_id', 'from_state', 'host', 'id', 'incident_id', 'job_id', 'occurred_at', 'reason', 'to_state', 'type']);
      expect(payload).toMatchObject({ type: 'state_changed', host: { id: host.body.id, name: 'falling', group: 'e2e' }, incident_id: null });
      // check_id is the history row of the check that caused it.
      const check = await ctx.pool.query(`SELECT monitoring_state FROM host_monitoring_history WHERE id = $1 AND host_id = $2`, [payload.check_id, host.body.id]);
      expect(check.rows[0]?.monitoring_state).toBe(payload.to_state);
    }

    expect(log.map((d) => d.event_id)).toEqual(received.map((r) => JSON.parse(r.body).id).reverse());
    expect(log.map((d) => d.id)).toEqual(received.map((r) => r.headers['vigil-delivery-id']).reverse());
    for (const d of log) {
      expect(d).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200, last_error: null, next_attempt_at: null });
      expect(d.latency_ms).toBeGreaterThan(0);
    }
    const first = await call('get', `/api/webhooks/${webhookId}/deliveries?limit=2`);
    expect(first.body.deliveries).toHaveLength(2);
    const second = await call('get', `/api/webhooks/${webhookId}/deliveries?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body).toMatchObject({ next_cursor: null, deliveries: [{ id: log[2]!.id }] });
    expect((await deliveries(webhookId, '?status=failed'))).toEqual([]);

    const logs = JSON.stringify(ctx.vigil.transport.entries);
    expect(logs).toContain('webhook delivered');
    expect(logs).not.toContain(SECRET);
    for (const req of received) expect(logs).not.toContain(String(req.headers['vigil-signature']).split('v1=')[1]);
  });

  it('POSTs the very JSON the event stream (/api/events) sends for the same event', async () => {
    const stream = openSse(`${ctx.vigil.apiUrl}/api/events?group=same-json`, authHeader());
    try {
      await waitFor('the stream to open', async () => stream.comments.includes('connected'));
      await subscribe({ url: `${receiver.url}/same`, groups: ['same-json'] });
      const host = await call('post', '/api/hosts', { name: 'same-json', address: '127.0.0.1', group: 'same-json', probes: [{ type: 'tcp', port: dead.port }] });
      const [delivered] = await waitFor('a delivery', async () => requestsTo('/same').length > 0 && requestsTo('/same'));
      const body = JSON.parse(delivered!.body);
      const streamed = await waitFor('the event on the stream', async () => stream.events.find((e) => e.id === body.id));
      expect(JSON.stringify(streamed.data)).toBe(delivered!.body);
      expect(body).toMatchObject({ type: 'state_changed', host: { id: host.body.id }, job_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      expectMatchesComponent('Event', body);
    } finally {
      stream.close();
    }
  });

  it('keeps checking on schedule while a dead and a silent receiver fail, and marks their deliveries failed after the retries', async () => {
    const deadHook = await subscribe({ url: dead.url, secret: SECRET, groups: ['doomed'] });
    const silentHook = await subscribe({ url: silent.url, secret: SECRET, groups: ['doomed'] });
    const subscribedAt = new Date();
    const host = await call('post', '/api/hosts', { name: 'doomed-1', address: '127.0.0.1', group: 'doomed', probes: [{ type: 'tcp', port: dead.port }] });
    const failed = async (hook: string) => (await deliveries(hook, '?status=failed'))[0];
    const [deadFailure, silentFailure] = await waitFor('a failed delivery to each receiver', async () => {
      const both = [await failed(deadHook), await failed(silentHook)];
      return both.every(Boolean) && both;
    });

    expect(deadFailure).toMatchObject({ attempts: 3, last_status_code: null, last_error: expect.stringMatching(/ECONNREFUSED/) });
    expect(silentFailure).toMatchObject({ attempts: 3, last_status_code: null, last_error: 'no answer within 500 ms' });
    expect(silentFailure!.latency_ms).toBeGreaterThanOrEqual(490);
    // Meanwhile the host was checked every interval (0.3 s), never held up by the deliveries.
    const { rows } = await ctx.pool.query<{ lag: number | null }>(
      `SELECT schedule_lag_ms AS lag FROM host_monitoring_history WHERE host_id = $1 AND check_time > $2 AND checked_by = 'scheduler' ORDER BY id`,
      [host.body.id, subscribedAt],
    );
    const elapsedSeconds = (Date.now() - subscribedAt.getTime()) / 1000;
    expect(rows.length).toBeGreaterThanOrEqual(Math.floor(elapsedSeconds / 1.2));
    expect(rows.every((r) => r.lag !== null && r.lag < 1000)).toBe(true);
    expect(ctx.vigil.transport.entries.some((e) => e.message === 'webhook delivery failed; giving up')).toBe(true);
  });
});

describe('webhook dispatch', () => {
  it('sends each event only to the subscriptions whose filters match it, and none from before they existed', async () => {
    const [old] = await emit([{ type: 'state_changed', hostGroup: 'g1', fromState: 'HEALTHY', toState: 'DEGRADED' }]);
    const hooks = {
      all: await subscribe({ url: `${receiver.url}/all` }),
      types: await subscribe({ url: `${receiver.url}/all`, event_types: ['incident_opened'] }),
      states: await subscribe({ url: `${receiver.url}/all`, states: ['DOWN'] }),
      groups: await subscribe({ url: `${receiver.url}/all`, groups: ['g1'] }),
      combined: await subscribe({ url: `${receiver.url}/all`, event_types: ['state_changed'], states: ['CRITICAL'], groups: ['g2'] }),
      disabled: await subscribe({ url: `${receiver.url}/all`, enabled: false }),
    };
    const [e1, e2, e3, e4] = await emit([
      { type: 'state_changed', hostGroup: 'g1', fromState: 'HEALTHY', toState: 'DEGRADED' },
      { type: 'state_changed', hostGroup: 'g2', fromState: 'DEGRADED', toState: 'CRITICAL' },
      { type: 'incident_opened', hostGroup: 'g2', fromState: 'CRITICAL', toState: 'DOWN', incidentId: crypto.randomUUID() },
      { type: 'state_changed', hostGroup: null, fromState: 'CRITICAL', toState: 'DOWN' },
    ]);
    const expected = { all: [e1, e2, e3, e4], types: [e3], states: [e3, e4], groups: [e1], combined: [e2], disabled: [] };
    const total = Object.values(expected).flat().length;
    const logs = async () => Object.fromEntries(await Promise.all(Object.entries(hooks).map(async ([name, id]) => [name, await deliveries(id)] as const)));
    const final = await waitFor('every matching event delivered', async () => {
      const all = await logs();
      return Object.values(all).flat().filter((d) => d.status === 'delivered').length >= total && all;
    });
    // All of one commit's events are dispatched in one transaction: nothing else is coming.
    for (const [name, log] of Object.entries(final)) {
      expect(log.map((d) => d.event_id).reverse(), name).toEqual(expected[name as keyof typeof expected]);
      expect(log.every((d) => d.status === 'delivered' && d.last_status_code === 204), name).toBe(true);
    }
    expect(requestsTo('/all')).toHaveLength(total);
    expect(requestsTo('/all').map((r) => JSON.parse(r.body).id)).not.toContain(old);
    expect(requestsTo('/all').some((r) => 'vigil-signature' in r.headers)).toBe(false); // no secret, no signature
  });

  it('delivers on the third attempt to a receiver that answers 500 twice', async () => {
    flakyAnswers.push(500, 500);
    const hook = await subscribe({ url: `${receiver.url}/flaky`, secret: SECRET });
    const [eventId] = await emit([{ type: 'incident_opened', fromState: 'CRITICAL', toState: 'DOWN' }]);
    // The attempt is recorded just before pg-boss schedules the retry (next_attempt_at): wait for both.
    const waiting = await waitFor('a failed first attempt waiting for its retry', async () =>
      (await deliveries(hook)).find((d) => d.attempts >= 1 && d.status === 'pending' && d.next_attempt_at !== null),
    );
    expect(waiting).toMatchObject({ event_id: eventId, last_status_code: 500, last_error: 'HTTP 500' });
    const [done] = await waitFor('the delivery', async () => {
      const log = await deliveries(hook);
      return log[0]?.status === 'delivered' && log;
    });
    expect(done).toMatchObject({ event_id: eventId, attempts: 3, last_status_code: 200, last_error: null, next_attempt_at: null });
    const attempts = requestsTo('/flaky');
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((r) => r.headers['vigil-delivery-id']))).toEqual(new Set([done!.id]));
    expect(new Set(attempts.map((r) => r.body)).size).toBe(1);
    expect(attempts.every((r) => signatureVerifies(r, SECRET))).toBe(true);
  });

  it('does not follow a redirect: a 3xx is a failed attempt', async () => {
    const hook = await subscribe({ url: `${receiver.url}/redirect`, secret: SECRET });
    await emit([{ type: 'state_changed', fromState: 'HEALTHY', toState: 'DEGRADED' }]);
    const [failed] = await waitFor('the delivery to fail', async () => {
      const log = await deliveries(hook);
      return log[0]?.status === 'failed' && log;
    });
    expect(failed).toMatchObject({ attempts: 3, last_status_code: 302, last_error: expect.stringMatching(/redirects are not followed/) });
    expect(requestsTo('/redirect')).toHaveLength(3);
    expect(requestsTo('/landing')).toHaveLength(0);
  });

  it('drops pending deliveries of a subscription disabled before they were sent', async () => {
    flakyAnswers.push(500, 500, 500);
    const hook = await subscribe({ url: `${receiver.url}/flaky`, secret: SECRET });
    await emit([{ type: 'state_changed', fromState: 'HEALTHY', toState: 'DEGRADED' }]);
    await waitFor('a first failed attempt', async () => (await deliveries(hook))[0]?.attempts === 1);
    await call('patch', `/api/webhooks/${hook}`, { enabled: false });
    const [dropped] = await waitFor('the delivery to be dropped', async () => {
      const log = await deliveries(hook);
      return log[0]?.status === 'failed' && log;
    });
    expect(dropped).toMatchObject({ last_error: 'the webhook was disabled before delivery' });
    expect(dropped!.attempts).toBeLessThan(3); // the retries stopped
    flakyAnswers.length = 0;
  });
});

describe('webhook subscriptions API', () => {
  it('creates, lists, changes and deletes subscriptions without ever returning the secret', async () => {
    const created = await call('post', '/api/webhooks', { url: `${receiver.url}/ok`, secret: SECRET, states: ['DOWN'], groups: ['dc1'] });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/api/webhooks/${created.body.id}`);
    expect(created.body).toMatchObject({ url: `${receiver.url}/ok`, has_secret: true, event_types: [], states: ['DOWN'], groups: ['dc1'], enabled: true });
    const id = created.body.id as string;
    const list = await call('get', '/api/webhooks');
    expect(list.body.webhooks.map((w: { id: string }) => w.id)).toEqual([id]);
    const patched = await call('patch', `/api/webhooks/${id}`, { secret: 'whsec_rotated_0123456789abcdef', event_types: ['incident_opened'] });
    expect(patched.body).toMatchObject({ has_secret: true, event_types: ['incident_opened'], states: ['DOWN'] });
    const unsigned = await call('patch', `/api/webhooks/${id}`, { secret: null });
    expect(unsigned.body.has_secret).toBe(false);
    const one = await call('get', `/api/webhooks/${id}`);
    for (const res of [created, list, patched, unsigned, one]) {
      expect(res.text).not.toContain(SECRET);
      expect(res.text).not.toContain('whsec_rotated');
      expect(res.text).not.toMatch(/"secret"/);
    }
    expect((await call('delete', `/api/webhooks/${id}`)).status).toBe(204);
    expect((await call('get', `/api/webhooks/${id}`)).status).toBe(404);
    expect((await call('delete', `/api/webhooks/${id}`)).status).toBe(404);
    expect((await call('get', `/api/webhooks/${id}/deliveries`)).status).toBe(404);
    expect(JSON.stringify(ctx.vigil.transport.entries)).not.toContain('whsec_rotated');
  });

  it.each([
    ['ftp://127.0.0.1/hook', 'body.url', /http:\/\/ or https:\/\//],
    ['file:///etc/passwd', 'body.url', /http:\/\/ or https:\/\//],
    ['not a url', 'body.url', /http:\/\/ or https:\/\//],
    ['http://user:pw@127.0.0.1/hook', 'body.url', /credentials/],
    ['https://token@hooks.example.com/x', 'body.url', /credentials/],
  ])('rejects the URL %s', async (url, field, message) => {
    const res = await call('post', '/api/webhooks', { url, secret: SECRET });
    expect(res.status).toBe(400);
    expect(res.body.errors).toContainEqual({ field, message: expect.stringMatching(message) });
  });

  it('rejects bad filters, a short secret and an empty change', async () => {
    const bad = await call('post', '/api/webhooks', { url: `${receiver.url}/ok`, secret: 'short', event_types: ['nope'], states: ['ON_FIRE'], colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body', 'body.event_types.0', 'body.secret', 'body.states.0']);
    const id = await subscribe({ url: `${receiver.url}/ok` });
    expect((await call('patch', `/api/webhooks/${id}`, {})).status).toBe(400);
    expect((await call('get', `/api/webhooks/${id}/deliveries?limit=0`)).status).toBe(400);
    expect((await call('get', `/api/webhooks/${id}/deliveries?cursor=bogus`)).status).toBe(400);
  });

  it('answers 503 for a secret when no secret key is configured, and takes unsigned subscriptions', async () => {
    // A database of its own: a key check recorded by the Vigil above would (rightly) stop a keyless start.
    const keyless = await createTestDatabase();
    const bare = await startTestVigil(keyless.url, ['api'], { VIGIL_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8' });
    try {
      const refused = await bare.call('post', '/api/webhooks', { url: `${receiver.url}/ok`, secret: SECRET });
      expect(refused.status).toBe(503);
      expect(refused.body.detail).toMatch(/VIGIL_SECRET_KEY/);
      const unsigned = await bare.call('post', '/api/webhooks', { url: `${receiver.url}/ok` });

      expect(unsigned.body.has_secret).toBe(false);
    } finally {
      await bare.stop();
      await keyless.drop();
    }
  });
});

describe('logs', () => {
  it('never hold a webhook secret or a signature', () => {
    const logs = JSON.stringify(ctx.vigil.transport.entries);
    expect(logs).toContain('webhook delivery failed; will retry');
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain('whsec_');
    expect(logs).not.toMatch(/v1=[0-9a-f]{64}/);
  });
});
