import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/api/cursor.ts';
import { useTestVigil, waitFor } from '../helpers/vigil.ts';

const ctx = useTestVigil({ roles: ['api'] });
const { call } = ctx;


async function createHost(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await call('post', '/api/hosts', { name, address: '127.0.0.1', probes: [{ type: 'tcp', port: 9 }], ...extra });
  expect(res.status).toBe(201);
  return res.body.id;
}

type Changes = { changes: { id: string; name: string; group: string | null; tags: string[] }[]; deleted: { id: string }[]; next_cursor: string; has_more: boolean };

interface Collected {
  changed: Changes['changes'];
  deleted: string[];
  cursor: string | undefined;
  /** Whether some answer was a full page (has_more). */
  paged: boolean;
}

/**
 * Follows the feed from `since` until `done` holds for everything handed out. The feed holds a
 * change back while any older transaction on the server is still running (other test files share
 * it), so this polls instead of expecting a change in the very next answer.
 */
async function collectChanges(since: string | undefined, done: (c: Collected) => boolean, limit = 500): Promise<Collected> {
  const collected: Collected = { changed: [], deleted: [], cursor: since, paged: false };
  return waitFor('the change feed', async () => {
    for (;;) {
      const res = await call('get', `/api/monitoring/changes?limit=${limit}${collected.cursor ? `&since=${collected.cursor}` : ''}`);
      expect(res.status).toBe(200);
      const body = res.body as Changes;
      collected.changed.push(...body.changes);
      collected.deleted.push(...body.deleted.map((d) => d.id));
      collected.cursor = body.next_cursor;
      collected.paged ||= body.has_more;
      if (!body.has_more) return done(collected) && collected;
    }
  });
}

const ids = (c: Collected) => c.changed.map((h) => h.id);


