import request from 'supertest';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectConforms } from '../helpers/openapi.ts';
import { openSse } from '../helpers/sse.ts';
import { TEST_ADMIN_TOKEN, useTestVigil, waitFor } from '../helpers/vigil.ts';

const ctx = useTestVigil({ roles: ['api'], env: { VIGIL_SSE_HEARTBEAT_SECONDS: '0.5' } });

async function mint(scopes: string[]) {
  const res = await ctx.vigil.http().post('/api/tokens').send({ name: `web-${scopes.join('-')}`, scopes });
  expect(res.status).toBe(201);
  return res.body as { id: string; token: string };
}

/** Signs in with `token` and returns the cookie pair and the session body. */
async function signIn(token: string, headers: Record<string, string> = {}) {
  const res = await request(ctx.vigil.apiUrl!).post('/api/session').set({ authorization: `Bearer ${token}`, ...headers });
  expectConforms(res);
  expect(res.status).toBe(201);
  const setCookie = (res.headers['set-cookie'] as unknown as string[])[0]!;
  return { setCookie, cookie: setCookie.split(';')[0]!, body: res.body as { name: string; scopes: string[]; csrf_token: string; expires_at: string } };
}

const withCookie = (cookie: string) => ({
  get: (url: string) => request(ctx.vigil.apiUrl!).get(url).set('cookie', cookie),
  post: (url: string, csrf?: string) => request(ctx.vigil.apiUrl!).post(url).set({ cookie, ...(csrf ? { 'x-vigil-csrf': csrf } : {}) }),
  delete: (url: string, csrf?: string) => request(ctx.vigil.apiUrl!).delete(url).set({ cookie, ...(csrf ? { 'x-vigil-csrf': csrf } : {}) }),
});

