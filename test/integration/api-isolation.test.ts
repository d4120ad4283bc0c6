/**
 * Long readers cannot take what the checks need: exports and event streams are capped per token
 * and per process (429 + Retry-After beyond), a replay reaches back a bounded number of
 * events (then `resync`), one read serves every live stream, and a revoked or expired token's
 * stream is closed. Slow clients are real sockets whose responses are paused.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openSse } from '../helpers/sse.ts';
import { authHeader, type TestVigil, useTestVigil, waitFor } from '../helpers/vigil.ts';

let vigil: TestVigil;
let readToken: string;
let otherToken: string;
let revokable: { id: string; token: string };
const EXPORT = '/api/monitoring/history/export?format=ndjson';
const paused: http.ClientRequest[] = [];

/** A GET whose response is never read: resolves with its status once the headers arrive, and a promise of the socket closing. */
function pausedGet(path: string, token: string) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; closed: Promise<void> }>((resolve, reject) => {
    const req = http.get(`${vigil.apiUrl}${path}`, { headers: authHeader(token) }, (res) => {
      res.pause();
      const closed = new Promise<void>((done) => res.socket.once('close', () => done()));
      resolve({ status: res.statusCode ?? 0, headers: res.headers, closed });
    });
    req.on('error', reject);
    paused.push(req);
  });
}

async function mint(scopes: string[]) {
  const res = await vigil.http().post('/api/tokens').send({ name: `iso-${scopes.join('-')}-${paused.length}-${Math.random()}`, scopes });
  expect(res.status).toBe(201);
  return res.body as { id: string; token: string };
}

const ctx = useTestVigil({
  roles: ['api'],
  env: {
    VIGIL_EXPORTS_MAX: '3',
    VIGIL_EXPORTS_PER_TOKEN: '2',
    VIGIL_STREAM_STALL_SECONDS: '3',
    VIGIL_SSE_STREAMS_PER_TOKEN: '2',
    VIGIL_SSE_STREAMS_MAX: '6',
    VIGIL_SSE_REPLAY_MAX_EVENTS: '1000',
    VIGIL_SSE_HEARTBEAT_SECONDS: '0.5',
  },
});
beforeAll(async () => {
  vigil = ctx.vigil;
  readToken = (await mint(['read'])).token;
  otherToken = (await mint(['read'])).token;
  revokable = await mint(['read']);
  const host = await vigil.http().post('/api/hosts').send({ name: 'iso-host', address: '127.0.0.1', probes: [{ type: 'tcp', port: 9 }] });
  // ~25 MB of NDJSON: far more than the socket buffers, so an unread export stays open.
  await vigil.pool.query(
    `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, response_time_ms, success, checked_by, job_id, detail)
     SELECT $1, timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second', 'HEALTHY', 'HEALTHY', 5, true, 'scheduler', gen_random_uuid(),
            jsonb_build_object('pad', repeat('x', 300), 'seq', i)
       FROM generate_series(1, 60000) AS i`,
    [host.body.id],
  );
  await vigil.pool.query(
    `INSERT INTO host_events (type, host_id, host_name, to_state) SELECT 'state_changed', $1, 'iso-host', 'HEALTHY' FROM generate_series(1, 3000)`,
    [host.body.id],
  );
});
afterAll(async () => {
  for (const req of paused) req.destroy();
});

