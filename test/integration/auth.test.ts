import { spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { expectConforms } from '../helpers/openapi.ts';
import { authHeader, useTestVigil, type HttpMethod } from '../helpers/vigil.ts';

type Operation = { 'x-required-scope': 'read' | 'check' | 'admin' };
const SPEC = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as { paths: Record<string, Record<string, Operation>> };
const OPERATIONS = Object.entries(SPEC.paths).flatMap(([p, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method as HttpMethod, path: p, scope: op['x-required-scope'] })));
/** A concrete path for a template: well-formed ids that exist nowhere. */
const concrete = (template: string) =>
  template.replace(/\{(\w+)\}/g, (_m, name: string) => (name === 'group' ? 'no-such-group' : '00000000-0000-4000-8000-000000000000')) +
  // The event stream never ends by itself: an invalid filter makes an authorised call answer at once (400).
  (template === '/api/events' ? '?type=none-such' : '');

const tokens: Record<'read' | 'check' | 'admin', string> = { read: '', check: '', admin: '' };

const ctx = useTestVigil({ roles: ['api'], env: { VIGIL_JIT_RATE_PER_MINUTE: '3' } });
const { call } = ctx;

async function mint(scopes: string[], extra: Record<string, unknown> = {}) {
  const res = await call('post', '/api/tokens', { name: `t-${scopes.join('-')}`, scopes, ...extra });
  expect(res.status).toBe(201);
  return res.body as { id: string; token: string; prefix: string };
}

beforeAll(async () => {
  for (const scope of ['read', 'check', 'admin'] as const) tokens[scope] = (await mint([scope])).token;
});

describe('authentication on every operation in openapi.yaml', () => {
  it.each(OPERATIONS)('$method $path: 401 without a token, 401 with a bad one', async ({ method, path: p }) => {
    const url = concrete(p);
    const none = await call(method, url, undefined, { token: null });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.headers['content-type']).toMatch(/application\/problem\+json/);
    const bad = await call(method, url, undefined, { token: 'vgl_not-a-real-token' });
    expect(bad.status).toBe(401);
  });

  it.each(OPERATIONS)('$method $path ($scope): 403 for tokens without the scope, never for those with it', async ({ method, path: p, scope }) => {
    const url = concrete(p);
    const callWith = (token: string) => call(method, url, {}, { token });
    const allowed = { read: ['read', 'admin'], check: method === 'get' ? ['check', 'read', 'admin'] : ['check', 'admin'], admin: ['admin'] }[scope];
    for (const held of ['read', 'check', 'admin'] as const) {
      const res = await callWith(tokens[held]);
      if (allowed.includes(held)) expect(res.status, `${held} token`).not.toBe(403);
      else expect(res.status, `${held} token`).toBe(403);
      expect(res.status).not.toBe(401);
    }
  });
});

describe('routes without a token', () => {
  it.each(['/healthz', '/readyz', '/openapi.yaml', '/docs'])('%s answers without one', async (p) => {
    expect((await request(ctx.vigil.apiUrl!).get(p)).status).toBe(200);
  });
});

