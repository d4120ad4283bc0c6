import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_COLUMNS } from '../../src/api/history-schemas.ts';
import { expectAnswerConforms, expectConforms, expectMatchesComponent } from '../helpers/openapi.ts';
import { useTestVigil, waitFor, authHeader } from '../helpers/vigil.ts';

const ctx = useTestVigil({ roles: ['api'] });
const EXPORT = '/api/monitoring/history/export';

async function createHost(name: string): Promise<string> {
  const res = await ctx.vigil.http().post('/api/hosts').send({ name, address: '127.0.0.1', probes: [{ type: 'tcp', port: 9 }] });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** `count` checks of one host, one a second from 2026-01-01 on, every seventh failed; ~400 bytes each as NDJSON. */
async function insertChecks(hostId: string, count: number, errorMessage = 'connection refused'): Promise<void> {
  await ctx.vigil.pool.query(
    `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, response_time_ms, success,
                                          error_type, error_message, checked_by, job_id, detail)
     SELECT $1, timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second', 'HEALTHY', 'HEALTHY', 5 + i % 50,
            i % 7 <> 0, CASE WHEN i % 7 = 0 THEN 'connection_refused' END, CASE WHEN i % 7 = 0 THEN $3 END,
            'scheduler', gen_random_uuid(),
            jsonb_build_object('steps', jsonb_build_array(jsonb_build_object('type', 'tcp', 'ms', 5 + i % 50, 'success', i % 7 <> 0)),
                               'schedule_lag_ms', i % 1000, 'seq', i)
       FROM generate_series(1, $2) AS i`,
    [hostId, count, errorMessage],
  );
}

/** Reads a streamed body without keeping it: counts bytes and lines, keeps the start. */
async function consume(body: ReadableStream<Uint8Array>, onChunk?: () => void): Promise<{ bytes: number; lines: number; head: string; lastLine: string }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let bytes = 0;
  let lines = 0;
  let head = '';
  let tail = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    onChunk?.();
    bytes += value.byteLength;
    for (const byte of value) if (byte === 10) lines++;
    const text = decoder.decode(value, { stream: true });
    if (head.length < 8192) head += text.slice(0, 8192 - head.length);
    tail = (tail + text).slice(-4096);
  }
  const lastLine = tail.trimEnd().split('\n').at(-1) ?? '';
  return { bytes, lines, head, lastLine };
}

const answer = (res: Response, path: string, text: string) => ({
  method: 'GET', path: new URL(path, 'http://x').pathname, status: res.status, contentType: res.headers.get('content-type'), text, body: undefined,
});


describe('history export, small', () => {
  let hostId: string;
  beforeAll(async () => {
    hostId = await createHost('csv, "quoted" host');
    await insertChecks(hostId, 14, '=HYPERLINK("http://evil")');
    await insertChecks(await createHost('other-host'), 5);
  });

  it('writes CSV with a header row, one row per check, detail as JSON text and formulas defused', async () => {
    const res = await ctx.vigil.http().get(`${EXPORT}?format=csv&host_id=${hostId}`);
    expectConforms(res);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="vigil-history-csv_quoted_host-\d{8}T\d{6}Z\.csv"$/);
    const lines = res.text.trimEnd().split('\n');
    expect(lines[0]).toBe(EXPORT_COLUMNS.join(','));
    expect(lines).toHaveLength(15);
    // Check 7 failed: its host name and message are quoted, the formula is prefixed, detail is JSON.
    const failed = lines.find((l) => l.includes(',connection_refused,'))!;
    expect(failed).toContain(`,${hostId},"csv, ""quoted"" host",2026-01-01T00:00:07.000Z,HEALTHY,HEALTHY,false,12,connection_refused,"'=HYPERLINK(""http://evil"")",scheduler,`);
    const detail = failed.slice(failed.indexOf(',"{') + 2, -1).replaceAll('""', '"');
    expect(JSON.parse(detail)).toEqual({ steps: [{ type: 'tcp', ms: 12, success: false }], schedule_lag_ms: 7, seq: 7 });
  });

  it('writes a JSON array, oldest first, honouring the filters', async () => {
    const res = await ctx.vigil.http().get(`${EXPORT}?format=json&host_id=${hostId}&success=false`);
    expectConforms(res);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/\.json"$/);
    expect(res.body.map((r: { check_time: string }) => r.check_time)).toEqual(['2026-01-01T00:00:07.000Z', '2026-01-01T00:00:14.000Z']);
    expect(res.body[0]).toMatchObject({ host_id: hostId, host_name: 'csv, "quoted" host', success: false, error_type: 'connection_refused', detail: { seq: 7 } });
    const empty = await ctx.vigil.http().get(`${EXPORT}?format=json&from=2030-01-01T00:00:00Z`);
    expectConforms(empty);
    expect(empty.body).toEqual([]);
  });

  it('writes NDJSON, one record per line, for all hosts when no host is given', async () => {
    const res = await fetch(`${ctx.vigil.apiUrl}${EXPORT}?format=ndjson`, { headers: authHeader() });
    const text = await res.text();
    expectAnswerConforms(answer(res, EXPORT, text));
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="vigil-history-all-\d{8}T\d{6}Z\.ndjson"$/);
    const records = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(19);
    for (const r of records) expectMatchesComponent('HistoryExportRecord', r);
    expect(new Set(records.map((r) => r.host_name))).toEqual(new Set(['csv, "quoted" host', 'other-host']));
  });

  it('answers a bad query or an unknown host with problem+json before streaming anything', async () => {
    const bad = await ctx.vigil.http().get(`${EXPORT}?format=xml&success=maybe`);
    expectConforms(bad);
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['query.format', 'query.success']);
    expect(bad.headers['content-disposition']).toBeUndefined();
    const unknown = await ctx.vigil.http().get(`${EXPORT}?host_id=00000000-0000-4000-8000-000000000000`);
    expectConforms(unknown);
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(unknown.headers['content-disposition']).toBeUndefined();
  });
});

