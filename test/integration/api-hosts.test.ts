import { describe, expect, it } from 'vitest';
import { specOperations } from '../helpers/fuzz.ts';
import { expectConforms } from '../helpers/openapi.ts';
import { useTestVigil } from '../helpers/vigil.ts';

// API only: no scheduler or worker, so host rows change only through the API here.
const ctx = useTestVigil({ roles: ['api'] });
const { call } = ctx;
const api = () => ctx.vigil.http();

const tcpHost = (name: string, extra: Record<string, unknown> = {}) => ({ name, address: '127.0.0.1', probes: [{ type: 'tcp', port: 9 }], ...extra });


describe('hosts API', () => {
  it('creates a host with its machine in HEALTHY and answers 201 with Location', async () => {
    const res = await call('post', '/api/hosts', tcpHost('web-1', { tags: ['prod'], group: 'rack-a' }));
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/api/hosts/${res.body.id}`);
    expect(res.body).toMatchObject({
      name: 'web-1',
      address: '127.0.0.1',
      probes: [{ type: 'tcp', port: 9 }],
      enabled: true,
      tags: ['prod'],
      group: 'rack-a',
      monitoring_state: 'HEALTHY',
      current_status: 'unknown',
      check_priority: 3,
      last_check: null,
    });
    const stored = await ctx.vigil.pool.query('SELECT machine_snapshot, next_check_time FROM hosts WHERE id = $1', [res.body.id]);
    expect(stored.rows[0].machine_snapshot).toMatchObject({ value: 'HEALTHY', context: { consecutiveFailures: 0, consecutiveSuccesses: 0 } });
  });

  it('accepts an HTTP probe, fills its defaults and masks secret-looking header values', async () => {
    const res = await call('post', '/api/hosts', {
      name: 'api-1',
      address: 'api.example',
      probes: [{ type: 'http', url: 'https://api.example/health', expect_status: [200], headers: { Authorization: 'Bearer s3cr3t-value', 'X-Env': 'prod' } }],
    });
    expect(res.status).toBe(201);
    expect(res.body.probes[0]).toMatchObject({ type: 'http', method: 'GET', tls_verify: true, headers: { Authorization: '********', 'X-Env': 'prod' } });
    expect(JSON.stringify(res.body)).not.toContain('s3cr3t-value');
  });

  it('refuses a second host with the same name with 409', async () => {
    await call('post', '/api/hosts', tcpHost('dup'));
    const res = await call('post', '/api/hosts', tcpHost('dup'));
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.detail).toContain('dup');
  });

  it.each([
    ['missing name', { address: 'a', probes: [{ type: 'tcp', port: 22 }] }, 'body.name'],
    ['empty probes', { name: 'x', address: 'a', probes: [] }, 'body.probes'],
    ['unknown probe type', { name: 'x', address: 'a', probes: [{ type: 'gopher' }] }, 'body.probes.0.type'],
    ['port out of range', { name: 'x', address: 'a', probes: [{ type: 'tcp', port: 70000 }] }, 'body.probes.0.port'],
    ['non-http url', { name: 'x', address: 'a', probes: [{ type: 'http', url: 'ftp://a/' }] }, 'body.probes.0.url'],
    ['address with spaces', { name: 'x', address: 'a b', probes: [{ type: 'tcp', port: 1 }] }, 'body.address'],
    ['unknown field', { name: 'x', address: 'a', probes: [{ type: 'tcp', port: 1 }], colour: 'red' }, 'body'],
    ['wrong type', { name: 42, address: 'a', probes: [{ type: 'tcp', port: 1 }] }, 'body.name'],
  ])('rejects a body with %s, naming %s', async (_case, body, field) => {
    const before = await ctx.vigil.pool.query('SELECT count(*)::int AS n FROM hosts');
    const res = await call('post', '/api/hosts', body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    const after = await ctx.vigil.pool.query('SELECT count(*)::int AS n FROM hosts');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('answers malformed JSON, a wrong content type and an oversized body with 4xx problem+json', async () => {
    const bad = await api().post('/api/hosts').set('content-type', 'application/json').send('{"name":');
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/not valid JSON/);
    const text = await api().post('/api/hosts').set('content-type', 'text/plain').send('name=x');
    expect(text.status).toBe(415);
    const huge = await api().post('/api/hosts').send({ name: 'x', address: 'a', probes: [{ type: 'tcp', port: 1 }], pad: 'x'.repeat(2_000_000) });
    expect(huge.status).toBe(413);
    for (const res of [bad, text, huge]) expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('gets, patches and deletes a host; a malformed id is 400 and an unknown one 404', async () => {
    const { body: host } = await call('post', '/api/hosts', tcpHost('crud'));
    expect((await call('get', `/api/hosts/${host.id}`)).body.name).toBe('crud');
    const patched = await call('patch', `/api/hosts/${host.id}`, { name: 'crud-2', enabled: false, tags: ['x'] });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'crud-2', enabled: false, tags: ['x'] });
    expect((await call('patch', `/api/hosts/${host.id}`, {})).status).toBe(400);
    expect((await call('delete', `/api/hosts/${host.id}`)).status).toBe(204);
    expect((await call('get', `/api/hosts/${host.id}`)).status).toBe(404);
    expect((await call('delete', `/api/hosts/${host.id}`)).status).toBe(404);
    const malformed = await call('get', '/api/hosts/not-a-uuid');
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0].field).toBe('path.host_id');
  });

  it('lists hosts by name with filters and a cursor', async () => {
    for (const n of ['list-a', 'list-b', 'list-c']) await call('post', '/api/hosts', tcpHost(n, { group: 'listing' }));
    const page1 = await call('get', '/api/hosts?group=listing&limit=2');
    expect(page1.body.hosts.map((h: { name: string }) => h.name)).toEqual(['list-a', 'list-b']);
    expect(page1.body.next_cursor).toEqual(expect.any(String));
    const page2 = await call('get', `/api/hosts?group=listing&limit=2&after=${page1.body.next_cursor}`);
    expect(page2.body.hosts.map((h: { name: string }) => h.name)).toEqual(['list-c']);
    expect(page2.body.next_cursor).toBeNull();
    const healthy = await call('get', '/api/hosts?state=HEALTHY&group=listing');
    expect(healthy.body.hosts).toHaveLength(3);
    expect((await call('get', '/api/hosts?state=DOWN&group=listing')).body.hosts).toHaveLength(0);
    const badState = await call('get', '/api/hosts?state=ASLEEP');
    expect(badState.status).toBe(400);
    expect(badState.body.errors[0].field).toBe('query.state');
    expect((await call('get', '/api/hosts?bogus=1')).status).toBe(400);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await api().get('/api/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  });
});

/**
 * The body parser reads any JSON body sent to /api before routing, so every operation, a GET too,
 * can answer 413 and 415; openapi.yaml must say so (components/responses PayloadTooLarge and
 * UnsupportedMediaType), and the answers must match it.
 */
describe('request bodies every operation refuses', () => {
  const operations = specOperations().map((op) => ({ ...op, name: `${op.method.toUpperCase()} ${op.path}` }));
  async function send(op: (typeof operations)[number], contentType: string, body: string) {
    // Any id fits: these answers come before any lookup.
    const path = op.path.replace(/\{\w+\}/g, '06909604-8df5-4680-bb1c-e7dc7f17dcbf');
    const res = await api()[op.method as 'get' | 'post' | 'patch' | 'put' | 'delete'](path).set('content-type', contentType).send(body);
    expectConforms(res);
    return res;
  }

  it.each(operations)('$name answers 413 for a JSON body over its limit', async (op) => {
    const res = await send(op, 'application/json', `"${'x'.repeat(op.bodyLimitBytes)}"`);
    expect(res.status).toBe(413);
    expect(res.body.detail).toBe('request body is too large');
  });

  it.each(operations)('$name answers 415 for a JSON body in a charset other than UTF-8', async (op) => {
    const res = await send(op, 'application/json; charset=latin1', '{}');
    expect(res.status).toBe(415);
    expect(res.body.detail).toMatch(/unsupported charset/);
  });

  it.each(operations.filter((op) => op.body))('$name answers 415 for a body that is not JSON', async (op) => {
    const res = await send(op, 'text/plain', 'name=x');
    expect(res.status).toBe(415);
    expect(res.body.detail).toBe('send the body as application/json');
  });
});