describe('tokens', () => {
  it('are shown once, stored only as a hash, listed without the secret, and stop working when revoked', async () => {
    const created = await mint(['read']);
    expect(created.token).toMatch(/^vgl_[A-Za-z0-9_-]{43}$/);
    expect(created.token.startsWith(created.prefix)).toBe(true);
    const stored = await ctx.vigil.pool.query('SELECT encode(token_hash, $2) AS h, prefix FROM api_tokens WHERE id = $1', [created.id, 'hex']);
    expect(stored.rows[0].h).not.toContain(Buffer.from(created.token).toString('hex'));
    expect(stored.rows[0].h).toHaveLength(64);
    const list = await ctx.vigil.http().get('/api/tokens');
    expectConforms(list);
    expect(list.text).not.toContain(created.token);
    expect((await ctx.vigil.http(created.token).get('/api/hosts')).status).toBe(200);
    const revoked = await call('delete', `/api/tokens/${created.id}`);
    expect(revoked.body.revoked_at).not.toBeNull();
    expect((await ctx.vigil.http(created.token).get('/api/hosts')).status).toBe(401);
  });

  it('expire', async () => {
    const created = await mint(['read'], { expires_in_days: 1 });
    expect((await ctx.vigil.http(created.token).get('/api/hosts')).status).toBe(200);
    await ctx.vigil.pool.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [created.id]);
    expect((await ctx.vigil.http(created.token).get('/api/hosts')).status).toBe(401);
  });

  it('reject bad token bodies naming the field', async () => {
    const res = await call('post', '/api/tokens', { name: 'x', scopes: ['root'] });

    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('body.scopes.0');
  });

  it('can be created with the CLI, and the CLI refuses bad arguments', () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, [path.resolve('src/main.ts'), 'token', ...args], { env: { PATH: process.env.PATH!, DATABASE_URL: ctx.db.url }, encoding: 'utf8' });
    const ok = run(['create', '--name', 'scanner', '--scope', 'check']);
    expect(ok.status).toBe(0);
    const token = /(vgl_[A-Za-z0-9_-]{43})/.exec(ok.stdout)?.[1];
    expect(token).toBeDefined();
    const bad = run(['create', '--name', 'x', '--scope', 'root']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--scope/);
    return ctx.vigil.http(token!).get('/api/monitoring/hosts/00000000-0000-4000-8000-000000000000/state').then((res) => expect(res.status).toBe(404));
  });

  it('accept VIGIL_ADMIN_TOKEN, and reject one that is too short at start-up', async () => {
    expect((await request(ctx.vigil.apiUrl!).get('/api/tokens').set(authHeader())).status).toBe(200);
    const run = spawnSync(process.execPath, [path.resolve('src/main.ts'), 'api'], { env: { PATH: process.env.PATH!, DATABASE_URL: ctx.db.url, VIGIL_ADMIN_TOKEN: 'short' }, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/VIGIL_ADMIN_TOKEN: must be at least 32 characters/);
  });
});

describe('JIT rate limit per token', () => {
  it('answers 429 with Retry-After beyond the limit, per token', async () => {
    const host = await ctx.vigil.http().post('/api/hosts').send({ name: 'limited', address: '127.0.0.1', probes: [{ type: 'tcp', port: 9 }] });
    const jit = (token: string) => ctx.vigil.http(token).post(`/api/monitoring/hosts/${host.body.id}/check-connectivity`);
    const a = (await mint(['check'])).token;
    const b = (await mint(['check'])).token;
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await jit(a)).status);
    expect(statuses).toEqual([202, 202, 202, 429]);
    const limited = await jit(a);
    expectConforms(limited);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another token has its own allowance.
    expect((await jit(b)).status).toBe(202);
  });
});

describe('scope before body', () => {
  it.each(OPERATIONS.filter((o) => o.method !== 'get' && o.scope === 'admin'))(
    '$method $path: a read token with a malformed body gets 403, not 400',
    async ({ method, path: p }) => {
      const res = await (ctx.vigil.http(tokens.read) as unknown as Record<string, (u: string) => request.Test>)[method]!(concrete(p))
        .set('content-type', 'application/json')
        .send('{"not json');
      expect(res.status).toBe(403);
    },
  );

  it('answers a read token 403 on a 16 MB bulk body before the body has been sent', async () => {
    const { port } = new URL(ctx.vigil.apiUrl!);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/hosts/bulk', headers: { ...authHeader(tokens.read), 'content-type': 'application/json', 'content-length': String(16 * 1024 * 1024 - 1) } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.setTimeout(10_000, () => req.destroy(new Error('no answer while the body was incomplete')));
      // Only the first 64 KiB: a server that parsed the body before checking the scope would wait for the rest.
      req.write(`[${' '.repeat(64 * 1024)}`);
    });
    expect(status).toBe(403);
  });
});
