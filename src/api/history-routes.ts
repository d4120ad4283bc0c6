import type { Response } from 'express';
import { readHistoryExport, type ExportHistoryRow } from '../db/queries/history-export.ts';
import { listHistory, listTransitions, type HistoryFilter, type PositionedHistoryRow } from '../db/queries/history-pages.ts';
import { historyTrend, trendBucketCount } from '../db/queries/history-trend.ts';
import { databaseNow, getHost } from '../db/queries/hosts.ts';
import { badRequest, notFound } from '../lib/errors.ts';
import { encodeCursor } from './cursor.ts';
import type { ApiDeps } from './deps.ts';
import { EXPORT_CONTENT_TYPES, exportEncoder, type ExportEncoder, type ExportFormat } from './export-formats.ts';
import {
  EXPORT_COLUMNS,
  exportQuery,
  historyExportSchema,
  historyPageSchema,
  historyQuery,
  MAX_TREND_BUCKETS,
  transitionPageSchema,
  transitionsQuery,
  trendQuery,
  trendSchema,
} from './history-schemas.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import { hostIdParams, problemSchema } from './schemas.ts';
import { serializeCheck } from './serialize.ts';
import { disconnectSignal, writeChunk } from './stream.ts';
import { StreamSlots } from './stream-slots.ts';
import { principalOf } from './auth.ts';
import { exportExamples, historyPageExample, transitionPageExample, trendExample } from './view-examples.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const TAGS = ['monitoring'];
const DAY_MS = 86_400_000;

/** A host's check history, its export, response-time trend and state transitions. */
export function historyRoutes(deps: ApiDeps): RouteSpec[] {
  return [historyRoute(deps), transitionsRoute(deps), trendRoute(deps), exportRoute(deps)];
}

async function requireHost(deps: ApiDeps, hostId: string) {
  const host = await getHost(deps.pool, hostId);
  if (!host) throw notFound('host');
  return host;
}

/** Newest-first pages read one row more than asked, so the last page says so (next_cursor null). */
function pageOf<T>(rows: PositionedHistoryRow[], limit: number, item: (r: PositionedHistoryRow) => T) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(item), next_cursor: rows.length > limit && last ? encodeCursor([last.position_time, last.id]) : null };
}

const historyEntry = (r: PositionedHistoryRow) => ({ id: r.id, ...serializeCheck(r), job_id: r.job_id });

function historyRoute(deps: ApiDeps): RouteSpec {
  return defineRoute({
    method: 'get',
    path: '/api/monitoring/hosts/{host_id}/history',
    operationId: 'listHostHistory',
    summary: "A host's checks, newest first, filtered by time, state, success and error type",
    tags: TAGS,
    params: hostIdParams,
    query: historyQuery,
    examples: { responses: { 200: [historyPageExample] } },
    responses: { 200: { description: 'A page of checks', schema: historyPageSchema }, 400: problem('Invalid id or query'), 404: problem('No such host') },
    handler: async ({ params, query }) => {
      await requireHost(deps, params.host_id);
      const filter = { hostId: params.host_id, from: query.from, to: query.to, state: query.state, success: query.success, errorType: query.error_type };
      const after = query.cursor && { checkTime: query.cursor[0], id: query.cursor[1] };
      const rows = await listHistory(deps.pool, filter, { after, limit: query.limit + 1 });
      const { items, next_cursor } = pageOf(rows, query.limit, historyEntry);
      return { status: 200, body: { host_id: params.host_id, checks: items, next_cursor } };
    },
  });
}

function transitionsRoute(deps: ApiDeps): RouteSpec {
  return defineRoute({
    method: 'get',
    path: '/api/monitoring/hosts/{host_id}/transitions',
    operationId: 'listHostTransitions',
    summary: "A host's state changes, newest first",
    tags: TAGS,
    params: hostIdParams,
    query: transitionsQuery,
    examples: { responses: { 200: [transitionPageExample] } },
    responses: { 200: { description: 'A page of state changes', schema: transitionPageSchema }, 400: problem('Invalid id or query'), 404: problem('No such host') },
    handler: async ({ params, query }) => {
      await requireHost(deps, params.host_id);
      const after = query.cursor && { checkTime: query.cursor[0], id: query.cursor[1] };
      const rows = await listTransitions(deps.pool, { hostId: params.host_id, from: query.from, to: query.to }, { after, limit: query.limit + 1 });
      const { items, next_cursor } = pageOf(rows, query.limit, (r) => ({
        check_id: r.id,
        time: r.check_time.toISOString(),
        from: r.previous_state,
        to: r.monitoring_state,
        error_type: r.error_type,
        error_message: r.error_message,
      }));
      return { status: 200, body: { host_id: params.host_id, transitions: items, next_cursor } };
    },
  });
}