describe('history export, 200,000 checks', () => {
  const ROWS = 200_000;
  let hostId: string;
  // GC on demand, for a clean baseline (vitest runs without --expose-gc).
  v8.setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc') as () => void;

  beforeAll(async () => {
    hostId = await createHost('big-host');
    await insertChecks(hostId, ROWS);
  }, 120_000);

  /**
   * Exports through real HTTP while measuring this process's memory (the API runs in it): the
   * peak of heap + external every 20 ms (garbage included), and what is live after a forced GC
   * every 50 chunks read (what the export actually holds; a buffered export would grow here).
   */
  async function measuredExport(format: 'ndjson' | 'csv') {
    const path = `${EXPORT}?format=${format}&host_id=${hostId}`;
    const memory = () => process.memoryUsage().heapUsed + process.memoryUsage().external;
    gc();
    const baseline = memory();
    let peak = baseline;
    let livePeak = baseline;
    let chunks = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, memory())), 20);
    try {
      const res = await fetch(`${ctx.vigil.apiUrl}${path}`, { headers: authHeader() });
      expect(res.status).toBe(200);
      const read = await consume(res.body!, () => {
        if (++chunks % 50 !== 0) return;
        gc();
        livePeak = Math.max(livePeak, memory());
      });
      expectAnswerConforms(answer(res, path, read.head));
      const mb = (n: number) => (n - baseline) / 2 ** 20;
      return { ...read, chunks, peakGrowthMb: mb(peak), liveGrowthMb: mb(livePeak) };
    } finally {
      clearInterval(sampler);
    }
  }

  it('streams NDJSON: every row exactly once, with memory growth far below the body size', async () => {
    const { bytes, lines, head, lastLine, chunks, peakGrowthMb, liveGrowthMb } = await measuredExport('ndjson');
    console.log(`ndjson export: ${lines} lines, ${(bytes / 2 ** 20).toFixed(1)} MB in ${chunks} chunks; heap+external growth: peak ${peakGrowthMb.toFixed(1)} MB, live after GC ${liveGrowthMb.toFixed(1)} MB`);
    expect(lines).toBe(ROWS);
    expect(bytes).toBeGreaterThan(40 * 2 ** 20);
    expect(chunks).toBeGreaterThan(500);
    expect(liveGrowthMb).toBeLessThan(20);
    expect(peakGrowthMb).toBeLessThan(bytes / 2 ** 20);
    const first = JSON.parse(head.split('\n')[0]!);
    expectMatchesComponent('HistoryExportRecord', first);
    expect(first).toMatchObject({ host_id: hostId, check_time: '2026-01-01T00:00:01.000Z', detail: { seq: 1 } });
    expect(JSON.parse(lastLine)).toMatchObject({ check_time: new Date(Date.UTC(2026, 0, 1) + ROWS * 1000).toISOString(), detail: { seq: ROWS } });
  }, 120_000);

  it('streams CSV: a header and every row, with memory growth far below the body size', async () => {
    const { bytes, lines, head, lastLine, chunks, peakGrowthMb, liveGrowthMb } = await measuredExport('csv');
    console.log(`csv export: ${lines} lines, ${(bytes / 2 ** 20).toFixed(1)} MB in ${chunks} chunks; heap+external growth: peak ${peakGrowthMb.toFixed(1)} MB, live after GC ${liveGrowthMb.toFixed(1)} MB`);
    expect(lines).toBe(ROWS + 1);
    expect(bytes).toBeGreaterThan(40 * 2 ** 20);
    expect(liveGrowthMb).toBeLessThan(20);
    const [header, firstRow] = head.split('\n');
    expect(header).toBe(EXPORT_COLUMNS.join(','));
    expect(firstRow).toMatch(new RegExp(`^\\d+,${hostId},big-host,2026-01-01T00:00:01\\.000Z,HEALTHY,HEALTHY,true,6,,,scheduler,[0-9a-f-]{36},"\\{""seq"": ?1,`));
    expect(lastLine).toContain(`,${new Date(Date.UTC(2026, 0, 1) + ROWS * 1000).toISOString()},`);
  }, 120_000);

  it('closes the cursor and releases its database connection when the client disconnects midway', async () => {
    const streamPool = ctx.vigil.apiPools!.streamPool;
    const busy = () => streamPool.totalCount - streamPool.idleCount;
    const rolesBusy = () => ctx.vigil.pool.totalCount - ctx.vigil.pool.idleCount;
    const baseline = busy();
    const rolesBaseline = rolesBusy();
    const controller = new AbortController();
    const res = await fetch(`${ctx.vigil.apiUrl}${EXPORT}?format=ndjson&host_id=${hostId}`, { signal: controller.signal, headers: authHeader() });
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    // The export holds one connection for its cursor while it streams: one of the long readers', none of the checking roles'.
    expect(busy()).toBe(baseline + 1);
    expect(rolesBusy()).toBe(rolesBaseline);
    controller.abort();
    await waitFor('the export to release its connection', async () => busy() === baseline, 10_000);
    const { rows } = await ctx.vigil.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%FROM host_monitoring_history m%' AND state = 'active'`,
    );
    expect(rows[0]!.n).toBe(0);
    expect(ctx.vigil.transport.entries.filter((e) => e.level === 'error')).toEqual([]);
    // And the API goes on serving.
    expect((await ctx.vigil.http().get(`${EXPORT}?format=json&from=2030-01-01T00:00:00Z`)).status).toBe(200);
  }, 60_000);
});