describe('dashboard sessions', () => {
  it('signs in with a token: an HttpOnly SameSite=Strict cookie that acts with the token\'s scopes', async () => {
    const { token } = await mint(['read']);
    const { setCookie, cookie, body } = await signIn(token);
    expect(setCookie).toMatch(/^vigil_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(setCookie).not.toContain('Secure');
    expect(body).toMatchObject({ name: 'web-read', scopes: ['read'] });
    expect(Date.parse(body.expires_at)).toBeGreaterThan(Date.now() + 11 * 3600_000);
    const hosts = await withCookie(cookie).get('/api/hosts');
    expect(hosts.status).toBe(200);
    const me = await withCookie(cookie).get('/api/session');
    expectConforms(me);
    expect(me.body).toEqual(body);
  });

  it('marks the cookie Secure behind a TLS proxy that says so', async () => {
    const { setCookie } = await signIn(TEST_ADMIN_TOKEN, { 'x-forwarded-proto': 'https' });
    expect(setCookie).toMatch(/; Secure$/);
  });

  it('refuses a wrong token with a clear problem, and a token without read', async () => {
    const wrong = await request(ctx.vigil.apiUrl!).post('/api/session').set('authorization', 'Bearer vgl_wrong');
    expect(wrong.status).toBe(401);
    expect(wrong.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(wrong.body.detail).toMatch(/unknown, revoked or expired/);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const checkOnly = await mint(['check']);
    const res = await request(ctx.vigil.apiUrl!).post('/api/session').set('authorization', `Bearer ${checkOnly.token}`);
    expect(res.status).toBe(403);
  });

  it('rejects a cookie write without the CSRF header, accepts it with the header', async () => {
    const { cookie, body } = await signIn(TEST_ADMIN_TOKEN);
    const without = await withCookie(cookie).post('/api/tokens').send({ name: 'x', scopes: ['read'] });
    expect(without.status).toBe(403);
    expect(without.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(without.body.detail).toMatch(/x-vigil-csrf/);
    const wrong = await withCookie(cookie).post('/api/tokens', 'A'.repeat(43)).send({ name: 'x', scopes: ['read'] });
    expect(wrong.status).toBe(403);
    const ok = await withCookie(cookie).post('/api/tokens', body.csrf_token).send({ name: 'made-in-browser', scopes: ['read'] });
    expect(ok.status).toBe(201);
  });

  it('keeps scopes: a read session with a valid CSRF value still cannot write', async () => {
    const { token } = await mint(['read']);
    const { cookie, body } = await signIn(token);
    const res = await withCookie(cookie).post('/api/tokens', body.csrf_token).send({ name: 'x', scopes: ['read'] });
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/scope admin/);
  });

  it('ends the session when its token is revoked', async () => {
    const { id, token } = await mint(['read']);
    const { cookie } = await signIn(token);
    expect((await withCookie(cookie).get('/api/hosts')).status).toBe(200);
    expect((await ctx.vigil.http().delete(`/api/tokens/${id}`)).status).toBe(200);
    const after = await withCookie(cookie).get('/api/hosts');
    expect(after.status).toBe(401);
    expect(after.body.detail).toMatch(/sign in again/);
  });

  it('ends the session at its own expiry, and when its token expires first', async () => {
    const own = await mint(['read']);
    const first = await signIn(own.token);
    expect((await withCookie(first.cookie).get('/api/hosts')).status).toBe(200);
    await ctx.pool.query(`UPDATE web_sessions SET expires_at = now() - interval '1 second' WHERE token_id = $1`, [own.id]);
    expect((await withCookie(first.cookie).get('/api/hosts')).status).toBe(401);

    const expiring = await mint(['read']);
    const second = await signIn(expiring.token);
    expect((await withCookie(second.cookie).get('/api/hosts')).status).toBe(200);
    await ctx.pool.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [expiring.id]);
    expect((await withCookie(second.cookie).get('/api/hosts')).status).toBe(401);
  });

  it('signs out: the cookie is cleared and no longer works', async () => {
    const { token } = await mint(['read']);
    const { cookie, body } = await signIn(token);
    const out = await withCookie(cookie).delete('/api/session', body.csrf_token);
    expect(out.status).toBe(204);
    expect((out.headers['set-cookie'] as unknown as string[])[0]).toMatch(/^vigil_session=; .*Max-Age=0/);
    expect((await withCookie(cookie).get('/api/session')).status).toBe(401);
  });

  it('leaves bearer clients alone: a bearer token wins over a stale cookie', async () => {
    const res = await ctx.vigil.http().get('/api/session').set('cookie', 'vigil_session=' + 'x'.repeat(43));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'VIGIL_ADMIN_TOKEN', scopes: ['admin'], expires_at: null, csrf_token: null });
    const garbage = await request(ctx.vigil.apiUrl!).get('/api/hosts').set('cookie', 'other=1; vigil_session=garbage');
    expect(garbage.status).toBe(401);
  });

  it('ends the event stream of a session that signs out or expires, as for a revoked token', async () => {
    const [out, expiring] = [await signIn((await mint(['read'])).token), await signIn((await mint(['read'])).token)];
    const streams = [out, expiring].map((s) => openSse(`${ctx.vigil.apiUrl}/api/events`, { cookie: s.cookie }));
    try {
      await waitFor('both streams to open', async () => streams.every((s) => s.comments.includes('connected')));
      expect((await withCookie(out.cookie).delete('/api/session', out.body.csrf_token)).status).toBe(204);
      await streams[0]!.ended;
      const idHash = createHash('sha256').update(expiring.cookie.slice('vigil_session='.length)).digest();
      expect((await ctx.pool.query(`UPDATE web_sessions SET expires_at = now() - interval '1 second' WHERE id_hash = $1`, [idHash])).rowCount).toBe(1);
      await streams[1]!.ended;
    } finally {
      for (const s of streams) s.close();
    }
  });

  it('streams events to an EventSource that only has the cookie', async () => {
    const { token } = await mint(['read']);
    const { cookie } = await signIn(token);
    const sse = openSse(`${ctx.vigil.apiUrl}/api/events`, { cookie });
    try {
      await waitFor('the stream to open', async () => sse.comments.includes('connected'));
      expect(sse.status()).toBe(200);
    } finally {
      sse.close();
    }
  });
});