describe('ETags', () => {
  it('answers the state of an unchanged host with 304 and no body, and 200 with a new ETag after any write to it', async () => {
    const id = await createHost('etag-state');
    const first = await call('get', `/api/monitoring/hosts/${id}/state`);
    expect(first.status).toBe(200);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers['cache-control']).toBe('no-cache');

    const same = await call('get', `/api/monitoring/hosts/${id}/state`, undefined, { headers: { 'If-None-Match': etag } });
    expect(same.status).toBe(304);
    expect(same.text).toBeFalsy();
    expect(same.headers.etag).toBe(etag);
    // Weak form and lists match too (RFC 9110 If-None-Match uses the weak comparison).
    expect((await call('get', `/api/monitoring/hosts/${id}/state`, undefined, { headers: { 'If-None-Match': `"other", W/${etag}` } })).status).toBe(304);

    await call('patch', `/api/hosts/${id}`, { tags: ['changed'] });
    const afterPatch = await call('get', `/api/monitoring/hosts/${id}/state`, undefined, { headers: { 'If-None-Match': etag } });
    expect(afterPatch.status).toBe(200);
    expect(afterPatch.headers.etag).not.toBe(etag);

    // A write that bumps no version column (the scheduler's claim only moves next_check_time) still changes it.
    const beforeClaim = afterPatch.headers.etag as string;
    await ctx.vigil.pool.query(`UPDATE hosts SET next_check_time = now() + interval '1 hour' WHERE id = $1`, [id]);
    const afterClaim = await call('get', `/api/monitoring/hosts/${id}/state`, undefined, { headers: { 'If-None-Match': beforeClaim } });
    expect(afterClaim.status).toBe(200);
    expect(afterClaim.body.next_check_time).not.toBe(afterPatch.body.next_check_time);
  });

  it('gives a host list page an ETag that changes with its hosts and its query, not with other hosts', async () => {
    const ids = [await createHost('etag-list-1', { group: 'etag-list' }), await createHost('etag-list-2', { group: 'etag-list' })];
    const path = '/api/hosts?group=etag-list';
    const first = await call('get', path);
    const etag = first.headers.etag as string;
    expect(first.body.hosts).toHaveLength(2);
    expect((await call('get', path, undefined, { headers: { 'If-None-Match': etag } })).status).toBe(304);

    await createHost('etag-elsewhere', { group: 'other' });
    expect((await call('get', path, undefined, { headers: { 'If-None-Match': etag } })).status).toBe(304);
    const otherQuery = await call('get', `${path}&limit=50`, undefined, { headers: { 'If-None-Match': etag } });
    expect(otherQuery.status).toBe(200);

    await ctx.vigil.pool.query(`UPDATE hosts SET monitoring_state = 'DOWN' WHERE id = $1`, [ids[1]]);
    const changed = await call('get', path, undefined, { headers: { 'If-None-Match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.body.hosts[1].monitoring_state).toBe('DOWN');
    expect(changed.headers.etag).not.toBe(etag);
  });
});

describe('GET /api/monitoring/changes', () => {
  it('starts with every host, then hands out only what changed, deletions included', async () => {
    const [a, b, c] = [await createHost('feed-a'), await createHost('feed-b'), await createHost('feed-c')];
    const { rows } = await ctx.vigil.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM hosts`);
    const all = await collectChanges(undefined, (got) => new Set(ids(got)).size === rows[0]!.n, 2);
    expect(ids(all)).toEqual(expect.arrayContaining([a, b, c]));
    expect(all.paged).toBe(true);

    const quiet = await call('get', `/api/monitoring/changes?since=${all.cursor}`);
    expect(quiet.body).toMatchObject({ changes: [], deleted: [], has_more: false });

    await call('patch', `/api/hosts/${b}`, { group: 'moved' });
    await call('delete', `/api/hosts/${c}`);
    const d = await createHost('feed-d');
    const next = await collectChanges(quiet.body.next_cursor, (got) => got.changed.length >= 2 && got.deleted.length >= 1);
    expect(ids(next)).toEqual([b, d]);
    expect(next.changed[0]).toMatchObject({ name: 'feed-b', group: 'moved' });
    expect(next.deleted).toEqual([c]);

    const again = await call('get', `/api/monitoring/changes?since=${next.cursor}`);
    expect(again.body).toMatchObject({ changes: [], deleted: [] });
  });

  it('never skips a change whose transaction commits after a later one (out-of-order commits)', async () => {
    const [x, y] = [await createHost('order-x'), await createHost('order-y')];
    const start = await collectChanges(undefined, (got) => ids(got).includes(x) && ids(got).includes(y));
    const slow = new pg.Client({ connectionString: ctx.db.url });
    const fast = new pg.Client({ connectionString: ctx.db.url });
    await Promise.all([slow.connect(), fast.connect()]);
    try {
      // The slow transaction writes x first; the fast one writes y after it and commits first.
      await slow.query('BEGIN');
      await slow.query(`UPDATE hosts SET tags = '{slow}' WHERE id = $1`, [x]);
      await fast.query('BEGIN');
      await fast.query(`UPDATE hosts SET tags = '{fast}' WHERE id = $1`, [y]);
      await fast.query('COMMIT');

      // A poll now must not move its cursor past x's pending change. (A feed numbered by a
      // sequence would hand out y and a cursor beyond x here, and x's change would never appear.)
      const during = await call('get', `/api/monitoring/changes?since=${start.cursor}`);
      expect(during.body.changes.map((h: { id: string }) => h.id)).not.toContain(x);

      await slow.query('COMMIT');
      const after = await collectChanges(during.body.next_cursor, (got) => ids(got).includes(x));
      const seen = [...during.body.changes, ...after.changed];
      expect(seen.find((h) => h.id === x)?.tags).toEqual(['slow']);
      expect(seen.find((h) => h.id === y)?.tags).toEqual(['fast']);
    } finally {
      await slow.query('ROLLBACK').catch(() => {});
      await Promise.all([slow.end(), fast.end()]);
    }
  });

  it('refuses a cursor it did not issue (400) and one from beyond this database (410)', async () => {
    const garbage = await call('get', '/api/monitoring/changes?since=not-a-cursor');
    expect(garbage.status).toBe(400);
    expect(garbage.body.errors[0].field).toBe('query.since');
    const future = await call('get', `/api/monitoring/changes?since=${encodeCursor(['999999999999', '00000000-0000-0000-0000-000000000000'])}`);
    expect(future.status).toBe(410);
    expect(future.body.detail).toMatch(/without since/);
  });
});
