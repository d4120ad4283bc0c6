import { beforeAll, describe, expect, it } from 'vitest';
import { useTestVigil } from '../helpers/vigil.ts';

const ctx = useTestVigil({ roles: ['api'] });
const get = (path: string) => ctx.call('get', path);

async function createHost(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await ctx.vigil.http().post('/api/hosts').send({ name, address: '127.0.0.1', probes: [{ type: 'tcp', port: 9 }], ...extra });
  expect(res.status).toBe(201);
  return res.body.id;
}

interface Row {
  time: string;
  state?: string;
  previous?: string;
  success?: boolean;
  ms?: number | null;
  error?: string | null;
}

/** Inserts history rows as given (times as PostgreSQL timestamptz literals, microseconds allowed); returns their ids in order. */
async function insertHistory(hostId: string, rows: Row[]): Promise<string[]> {
  const { rows: ids } = await ctx.vigil.pool.query<{ id: string }>(
    `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, success, response_time_ms, error_type, checked_by, detail)
     SELECT $1, t, s, p, ok, ms, e, 'scheduler', jsonb_build_object('n', ord)
       FROM unnest($2::timestamptz[], $3::text[], $4::text[], $5::boolean[], $6::float8[], $7::text[]) WITH ORDINALITY AS r(t, s, p, ok, ms, e, ord)
     ORDER BY ord
     RETURNING id`,
    [
      hostId,
      rows.map((r) => r.time),
      rows.map((r) => r.state ?? 'HEALTHY'),
      rows.map((r) => r.previous ?? r.state ?? 'HEALTHY'),
      rows.map((r) => r.success ?? true),
      rows.map((r) => (r.ms === undefined ? 10 : r.ms)),
      rows.map((r) => r.error ?? null),
    ],
  );
  return ids.map((r) => r.id);
}

/** Follows next_cursor from `path` to the end; returns every page's body. */
async function allPages(path: string, cursorParam = 'cursor') {
  const pages = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await get(cursor ? `${path}${sep}${cursorParam}=${cursor}` : path);
    expect(res.status).toBe(200);
    pages.push(res.body);
    cursor = res.body.next_cursor;
  } while (cursor && pages.length < 100);
  return pages;
}


