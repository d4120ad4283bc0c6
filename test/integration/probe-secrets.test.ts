import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startHttpTarget, type HttpTarget } from '../helpers/targets.ts';
import { FAST_ENV, useTestVigil } from '../helpers/vigil.ts';

const KEY = randomBytes(32).toString('base64');
const API_KEY = 'apikey-Hh73-never-shown';

let target: HttpTarget;

function allow(check: (req: IncomingMessage, body: string) => boolean) {
  return (req: IncomingMessage, res: ServerResponse, body: string): void => {
    res.writeHead(check(req, body) ? 200 : 401).end();
  };
}

// Registered before useTestVigil: the target starts before Vigil and closes after it has stopped.
beforeAll(async () => {
  target = await startHttpTarget({
    '/header': allow((req) => req.headers['x-api-key'] === API_KEY),
    '/query': allow((req) => new URL(req.url ?? '/', 'http://t').searchParams.get('api_key') === API_KEY),
    '/body': allow((_req, body) => JSON.parse(body).key === API_KEY),
  });
});
afterAll(async () => {
  await target?.close();
});

const ctx = useTestVigil({ roles: ['api', 'worker'], env: { ...FAST_ENV, VIGIL_SECRET_KEY: KEY } });
const call = ctx.call;

describe('secrets an HTTP probe sends', () => {
  it.each([
    ['header', { url: '/header', secret_placement: { in: 'header', name: 'X-Api-Key' } }],
    ['query', { url: '/query?x=1', secret_placement: { in: 'query', name: 'api_key' } }],
    ['body', { url: '/body', method: 'POST', body: '{"key":"{{api_key}}"}', secret_placement: { in: 'body', name: '{{api_key}}' } }],
  ])('reach the target from an http-secret credential placed in the %s, and no response holds them', async (place, probe) => {
    const credential = await call('post', '/api/credentials', { name: `key-${place}`, kind: 'http-secret', value: API_KEY });
    expect(credential.status).toBe(201);
    expect(credential.body).toMatchObject({ kind: 'http-secret', has_value: true });
    const host = await call('post', '/api/hosts', {
      name: `api-${place}`,
      address: '127.0.0.1',
      probes: [{ type: 'http', ...probe, url: `${target.url}${probe.url}`, credential_id: credential.body.id }],
    });
    expect(host.status).toBe(201);
    const check = await call('post', `/api/monitoring/hosts/${host.body.id}/check-connectivity?wait=true&timeout=10`);
    expect(check.body.result).toMatchObject({ success: true });
    await call('get', '/api/hosts');
    await call('get', '/api/monitoring/changes');
    await call('get', `/api/monitoring/hosts/${host.body.id}/history`);
  });

  it('rejects user:password@ in a probe URL, pointing to credentials', async () => {
    const res = await call('post', '/api/hosts', {
      name: 'userinfo',
      address: '127.0.0.1',
      probes: [{ type: 'http', url: `http://ops:${API_KEY}@127.0.0.1:1/` }],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'body.probes.0.url', message: expect.stringMatching(/http-basic credential/) })]);
  });

  it('refuses a secret_placement whose credential is not an http-secret one', async () => {
    const bearer = await call('post', '/api/credentials', { name: 'bearer', kind: 'http-bearer', token: 'tok-not-a-key' });
    const res = await call('post', '/api/hosts', {
      name: 'wrong-kind',
      address: '127.0.0.1',
      probes: [{ type: 'http', url: `${target.url}/header`, credential_id: bearer.body.id, secret_placement: { in: 'header', name: 'X-Api-Key' } }],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ field: 'body.probes.0.credential_id', message: expect.stringMatching(/http-secret/) });
  });

  it('never put the secret in any response of this file', () => {
    expect(ctx.vigil.answers.length).toBeGreaterThan(10);
    for (const text of ctx.vigil.answers) expect(text).not.toContain(API_KEY);
  });
});
