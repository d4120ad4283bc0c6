import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { expectConforms } from '../helpers/openapi.ts';
import { useTestVigil } from '../helpers/vigil.ts';

const ctx = useTestVigil({ roles: ['api'] });

async function createHost(name: string, group: string | null = null): Promise<string> {
  const res = await ctx.vigil.http().post('/api/hosts').send({ name, address: '10.1.2.3', group, probes: [{ type: 'tcp', port: 22 }] });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const badge = (hostId: string) => request(ctx.vigil.apiUrl!).get(`/badges/hosts/${hostId}.svg`);

describe('status badges', () => {
  it('serves nothing for a host that is not public: the same 404 as for no host at all', async () => {
    const id = await createHost('private-1');
    const hidden = await badge(id);
    const missing = await badge('00000000-0000-4000-8000-000000000000');
    const malformed = await request(ctx.vigil.apiUrl!).get('/badges/hosts/not-a-uuid.svg');
    for (const res of [hidden, missing, malformed]) {
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'no public badge here' });
    }
  });

  it('serves an SVG with the name and state (nothing else) once an admin makes the host public', async () => {
    const id = await createHost('web <&> 1');
    const read = await ctx.vigil.http().post('/api/tokens').send({ name: 'reader', scopes: ['read'] });
    expect((await ctx.vigil.http(read.body.token).post(`/api/badges/hosts/${id}`)).status).toBe(403);
    const published = await ctx.vigil.http().post(`/api/badges/hosts/${id}`);
    expectConforms(published);
    expect(published.body.hosts).toContainEqual({ host_id: id, name: 'web <&> 1', badge_url: `/badges/hosts/${id}.svg` });
    const res = await badge(id).buffer(true);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    const svg = res.body.toString('utf8') as string;
    expect(svg).toContain('web &lt;&amp;&gt; 1');
    expect(svg).toMatch(/>healthy</);
    expect(svg).not.toContain('10.1.2.3');
    expect(svg).not.toContain(id);
    const removed = await ctx.vigil.http().delete(`/api/badges/hosts/${id}`);
    expectConforms(removed);
    expect((await badge(id)).status).toBe(404);
  });

  it('serves every host of a public group, including hosts added later, until the group is withdrawn', async () => {
    const before = await createHost('status-1', 'status-page');
    expectConforms(await ctx.vigil.http().post('/api/badges/groups/status-page'));
    const after = await createHost('status-2', 'status-page');
    const outside = await createHost('other-1', 'internal');
    expect((await badge(before)).status).toBe(200);
    expect((await badge(after)).status).toBe(200);
    expect((await badge(outside)).status).toBe(404);
    const list = await ctx.vigil.http().get('/api/badges');
    expectConforms(list);
    expect(list.body.groups).toEqual(['status-page']);
    expect((await ctx.vigil.http().delete('/api/badges/groups/status-page')).status).toBe(200);
    expect((await badge(before)).status).toBe(404);
  });

  it('answers 404 when publishing a host that does not exist', async () => {
    const res = await ctx.vigil.http().post('/api/badges/hosts/00000000-0000-4000-8000-000000000000');
    expect(res.status).toBe(404);
  });
});
