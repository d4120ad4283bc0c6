import { z } from 'zod';
import { HOST_STATES } from '../machine/states.ts';
import { ERROR_TYPES } from '../probes/types.ts';
import { cursorParam, isStorableInstant, pgBigint, pgTimestamp } from './cursor.ts';
import { EXPORT_FORMATS } from './export-formats.ts';
import { apiRegistry, checkResultSchema, hostStateSchema } from './schemas.ts';

/** Request and response shapes of the history, export, trend and transitions operations. */

const named = <T extends z.ZodType>(id: string, schema: T): T => {
  apiRegistry.add(schema, { id });
  return schema;
};

const isoTime = z.iso.datetime({ offset: true });
const queryTime = (description: string) =>
  isoTime.refine(isStorableInstant, 'must be in the years 1 to 9999 (UTC)').transform((s) => new Date(s)).optional().describe(description);
const queryBoolean = z.enum(['true', 'false']).transform((v) => v === 'true');

/** Where a newest-first history page ended: the last row's check_time (microseconds) and id. */
export const historyCursor = cursorParam(z.tuple([pgTimestamp, pgBigint]), 'Cursor: the next_cursor of the previous page');

const timeRange = {
  from: queryTime('Only checks at or after this time (ISO 8601 with offset)'),
  to: queryTime('Only checks before this time'),
};

const historyFilters = {
  ...timeRange,
  state: z.enum(HOST_STATES).optional().describe('Only checks that left the host in this state'),
  success: queryBoolean.optional().describe('Only successful (true) or failed (false) checks'),
  error_type: z.enum(ERROR_TYPES).optional().describe('Only checks that failed with this error type'),
};

/** `from` must come before `to` when both are given. */
const ordered = (q: { from?: Date; to?: Date }, ctx: z.core.$RefinementCtx) => {
  if (q.from && q.to && q.from >= q.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
};

const pageLimit = z.coerce.number().int().min(1).max(1000).default(100).describe('Items per page (1–1000)');

export const historyQuery = z
  .object({ ...historyFilters, limit: pageLimit, cursor: historyCursor.optional() })
  .strict()
  .superRefine(ordered);

export const historyEntrySchema = named(
  'HistoryEntry',
  checkResultSchema.extend({
    id: z.string().describe('Check id (history row id, a decimal integer)'),
    job_id: z.uuid().nullable().describe('The check task (pg-boss job) that ran it'),
  }),
);

export const historyPageSchema = named(
  'HistoryPage',
  z.object({
    host_id: z.uuid(),
    checks: z.array(historyEntrySchema).describe('Newest first'),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null at the end'),
  }),
);

export const exportQuery = z
  .object({
    format: z.enum(EXPORT_FORMATS).default('csv').describe('csv (header row, detail as JSON text), json (one array) or ndjson (one object per line)'),
    host_id: z.uuid().optional().describe('Only this host; all hosts when omitted'),
    ...historyFilters,
  })
  .strict()
  .superRefine(ordered);

export const historyExportRecordSchema = named(
  'HistoryExportRecord',
  historyEntrySchema.extend({ host_id: z.uuid(), host_name: z.string() }).describe('One exported check (a json element, an ndjson line, a csv row)'),
);

export const historyExportSchema = named('HistoryExport', z.array(historyExportRecordSchema).describe('The json format: one array of records, oldest first'));

/** CSV columns, in order: the export record's fields. */
export const EXPORT_COLUMNS = [
  'id', 'host_id', 'host_name', 'check_time', 'state', 'previous_state', 'success', 'response_time_ms',
  'error_type', 'error_message', 'checked_by', 'job_id', 'detail',
] as const;

/** Named trend bucket widths, in seconds. */
export const BUCKETS: Record<string, number> = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '6h': 21_600, '1d': 86_400 };
export const MAX_TREND_BUCKETS = 2000;

export const trendQuery = z
  .object({
    ...timeRange,
    bucket: z
      .string()
      .regex(/^(?:[1-9]\d{0,7}|1m|5m|15m|1h|6h|1d)$/, 'give seconds (e.g. 300) or one of 1m, 5m, 15m, 1h, 6h, 1d')
      .default('1h')
      .transform((b) => BUCKETS[b] ?? Number(b))
      .describe(`Bucket width: seconds, or 1m, 5m, 15m, 1h, 6h, 1d; at most ${MAX_TREND_BUCKETS} buckets per request`),
  })
  .strict()
  .superRefine(ordered);

const stat = (what: string) => z.number().nullable().describe(`${what} of response_time_ms in the bucket; null when it has no checks`);

export const trendSchema = named(
  'HostTrend',
  z.object({
    host_id: z.uuid(),
    from: isoTime,
    to: isoTime,
    bucket_seconds: z.int(),
    buckets: z
      .array(
        z.object({
          bucket_start: isoTime,
          count: z.int().describe('Checks in the bucket'),
          failures: z.int().describe('Failed checks in the bucket'),
          avg: stat('Mean'),
          p95: stat('95th percentile (interpolated)'),
          min: stat('Minimum'),
          max: stat('Maximum'),
        }),
      )
      .describe('Every bucket from the one containing `from` to the one containing `to`, oldest first, empty ones included'),
  }),
);

export const transitionsQuery = z
  .object({ ...timeRange, limit: pageLimit, cursor: historyCursor.optional() })
  .strict()
  .superRefine(ordered);

export const transitionPageSchema = named(
  'TransitionPage',
  z.object({
    host_id: z.uuid(),
    transitions: z
      .array(
        z.object({
          check_id: z.string().describe('The check that changed the state (history row id)'),
          time: isoTime,
          from: hostStateSchema,
          to: hostStateSchema,
          error_type: z.enum(ERROR_TYPES).nullable().describe("The check's error type; null when it succeeded"),
          error_message: z.string().nullable(),
        }),
      )
      .describe('Newest first'),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null at the end'),
  }),
);