describe('GET /api/monitoring/hosts/{host_id}/history', () => {
  let hostId: string;
  let expectedOrder: string[];

  beforeAll(async () => {
    hostId = await createHost('history-host');
    // Ties on check_time, and times that differ only in microseconds (within one millisecond):
    // a cursor that kept milliseconds only would skip or repeat rows here.
    const rows: Row[] = [];
    for (let i = 0; i < 5; i++) rows.push({ time: '2026-05-01 10:00:00.000000+00' });
    for (let i = 0; i < 6; i++) rows.push({ time: `2026-05-01 10:00:01.000${i}00+00`, success: i % 2 === 0, error: i % 2 === 0 ? null : 'timeout', state: 'DEGRADED' });
    for (let i = 0; i < 12; i++) rows.push({ time: `2026-05-01 11:${String(i).padStart(2, '0')}:00+00`, state: i < 6 ? 'DOWN' : 'HEALTHY' });
    await insertHistory(hostId, rows);
    const { rows: ordered } = await ctx.vigil.pool.query<{ id: string }>(
      `SELECT id FROM host_monitoring_history WHERE host_id = $1 ORDER BY check_time DESC, id DESC`,
      [hostId],
    );
    expectedOrder = ordered.map((r) => r.id);
  });

  it('pages through every check newest first, each exactly once, through ties and microsecond differences', async () => {
    const pages = await allPages(`/api/monitoring/hosts/${hostId}/history?limit=4`);
    const ids = pages.flatMap((p) => p.checks.map((c: { id: string }) => c.id));
    expect(ids).toEqual(expectedOrder);
    expect(pages).toHaveLength(Math.ceil(expectedOrder.length / 4));
    expect(pages.at(-1).next_cursor).toBeNull();
    expect(pages[0].checks[0]).toMatchObject({ check_time: '2026-05-01T11:11:00.000Z', state: 'HEALTHY', checked_by: 'scheduler', detail: { n: 23 } });
  });

  it.each([
    ['from and to', 'from=2026-05-01T10:00:01Z&to=2026-05-01T11:00:00Z', 6],
    ['state', 'state=DOWN', 6],
    ['success=false', 'success=false', 3],
    ['error_type', 'error_type=timeout', 3],
    ['state and success together', 'state=DEGRADED&success=true', 3],
    ['an empty range', 'from=2027-01-01T00:00:00Z', 0],
  ])('filters by %s', async (_case, filter, count) => {
    const pages = await allPages(`/api/monitoring/hosts/${hostId}/history?limit=2&${filter}`);
    expect(pages.flatMap((p) => p.checks)).toHaveLength(count);
  });

  it('answers an unknown host with 404 and bad queries with 400 naming the field', async () => {
    expect((await get('/api/monitoring/hosts/00000000-0000-4000-8000-000000000000/history')).status).toBe(404);
    const cases: [string, string][] = [
      ['cursor=bm9wZQ', 'query.cursor'],
      ['from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z', 'query.to'],
      ['error_type=exploded', 'query.error_type'],
      ['success=yes', 'query.success'],
      ['limit=1001', 'query.limit'],
      ['from=yesterday', 'query.from'],
    ];
    for (const [query, field] of cases) {
      const res = await get(`/api/monitoring/hosts/${hostId}/history?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field), query).toContain(field);
    }
  });
});

describe('GET /api/monitoring/hosts/{host_id}/transitions', () => {
  it('lists only the checks that changed the state, newest first, with paging', async () => {
    const hostId = await createHost('transitions-host');
    const walk: [string, string][] = [
      ['HEALTHY', 'HEALTHY'], ['HEALTHY', 'DEGRADED'], ['DEGRADED', 'CRITICAL'], ['CRITICAL', 'CRITICAL'],
      ['CRITICAL', 'DOWN'], ['DOWN', 'DOWN'], ['DOWN', 'DOWN'], ['DOWN', 'HEALTHY'], ['HEALTHY', 'HEALTHY'],
    ];
    const ids = await insertHistory(hostId, walk.map(([previous, state], i) => ({ time: `2026-05-02 08:0${i}:00+00`, previous, state, success: state === 'HEALTHY', error: state === 'HEALTHY' ? null : 'connection_refused' })));
    const pages = await allPages(`/api/monitoring/hosts/${hostId}/transitions?limit=2`);
    const transitions = pages.flatMap((p) => p.transitions);
    expect(transitions.map((t: { from: string; to: string }) => `${t.from}->${t.to}`)).toEqual(['DOWN->HEALTHY', 'CRITICAL->DOWN', 'DEGRADED->CRITICAL', 'HEALTHY->DEGRADED']);
    expect(transitions.map((t: { check_id: string }) => t.check_id)).toEqual([ids[7], ids[4], ids[2], ids[1]]);
    expect(transitions[1]).toMatchObject({ time: '2026-05-02T08:04:00.000Z', error_type: 'connection_refused' });
    const windowed = await get(`/api/monitoring/hosts/${hostId}/transitions?from=2026-05-02T08:02:00Z&to=2026-05-02T08:05:00Z`);
    expect(windowed.body.transitions.map((t: { to: string }) => t.to)).toEqual(['DOWN', 'CRITICAL']);
    expect(windowed.body.next_cursor).toBeNull();
  });
});

/** PostgreSQL's percentile_cont: linear interpolation between the closest ranks. */
function percentileCont(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = p * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

describe('GET /api/monitoring/hosts/{host_id}/trend', () => {
  let hostId: string;
  const firstBucket = Array.from({ length: 20 }, (_, i) => (i + 1) * 10); // 10..200 ms
  beforeAll(async () => {
    hostId = await createHost('trend-host');
    await insertHistory(hostId, [
      ...firstBucket.map((ms, i) => ({ time: `2026-05-03 09:0${i % 5}:${String(i).padStart(2, '0')}+00`, ms, success: i % 4 !== 0 })),
      // 09:10–09:15 stays empty; two checks at 09:15–09:20 (a failure without a time counts but adds no statistics).
      { time: '2026-05-03 09:16:00+00', ms: 7 },
      { time: '2026-05-03 09:17:00+00', ms: null, success: false },
      // Outside the requested range: not counted.
      { time: '2026-05-03 08:59:59.999+00', ms: 99999 },
      { time: '2026-05-03 09:20:00+00', ms: 99999 },
    ]);
  });

  it('computes count, failures, avg, p95, min and max per bucket in SQL, empty buckets included', async () => {
    const res = await get(`/api/monitoring/hosts/${hostId}/trend?from=2026-05-03T09:00:00Z&to=2026-05-03T09:20:00Z&bucket=5m`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ host_id: hostId, bucket_seconds: 300, from: '2026-05-03T09:00:00.000Z', to: '2026-05-03T09:20:00.000Z' });
    expect(res.body.buckets.map((b: { bucket_start: string }) => b.bucket_start)).toEqual([
      '2026-05-03T09:00:00.000Z', '2026-05-03T09:05:00.000Z', '2026-05-03T09:10:00.000Z', '2026-05-03T09:15:00.000Z',
    ]);
    const [first, second, third, fourth] = res.body.buckets;
    expect(first).toMatchObject({ count: 20, failures: 5, min: 10, max: 200 });
    expect(first.avg).toBeCloseTo(105, 9);
    expect(first.p95).toBeCloseTo(percentileCont(firstBucket, 0.95), 9);
    for (const empty of [second, third]) expect(empty).toEqual({ bucket_start: empty.bucket_start, count: 0, failures: 0, avg: null, p95: null, min: null, max: null });
    expect(fourth).toMatchObject({ count: 2, failures: 1, avg: 7, p95: 7, min: 7, max: 7 });
  });

  it('aligns buckets to the epoch, accepts seconds, and defaults to the last 24 hours by the hour', async () => {
    const aligned = await get(`/api/monitoring/hosts/${hostId}/trend?from=2026-05-03T09:02:00Z&to=2026-05-03T09:20:00Z&bucket=600`);
    expect(aligned.body.buckets.map((b: { bucket_start: string; count: number }) => [b.bucket_start, b.count])).toEqual([
      ['2026-05-03T09:00:00.000Z', 12], // 09:02–09:10 of the first bucket's checks (those at :02, :03, :04 minutes)
      ['2026-05-03T09:10:00.000Z', 2],
    ]);
    const defaults = await get(`/api/monitoring/hosts/${hostId}/trend`);
    expect(defaults.body.bucket_seconds).toBe(3600);
    expect(Date.parse(defaults.body.to) - Date.parse(defaults.body.from)).toBe(86_400_000);
    expect([24, 25]).toContain(defaults.body.buckets.length);
  });

  it('refuses more than 2000 buckets, a bad bucket and an empty range with 400 naming the field', async () => {
    const tooMany = await get(`/api/monitoring/hosts/${hostId}/trend?from=2026-01-01T00:00:00Z&to=2026-05-01T00:00:00Z&bucket=1m`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0]).toMatchObject({ field: 'query.bucket', message: expect.stringContaining('more than 2000') });
    expect((await get(`/api/monitoring/hosts/${hostId}/trend?bucket=2w`)).body.errors[0].field).toBe('query.bucket');
    expect((await get(`/api/monitoring/hosts/${hostId}/trend?from=2999-01-01T00:00:00Z`)).body.errors[0].field).toBe('query.from');
    expect((await get('/api/monitoring/hosts/00000000-0000-4000-8000-000000000000/trend')).status).toBe(404);
  });
});

describe('GET /api/monitoring/summary', () => {
  it('counts hosts by state, by group and by enabled', async () => {
    const before = (await get('/api/monitoring/summary')).body;
    const ids = [
      await createHost('sum-a1', { group: 'sum-a' }),
      await createHost('sum-a2', { group: 'sum-a' }),
      await createHost('sum-b1', { group: 'sum-b', enabled: false }),
      await createHost('sum-none'),
    ];
    await ctx.vigil.pool.query(`UPDATE hosts SET monitoring_state = 'DOWN' WHERE id = ANY ($1::uuid[])`, [[ids[1], ids[3]]]);
    const res = await get('/api/monitoring/summary');
    expect(res.status).toBe(200);
    const after = res.body;
    expect(after.total - before.total).toBe(4);
    expect(after.enabled - before.enabled).toBe(3);
    expect(after.disabled - before.disabled).toBe(1);
    expect(after.by_state.DOWN - before.by_state.DOWN).toBe(2);
    expect(after.by_state.HEALTHY - before.by_state.HEALTHY).toBe(2);
    const group = (name: string | null) => after.by_group.find((g: { group: string | null }) => g.group === name);
    expect(group('sum-a')).toEqual({ group: 'sum-a', total: 2, by_state: { HEALTHY: 1, DEGRADED: 0, CRITICAL: 0, DOWN: 1, UNREACHABLE: 0 } });
    expect(group('sum-b')).toEqual({ group: 'sum-b', total: 1, by_state: { HEALTHY: 1, DEGRADED: 0, CRITICAL: 0, DOWN: 0, UNREACHABLE: 0 } });
    expect(after.by_group.at(-1).group).toBeNull();
    expect(after.total).toBe(after.by_group.reduce((n: number, g: { total: number }) => n + g.total, 0));
    expect((await get('/api/monitoring/summary?x=1')).status).toBe(400);
  });
});

describe('a scheduled check\'s lag in its detail', () => {
  it('is stored in its column only and shown in the detail, with delayed, by the history page and the export', async () => {
    const hostId = await createHost('lag-host');
    await ctx.vigil.pool.query(
      `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, success, checked_by, detail, schedule_lag_ms)
       VALUES ($1, '2026-06-01 10:00:00+00', 'HEALTHY', 'HEALTHY', true, 'scheduler', '{"status_code": 200}', 42),
              ($1, '2026-06-01 10:01:00+00', 'HEALTHY', 'HEALTHY', true, 'scheduler', '{"status_code": 200, "delayed": true}', 15000),
              ($1, '2026-06-01 10:02:00+00', 'HEALTHY', 'HEALTHY', true, 'jit', '{"status_code": 200}', NULL)`,
      [hostId],
    );
    const expected = [
      { status_code: 200 },
      { status_code: 200, schedule_lag_ms: 15000, delayed: true },
      { status_code: 200, schedule_lag_ms: 42, delayed: false },
    ];
    const page = await get(`/api/monitoring/hosts/${hostId}/history`);
    expect(page.body.checks.map((c: { detail: unknown }) => c.detail)).toEqual(expected);
    const exported = await ctx.vigil.http().get(`/api/monitoring/history/export?format=json&host_id=${hostId}`);
    expect(exported.status).toBe(200);
    const rows = JSON.parse(exported.text) as { detail: unknown }[];
    expect(rows.map((r) => r.detail)).toEqual([...expected].reverse());
  });
});