function trendRoute(deps: ApiDeps): RouteSpec {
  return defineRoute({
    method: 'get',
    path: '/api/monitoring/hosts/{host_id}/trend',
    operationId: 'getHostTrend',
    summary: "A host's response times and failures per time bucket (count, failures, avg, p95, min, max)",
    description:
      'Defaults: the last 24 hours in 1-hour buckets. Buckets are aligned to multiples of their width since 1970-01-01T00:00Z, ' +
      'so the first and last may be partly outside [from, to); checks outside the range are not counted. ' +
      `Statistics cover every check in the bucket, failed ones included. At most ${MAX_TREND_BUCKETS} buckets per request.`,
    tags: TAGS,
    params: hostIdParams,
    query: trendQuery,
    examples: { responses: { 200: [trendExample] } },
    responses: { 200: { description: 'The buckets', schema: trendSchema }, 400: problem('Invalid id or query, or too many buckets'), 404: problem('No such host') },
    handler: async ({ params, query }) => {
      // The default range ends at the database's now(): check times are on its clock, not this process's.
      const to = query.to ?? (await databaseNow(deps.pool));
      const from = query.from ?? new Date(to.getTime() - DAY_MS);
      if (from >= to) throw badRequest('from must be before to', [{ field: 'query.from', message: `must be before ${to.toISOString()}` }]);
      const range = { from, to, bucketSeconds: query.bucket };
      const count = trendBucketCount(range);
      if (count > MAX_TREND_BUCKETS) {
        const message = `gives ${count} buckets between from and to, more than ${MAX_TREND_BUCKETS}: use a wider bucket or a shorter range`;
        throw badRequest(`too many buckets: ${count}`, [{ field: 'query.bucket', message }]);
      }
      await requireHost(deps, params.host_id);
      const buckets = await historyTrend(deps.pool, params.host_id, range);
      return {
        status: 200,
        body: {
          host_id: params.host_id,
          from: from.toISOString(),
          to: to.toISOString(),
          bucket_seconds: query.bucket,
          buckets: buckets.map((b) => ({ ...b, bucket_start: b.bucket_start.toISOString() })),
        },
      };
    },
  });
}

function exportRoute(deps: ApiDeps): RouteSpec {
  const { exportsMax, exportsPerToken } = deps.config.apiLimits;
  const exports = new StreamSlots('history exports', { max: exportsMax, perToken: exportsPerToken, retryAfterSeconds: 10 });
  return defineRoute({
    method: 'get',
    path: '/api/monitoring/history/export',
    operationId: 'exportHistory',
    summary: 'Download check history as CSV, a JSON array or NDJSON, streamed oldest first',
    description:
      'The body is streamed from a server-side cursor, so exports of any size use little memory. Invalid queries and unknown ' +
      'hosts are answered before streaming starts; a failure after that cuts the connection, so a truncated file never looks complete. ' +
      'CSV cells starting with = + - @ are prefixed with a quote so spreadsheets do not run them as formulas.',
    tags: TAGS,
    query: exportQuery,
    examples: { responses: { 200: exportExamples } },
    responses: {
      200: {
        description: 'The file (Content-Disposition: attachment)',
        content: {
          'text/csv': undefined,
          'application/json': historyExportSchema,
          'application/x-ndjson': undefined,
        },
        headers: { 'Content-Disposition': 'attachment; filename="vigil-history-<host name or all>-<UTC time>.<csv|json|ndjson>"' },
      },
      400: problem('Invalid query'),
      404: problem('No such host'),
      429: problem('Too many exports open, for this token or this server (Retry-After says when to try again)'),
      503: problem('The database is unreachable or busy (Retry-After)'),
    },
    handler: async ({ query }, { res }) => {
      const host = query.host_id ? await requireHost(deps, query.host_id) : undefined;
      const filter: HistoryFilter = { hostId: query.host_id, from: query.from, to: query.to, state: query.state, success: query.success, errorType: query.error_type };
      const release = exports.take(principalOf(res));
      const { stallMs } = deps.config.apiLimits;
      return {
        status: 200,
        headers: {
          'Content-Type': `${EXPORT_CONTENT_TYPES[query.format]}; charset=utf-8`,
          'Content-Disposition': `attachment; filename="${exportFileName(host?.name ?? 'all', query.format)}"`,
          'Cache-Control': 'no-store',
        },
        // The export's cursor holds a stream-pool connection for its whole run, never one of the API's or the checks'.
        stream: (out) => streamRecords(out, exportEncoder(query.format, EXPORT_COLUMNS), exportRecords(readHistoryExport(deps.streamPool, filter)), stallMs).finally(release),
      };
    },
  });
}

/** `vigil-history-<host>-<UTC time>.<ext>`, with anything but letters, digits, `.`, `_` and `-` in the name replaced. */
function exportFileName(host: string, format: ExportFormat, now = new Date()): string {
  const safe = host.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `vigil-history-${safe}-${stamp}.${format}`;
}

async function* exportRecords(batches: AsyncGenerator<ExportHistoryRow[]>): AsyncGenerator<Record<string, unknown>[]> {
  for await (const rows of batches) {
    yield rows.map((r) => ({ id: r.id, host_id: r.host_id, host_name: r.host_name, ...serializeCheck(r), job_id: r.job_id }));
  }
}

/**
 * Writes the encoded batches with backpressure. The first batch is read before anything is
 * written, so a query that fails at once is still answered with problem+json. When the client
 * goes away, reading stops and the batches' source is closed (its cursor and client released).
 */
async function streamRecords(res: Response, encoder: ExportEncoder, batches: AsyncGenerator<Record<string, unknown>[]>, stallMs: number): Promise<void> {
  const gone = disconnectSignal(res);
  const write = (chunk: string) => writeChunk(res, chunk, gone, stallMs);
  try {
    let next = await batches.next();
    if (!(await write(encoder.head()))) return;
    while (!next.done) {
      if (!(await write(encoder.batch(next.value)))) return;
      next = await batches.next();
    }
    if (await write(encoder.tail())) res.end();
  } finally {
    await batches.return(undefined);
  }
}
