import type { z } from 'zod';
import { encodeCursor } from './cursor.ts';
import { EXPORT_CONTENT_TYPES, exportEncoder, type ExportFormat } from './export-formats.ts';
import { EXPORT_COLUMNS, type historyExportSchema, type historyPageSchema, type transitionPageSchema, type trendSchema } from './history-schemas.ts';
import type { bulkHostsSchema, changesSchema, hostBulkResultSchema, summarySchema } from './inventory-schemas.ts';
import type { ApiExample } from './route.ts';
import type { hostSchema } from './schemas.ts';

/**
 * Examples in openapi.yaml for the history, export, trend, transitions, summary, change feed and
 * bulk operations, typed by their schemas (src/api/examples.ts has the others). The routes name
 * them, so they take precedence over schema-wide examples.
 */

const request = <S extends z.ZodType>(name: string, summary: string, value: z.input<S>): ApiExample => ({ name, summary, value });
const response = <S extends z.ZodType>(name: string, summary: string, value: z.output<S>): ApiExample => ({ name, summary, value });

const HOST_ID = '4f7c1d2e-8a9b-4c3d-9e5f-0a1b2c3d4e5f';
const JOB_ID = '9b2e4c6d-1f3a-4b5c-8d7e-6f5a4b3c2d1e';

const failedCheck = {
  id: '48213',
  check_time: '2026-05-04T10:02:00.118Z',
  state: 'DEGRADED',
  previous_state: 'HEALTHY',
  success: false,
  response_time_ms: 3001.7,
  error_type: 'timeout',
  error_message: 'step 1 (tcp): connect to 10.0.0.7:22 timed out after 3000 ms',
  checked_by: 'scheduler',
  detail: { steps: [{ type: 'tcp', ms: 3001.7, success: false }] },
  job_id: JOB_ID,
} as const;

export const historyPageExample = response<typeof historyPageSchema>('HistoryPage', 'The newest check of a host, with more to come', {
  host_id: HOST_ID,
  checks: [failedCheck],
  next_cursor: encodeCursor(['2026-05-04 10:02:00.118342+00', '48213']),
});

export const transitionPageExample = response<typeof transitionPageSchema>('TransitionPage', 'The last state change of a host', {
  host_id: HOST_ID,
  transitions: [{ check_id: '48213', time: failedCheck.check_time, from: 'HEALTHY', to: 'DEGRADED', error_type: 'timeout', error_message: failedCheck.error_message }],
  next_cursor: null,
});

export const trendExample = response<typeof trendSchema>('HostTrend', 'Hourly buckets: one with a failure, one without checks', {
  host_id: HOST_ID,
  from: '2026-05-04T08:00:00.000Z',
  to: '2026-05-04T10:00:00.000Z',
  bucket_seconds: 3600,
  buckets: [
    { bucket_start: '2026-05-04T08:00:00.000Z', count: 2, failures: 1, avg: 1507.05, p95: 2852.235, min: 12.4, max: 3001.7 },
    { bucket_start: '2026-05-04T09:00:00.000Z', count: 0, failures: 0, avg: null, p95: null, min: null, max: null },
  ],
});

const exportRecords: z.output<typeof historyExportSchema> = [{ ...failedCheck, host_id: HOST_ID, host_name: 'ssh-7' }];
/** A file as the export writes it, by the encoders the route uses. */
const exportFile = (format: ExportFormat) => {
  const encoder = exportEncoder(format, EXPORT_COLUMNS);
  return encoder.head() + encoder.batch(exportRecords) + encoder.tail();
};

export const exportExamples: ApiExample[] = [
  { name: 'HistoryExportCsv', summary: 'format=csv: a header row, detail as JSON text', value: exportFile('csv'), mediaType: EXPORT_CONTENT_TYPES.csv },
  response<typeof historyExportSchema>('HistoryExportJson', 'format=json: one array, oldest first', exportRecords),
  { name: 'HistoryExportNdjson', summary: 'format=ndjson: one record per line', value: exportFile('ndjson'), mediaType: EXPORT_CONTENT_TYPES.ndjson },
];

export const summaryExample = response<typeof summarySchema>('MonitoringSummary', 'Two groups and hosts without one', {
  total: 124,
  enabled: 121,
  disabled: 3,
  by_state: { HEALTHY: 118, DEGRADED: 3, CRITICAL: 1, DOWN: 2, UNREACHABLE: 0 },
  by_group: [
    { group: 'dc1', total: 70, by_state: { HEALTHY: 69, DEGRADED: 1, CRITICAL: 0, DOWN: 0, UNREACHABLE: 0 } },
    { group: 'olt-site-a', total: 48, by_state: { HEALTHY: 45, DEGRADED: 2, CRITICAL: 0, DOWN: 1, UNREACHABLE: 0 } },
    { group: null, total: 6, by_state: { HEALTHY: 4, DEGRADED: 0, CRITICAL: 1, DOWN: 1, UNREACHABLE: 0 } },
  ],
});

const changedHost: z.output<typeof hostSchema> = {
  id: HOST_ID,
  name: 'ssh-7',
  address: '10.0.0.7',
  probes: [{ type: 'tcp', port: 22 }],
  enabled: true,
  maintenance: false,
  tags: [],
  group: 'dc1',
  policy_id: null,
  policy_overrides: {},
  monitoring_state: 'DEGRADED',
  current_status: 'degraded',
  consecutive_failures: 1,
  consecutive_successes: 0,
  check_priority: 6,
  next_check_time: '2026-05-04T10:07:00.118Z',
  last_state_change: failedCheck.check_time,
  last_check: failedCheck.check_time,
  response_time_ms: 3001.7,
  last_error_type: 'timeout',
  last_error_message: failedCheck.error_message,
  ssh_host_key_sha256: null,
  depends_on: [],
  flapping: false,
  flap_percent: 0,
  created_at: '2026-05-01T08:12:40.031Z',
  updated_at: failedCheck.check_time,
};

export const changesExample = response<typeof changesSchema>('HostChanges', 'One host changed and one deleted since the last poll', {
  changes: [changedHost],
  deleted: [{ id: '0c9d8e7f-6a5b-4c3d-8e1f-2a3b4c5d6e7f', deleted_at: '2026-05-04T10:01:12.500Z' }],
  next_cursor: encodeCursor(['1048577', '00000000-0000-0000-0000-000000000000']),
  has_more: false,
});

export const bulkRequestExample = request<typeof bulkHostsSchema>('HostBulkCreate', 'Two hosts in one request', {
  hosts: [
    { name: 'ssh-7', address: '10.0.0.7', probes: [{ type: 'tcp', port: 22 }], group: 'dc1' },
    { name: 'web-8', address: '10.0.0.8', probes: [{ type: 'http', url: 'https://10.0.0.8/health' }], tags: ['web'] },
  ],
});

export const bulkResultExample = response<typeof hostBulkResultSchema>('HostBulkResult', 'upsert=true: one host new, one changed', {
  dry_run: false,
  created: ['web-8'],
  changed: ['ssh-7'],
  unchanged: [],
});