describe('history exports', () => {
  it('answers 429 with Retry-After beyond the per-token and per-process caps', async () => {
    const first = await Promise.all([pausedGet(EXPORT, readToken), pausedGet(EXPORT, readToken)]);
    expect(first.map((r) => r.status)).toEqual([200, 200]);
    const overToken = await vigil.http(readToken).get(EXPORT);
    expect(overToken.status).toBe(429);
    expect(overToken.headers['retry-after']).toMatch(/^\d+$/);
    expect(overToken.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(overToken.body.detail).toMatch(/this token/);
    const third = await pausedGet(EXPORT, otherToken);
    expect(third.status).toBe(200);
    const overProcess = await vigil.http(otherToken).get(EXPORT);
    expect(overProcess.status).toBe(429);
    expect(overProcess.body.detail).toMatch(/this server/);
    // Every export holds a long reader's connection, none of the checking roles'.
    expect(vigil.apiPools!.streamPool.totalCount).toBeGreaterThanOrEqual(3);
    for (const req of paused.splice(0)) req.destroy();
  }, 60_000);

  it('ends an export whose client stops reading after VIGIL_STREAM_STALL_SECONDS, freeing its connection and its slot', async () => {
    const stalling = (await mint(['read'])).token;
    const streamPool = vigil.apiPools!.streamPool;
    await waitFor('the earlier exports to let go of their connections', async () => streamPool.totalCount - streamPool.idleCount === 0, 20_000);
    const [a, b] = await Promise.all([pausedGet(EXPORT, stalling), pausedGet(EXPORT, stalling)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(streamPool.totalCount - streamPool.idleCount).toBe(2);
    // Neither client reads a byte more (their sockets stay open on this side, data unread): after
    // the 3 s stall the server cuts both off and their cursors' connections are closed.
    await waitFor('the stalled exports to give back their connections', async () => streamPool.totalCount - streamPool.idleCount === 0, 15_000);
    // And their per-token slots: the same token may export again.
    const again = await pausedGet(EXPORT, stalling);
    expect(again.status).toBe(200);
    for (const req of paused.splice(0)) req.destroy();
  }, 60_000);
});

describe('an API pool with every connection taken', () => {
  it('answers 503 with Retry-After once the pool wait runs out, not 500', async () => {
    const { pool } = vigil.apiPools!;
    const held = await Promise.all(Array.from({ length: vigil.config.apiLimits.poolMax }, () => pool.connect()));
    try {
      const res = await vigil.http().get('/api/hosts');
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    } finally {
      for (const client of held) client.release();
    }
    expect((await vigil.http().get('/api/hosts')).status).toBe(200);
  }, 30_000);
});

describe('event streams', () => {
  it('caps streams per token with 429', async () => {
    const a = openSse(`${vigil.apiUrl}/api/events`, authHeader(otherToken));
    const b = openSse(`${vigil.apiUrl}/api/events`, authHeader(otherToken));
    try {
      await waitFor('two streams open', async () => a.status() === 200 && b.status() === 200);
      const over = await vigil.http(otherToken).get('/api/events');
      expect(over.status).toBe(429);
      expect(over.headers['retry-after']).toMatch(/^\d+$/);
    } finally {
      a.close();
      b.close();
    }
  });

  it('replays up to the bound, and beyond it sends one resync event instead of the whole table', async () => {
    const { rows } = await vigil.pool.query<{ max: string }>(`SELECT max(id)::text AS max FROM host_events`);
    const latest = BigInt(rows[0]!.max);
    const near = openSse(`${vigil.apiUrl}/api/events?last_event_id=${latest - 500n}`, authHeader(readToken));
    const far = openSse(`${vigil.apiUrl}/api/events?last_event_id=0`, authHeader(readToken));
    try {
      await waitFor('the near replay', async () => near.events.length === 500);
      await waitFor('the resync event', async () => far.events.length > 0);
      expect(far.events[0]).toMatchObject({ event: 'resync', id: String(latest), data: { reason: 'replay_too_far', latest_event_id: String(latest) } });
      await waitFor('a heartbeat after the resync', async () => far.comments.includes('heartbeat'));
      expect(far.events).toHaveLength(1);
    } finally {
      near.close();
      far.close();
    }
  });

  it('serves every live stream from one read per batch of new events, and caps streams per process with 429', async () => {
    const streams: ReturnType<typeof openSse>[] = [];
    for (let i = 0; i < 6; i++) streams.push(openSse(`${vigil.apiUrl}/api/events`, authHeader((await mint(['read'])).token)));
    const query = vi.spyOn(vigil.apiPools!.streamPool, 'query');
    try {
      await waitFor('six streams open', async () => streams.every((s) => s.status() === 200));
      const over = await vigil.http((await mint(['read'])).token).get('/api/events');
      expect(over.status).toBe(429);
      expect(over.body.detail).toMatch(/this server already has 6 event streams open/);

      const { rows } = await vigil.pool.query<{ id: string }>(`SELECT id::text FROM host_events ORDER BY id DESC LIMIT 1`);
      const hostId = (await vigil.pool.query<{ id: string }>(`SELECT id FROM hosts LIMIT 1`)).rows[0]!.id;
      const insertEvents = async (n: number) => {
        await vigil.pool.query(`INSERT INTO host_events (type, host_id, host_name, to_state) SELECT 'state_changed', $1, 'iso-host', 'DOWN' FROM generate_series(1, $2::int)`, [hostId, n]);
        await vigil.pool.query(`SELECT pg_notify('vigil_events', (SELECT max(id)::text FROM host_events))`);
      };
      // The first event reaches every stream once each has caught up (its own read) and gone live.
      await insertEvents(1);
      await waitFor('every stream live', async () => streams.every((s) => s.events.some((e) => BigInt(e.id) > BigInt(rows[0]!.id))));
      query.mockClear();
      await insertEvents(300);
      await waitFor('300 more events on every stream', async () => streams.every((s) => s.events.length === 301), 20_000);
      // One read of the batch (and one finding nothing more), not one per stream.
      expect(query.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      query.mockRestore();
      for (const s of streams) s.close();
    }
  });

  it('closes the stream of a token that expires', async () => {
    const expiring = await mint(['read']);
    const stream = openSse(`${vigil.apiUrl}/api/events`, authHeader(expiring.token));
    await waitFor('the stream to open', async () => stream.status() === 200);
    await vigil.pool.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [expiring.id]);
    await stream.ended;
  });

  it('closes the stream of a token that is revoked', async () => {
    const stream = openSse(`${vigil.apiUrl}/api/events`, authHeader(revokable.token));
    await waitFor('the stream to open', async () => stream.status() === 200);
    expect((await vigil.http().delete(`/api/tokens/${revokable.id}`)).status).toBe(200);
    await stream.ended;
  });
});
