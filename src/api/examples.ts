import type { z } from 'zod';
import { PROBLEM_TITLES } from './problem.ts';
import type { ApiExample } from './route.ts';
import {
  bulkResultSchema,
  checkTaskSchema,
  credentialCreateSchema,
  credentialListSchema,
  credentialPatchSchema,
  credentialSchema,
  eventSchema,
  groupListSchema,
  groupSchema,
  groupUpdateSchema,
  hostCreateSchema,
  hostListSchema,
  hostPatchSchema,
  hostSchema,
  unreachableHostsSchema,
  jitResponseSchema,
  problemSchema,
  queueStatusSchema,
  sshHostKeyAcceptSchema,
  stateResponseSchema,
  statsSchema,
  workerListSchema,
  tokenCreateSchema,
  tokenCreatedSchema,
  tokenListSchema,
  tokenSchema,
  incidentSchema,
  incidentDetailSchema,
  incidentListSchema,
  webhookCreateSchema,
  webhookDeliveryPageSchema,
  webhookListSchema,
  webhookPatchSchema,
  webhookSchema,
} from './schemas.ts';
import { loadConfig } from '../config/config.ts';
import { fleetDefaults, resolvePolicy } from '../policies/resolve.ts';
import { serializeEffectivePolicy } from './policy-serialize.ts';

/**
 * Examples in openapi.yaml. Each is typed by the schema it illustrates (request examples as the
 * client sends them, response examples as the API answers), so a renamed field fails tsc; the
 * openapi unit test also validates every example in the document against its schema.
 * An operation gets the examples of its body's and responses' schemas unless its route names its own.
 */

/** An example of what a client sends for `schema`. */
function requestExample<S extends z.ZodType>(_schema: S, name: string, summary: string, value: z.input<S>): ApiExample {
  return { name, summary, value };
}

/** An example of what the API answers with `schema`. */
function responseExample<S extends z.ZodType>(_schema: S, name: string, summary: string, value: z.output<S>): ApiExample {
  return { name, summary, value };
}

const HOST_ID = '06909604-8df5-4680-bb1c-e7dc7f17dcbf';
const TASK_ID = '20cedcf6-7bad-4630-aaa1-beb9ff9656d4';
const CREDENTIAL_ID = '7bd85e07-dfc8-4565-ba69-84d5e4805af7';
const POLICY_ID = '5b0c8a2e-3f4d-4e6a-9b1c-7d2e8f9a0b1c';
const CHECKED_AT = '2026-05-04T10:00:00.412Z';
const HOST_KEY = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';

// ---- hosts ----------------------------------------------------------------------------------

const hostValue: z.output<typeof hostSchema> = {
  id: HOST_ID,
  name: 'web-1',
  address: '10.0.0.5',
  probes: [
    { type: 'tcp', port: 443 },
    { type: 'http', url: 'https://10.0.0.5/health', method: 'GET', expect_status: ['200-399'], follow_redirects: false, max_redirects: 5, tls_verify: true },
  ],
  enabled: true,
  maintenance: false,
  tags: ['web', 'prod'],
  group: 'dc1',
  policy_id: null,
  policy_overrides: { states: { HEALTHY: { interval_seconds: 60 } } },
  monitoring_state: 'HEALTHY',
  current_status: 'online',
  consecutive_failures: 0,
  consecutive_successes: 3,
  check_priority: 3,
  next_check_time: '2026-05-04T10:30:00.412Z',
  last_state_change: null,
  last_check: CHECKED_AT,
  response_time_ms: 12.4,
  last_error_type: null,
  last_error_message: null,
  ssh_host_key_sha256: null,
  depends_on: [],
  flapping: false,
  flap_percent: 0,
  created_at: '2026-05-01T08:12:40.031Z',
  updated_at: '2026-05-01T08:12:40.031Z',
};
const host = responseExample(hostSchema, 'Host', 'A host with a TCP and an HTTPS probe, healthy', hostValue);

const hostCreateExamples = [
  requestExample(hostCreateSchema, 'HostCreateHttp', 'A web server checked by its health URL', {
    name: 'web-1',
    address: '10.0.0.5',
    probes: [{ type: 'tcp', port: 443 }, { type: 'http', url: 'https://10.0.0.5/health' }],
    tags: ['web', 'prod'],
    group: 'dc1',
  }),
  requestExample(hostCreateSchema, 'HostCreateChain', 'An OLT: TCP 22, then SSH login, then SNMPv3, as one check', {
    name: 'olt-1',
    address: '10.0.1.1',
    probes: [
      { type: 'tcp', port: 22 },
      { type: 'ssh', credential_id: CREDENTIAL_ID, command: 'uptime' },
      { type: 'snmp', version: '3', credential_id: 'a1c3e2f4-5b6d-4e7f-8a9b-0c1d2e3f4a5b' },
    ],
    group: 'olt-site-a',
  }),
];

const hostPatchExamples = [
  requestExample(hostPatchSchema, 'HostPatchDisable', 'Stop checking a host', { enabled: false }),
  requestExample(hostPatchSchema, 'HostPatchProbes', 'Replace the probes (the host becomes due soon)', {
    probes: [{ type: 'http', url: 'https://10.0.0.5/ready', expect_status: [200, 204] }],
  }),
];

const sshHostKeyAcceptExamples = [
  requestExample(sshHostKeyAcceptSchema, 'SshHostKeyAcceptGiven', 'Trust this fingerprint', { host_key_sha256: HOST_KEY }),
  requestExample(sshHostKeyAcceptSchema, 'SshHostKeyAcceptObserved', 'Trust the key the latest check saw', {}),
];

const hostList = responseExample(hostListSchema, 'HostList', 'One page of hosts; pass next_cursor as `after` for the next', {
  hosts: [hostValue],
  next_cursor: 'web-1',
});

// ---- credentials ----------------------------------------------------------------------------

// The schema builds its has_<secret> flags from a list, so its type does not name them.
const credentialValue: z.output<typeof credentialSchema> & Record<`has_${string}`, boolean> = {
  id: CREDENTIAL_ID,
  name: 'ops-ssh',
  kind: 'ssh-password',
  username: 'ops',
  has_password: true,
  host_count: 2,
  created_at: '2026-05-01T08:10:02.557Z',
  updated_at: '2026-05-01T08:10:02.557Z',
};
const credential = responseExample(credentialSchema, 'Credential', 'An SSH password credential: the secret itself is never returned', credentialValue);

const credentialCreateExamples = [
  requestExample(credentialCreateSchema, 'CredentialCreateSshPassword', 'SSH login with a password', {
    name: 'ops-ssh',
    kind: 'ssh-password',
    username: 'ops',
    password: 's3cret-pass',
  }),
  requestExample(credentialCreateSchema, 'CredentialCreateSnmpV3', 'SNMPv3 with authentication and privacy', {
    name: 'noc-v3',
    kind: 'snmp-v3',
    username: 'noc',
    level: 'authPriv',
    auth_protocol: 'sha',
    auth_key: 'authpass1',
    priv_protocol: 'aes',
    priv_key: 'privpass1',
  }),
];

const credentialPatch = requestExample(credentialPatchSchema, 'CredentialPatchPassword', 'Rotate a password', { password: 'n3w-s3cret-pass' });

const credentialList = responseExample(credentialListSchema, 'CredentialList', 'The last page of credentials', {
  credentials: [credentialValue],
  next_cursor: null,
});

// ---- monitoring -----------------------------------------------------------------------------

const passedCheck = {
  check_time: CHECKED_AT,
  state: 'HEALTHY',
  previous_state: 'HEALTHY',
  success: true,
  response_time_ms: 12.4,
  error_type: null,
  error_message: null,
  checked_by: 'jit',
  detail: {
    steps: [
      { type: 'tcp', success: true, error_type: null, error_message: null, response_time_ms: 0.9, detail: { port: 443, remote_address: '10.0.0.5' } },
      { type: 'http', success: true, error_type: null, error_message: null, response_time_ms: 11.5, detail: { url: 'https://10.0.0.5/health', method: 'GET', status_code: 200 } },
    ],
  },
} as const;

const failedCheck = {
  check_time: '2026-05-04T09:30:00.108Z',
  state: 'DEGRADED',
  previous_state: 'HEALTHY',
  success: false,
  response_time_ms: 1.1,
  error_type: 'connection_refused',
  error_message: 'step 1 (tcp): connect ECONNREFUSED 10.0.0.5:443',
  checked_by: 'scheduler',
  detail: { steps: [{ type: 'tcp', success: false, error_type: 'connection_refused', error_message: 'connect ECONNREFUSED 10.0.0.5:443', response_time_ms: 1.1, detail: { port: 443 } }] },
} as const;

const jitHost = { host_id: HOST_ID, hostname: 'web-1', ip_address: '10.0.0.5', current_state: 'HEALTHY', current_status: 'online' } as const;

/** The JIT route's examples: its 200 and 202 answers look different. */
export const JIT_EXAMPLES = {
  fresh: responseExample(jitResponseSchema, 'JitCheckFresh', 'wait=true: the fresh result', {
    ...jitHost,
    last_check: CHECKED_AT,
    result_age_seconds: 0.02,
    response_time_ms: 12.4,
    check_queued: true,
    task_id: TASK_ID,
    priority: 9,
    message: 'Fresh check completed',
    result: passedCheck,
  }),
  cached: responseExample(jitResponseSchema, 'JitCheckCached', 'max_age=60: a recent enough result, no new check', {
    ...jitHost,
    last_check: CHECKED_AT,
    result_age_seconds: 41.7,
    response_time_ms: 12.4,
    check_queued: false,
    task_id: null,
    priority: null,
    message: 'Result measured 42 s ago is within max_age',
    result: passedCheck,
  }),
  queued: responseExample(jitResponseSchema, 'JitCheckQueued', 'Queued (or joined); poll the task', {
    ...jitHost,
    last_check: '2026-05-04T09:30:00.108Z',
    result_age_seconds: 1799.9,
    response_time_ms: 12.4,
    check_queued: true,
    task_id: TASK_ID,
    priority: 9,
    message: 'Fresh connectivity check queued with high priority',
    result: null,
  }),
};

const hostState = responseExample(stateResponseSchema, 'HostMonitoringState', 'Healthy again after a refused connection', {
  ...jitHost,
  consecutive_failures: 0,
  consecutive_successes: 3,
  next_check_time: '2026-05-04T10:30:00.412Z',
  last_state_change: '2026-05-04T09:50:00.233Z',
  check_priority: 3,
  response_time_ms: 12.4,
  last_check: CHECKED_AT,
  check_interval_info: { minutes: 10, description: 'Stable - 10 min checks' },
  effective_policy: serializeEffectivePolicy(
    POLICY_ID,
    resolvePolicy(fleetDefaults(loadConfig({})), [
      { source: { level: 'host' }, settings: { check_timeout_ms: 5000 } },
      { source: { level: 'host_policy', policy: 'critical-core' }, settings: { states: { HEALTHY: { interval_seconds: 600, priority: 5 } }, degraded_after_failures: 2 } },
    ]),
  ),
  maintenance: false,
  maintenance_window: {
    active: null,
    next: { window_id: '8f7e6d5c-4b3a-4921-8877-665544332211', label: 'Sunday patching', reason: 'OS updates and reboots', starts_at: '2026-05-10T00:00:00.000Z', ends_at: '2026-05-10T02:00:00.000Z' },
  },
  flapping: false,
  flap_percent: 8.42,
  failing_parents: [],
  last_result: passedCheck,
  recent_history: [passedCheck, failedCheck],
  latest_values: null,
});

const checkTask = responseExample(checkTaskSchema, 'CheckTask', 'A completed JIT check', {
  task_id: TASK_ID,
  host_id: HOST_ID,
  checked_by: 'jit',
  state: 'completed',
  priority: 9,
  created_on: '2026-05-04T10:00:00.390Z',
  started_on: '2026-05-04T10:00:00.398Z',
  completed_on: '2026-05-04T10:00:00.431Z',
  result: passedCheck,
});

// ---- groups ---------------------------------------------------------------------------------

const groupValue: z.output<typeof groupSchema> = {
  name: 'olt-site-a',
  max_concurrent_checks: 4,
  maintenance: false,
  policy_id: null,
  gateway_host_id: '5b0d1c2e-3f4a-4b5c-8d6e-7f8091a2b3c4',
  configured: true,
  host_count: 48,
  by_state: { HEALTHY: 45, DEGRADED: 2, DOWN: 1 },
};
const group = responseExample(groupSchema, 'Group', 'A group behind one OLT, four checks at a time', groupValue);
const groupList = responseExample(groupListSchema, 'GroupList', 'Every group', { groups: [groupValue] });
const groupUpdateExamples = [
  requestExample(groupUpdateSchema, 'GroupUpdateLimit', 'At most four checks of the group at once', { max_concurrent_checks: 4 }),
  requestExample(groupUpdateSchema, 'GroupUpdateMaintenance', 'Put the whole group in maintenance', { maintenance: true }),
];
const groupBulkResult = responseExample(bulkResultSchema, 'GroupBulkResult', 'Hosts of the group changed', { group: 'olt-site-a', affected: 48 });

// ---- operations -----------------------------------------------------------------------------

const queueStatus = responseExample(queueStatusSchema, 'QueueStatus', 'Keeping up: a few checks waiting, none late', {
  waiting_by_priority: [
    { lane: 'failing', priority: 9, waiting: 2 },
    { lane: 'normal', priority: 3, waiting: 14 },
  ],
  waiting_total: 16,
  oldest_lag_seconds: 0.8,
  delay_threshold_seconds: 60,
  overloaded: false,
  next_due: [{ host_id: HOST_ID, name: 'web-1', next_check_time: '2026-05-04T10:30:00.412Z', monitoring_state: 'HEALTHY', check_priority: 3 }],
});

const workerList = responseExample(workerListSchema, 'WorkerList', 'One worker process, lightly loaded', {
  workers: [
    {
      id: '5d2f8a61-3c4b-4e9a-9f7d-2b1c0e8a6f43',
      hostname: 'vigil-worker-1',
      pid: 4107,
      concurrency: 10,
      running: 2,
      busy_percent: 23.5,
      checks_done: 18_240,
      started_at: '2026-05-01T08:00:04.118Z',
      last_heartbeat: '2026-05-04T09:59:58.002Z',
      saturated: false,
    },
  ],
});

const monitoringStats = responseExample(statsSchema, 'MonitoringStats', 'The last hour', {
  window_seconds: 3600,
  hosts_by_state: { HEALTHY: 118, DEGRADED: 3, CRITICAL: 1, DOWN: 2, UNREACHABLE: 40 },
  checks: { checks: 1860, checks_per_minute: 31, success_rate: 0.982, avg_duration_ms: 41.7, p95_duration_ms: 180.2, delayed: 0 },
  by_probe_type: {
    tcp: { checks: 1200, checks_per_minute: 20, success_rate: 0.997, avg_duration_ms: 3.1, p95_duration_ms: 9.8, delayed: 0 },
    http: { checks: 660, checks_per_minute: 11, success_rate: 0.955, avg_duration_ms: 110.4, p95_duration_ms: 290.5, delayed: 0 },
  },
});

/**
 * Examples by schema: every operation whose body or response uses the schema shows them. An
 * example with a mediaType is shown for that type of a response documented in several (the
 * export's CSV and NDJSON beside its JSON).
 */
// ---- tokens ---------------------------------------------------------------------------------

const tokenValue: z.output<typeof tokenSchema> = {
  id: '5b0f3c5e-2d0a-4c55-9a43-36b1f7a0d9e2',
  name: 'scanner',
  scopes: ['check'],
  prefix: 'vgl_Xq3kP0aZ',
  created_at: '2026-05-01T08:00:00.000Z',
  expires_at: '2026-07-30T08:00:00.000Z',
  revoked_at: null,
  last_used_at: CHECKED_AT,
};
const tokenCreateExamples = [
  requestExample(tokenCreateSchema, 'TokenCreateScanner', 'A token for a compliance scanner: JIT checks and state, for 90 days', { name: 'scanner', scopes: ['check'], expires_in_days: 90 }),
];
const tokenCreated = responseExample(tokenCreatedSchema, 'TokenCreated', 'The token is shown in this response only', {
  ...tokenValue,
  last_used_at: null,
  token: 'vgl_Xq3kP0aZ7rS2d9Lm4Qw8Ey1Tn6Vb3Hc5Jf0Kp2Gx7Ua',
});
const tokenRevoked = responseExample(tokenSchema, 'TokenRevoked', 'A revoked token', { ...tokenValue, revoked_at: '2026-05-05T09:00:00.000Z' });
const tokenList = responseExample(tokenListSchema, 'TokenList', 'Tokens by creation; never the tokens themselves', { tokens: [tokenValue] });

export const SCHEMA_EXAMPLES = new Map<z.ZodType, ApiExample[]>([
  [hostCreateSchema, hostCreateExamples],
  [hostPatchSchema, hostPatchExamples],
  [sshHostKeyAcceptSchema, sshHostKeyAcceptExamples],
  [hostSchema, [host]],
  [hostListSchema, [hostList]],
  [credentialCreateSchema, credentialCreateExamples],
  [credentialPatchSchema, [credentialPatch]],
  [credentialSchema, [credential]],
  [credentialListSchema, [credentialList]],
  [stateResponseSchema, [hostState]],
  [checkTaskSchema, [checkTask]],
  [groupSchema, [group]],
  [groupListSchema, [groupList]],
  [groupUpdateSchema, groupUpdateExamples],
  [bulkResultSchema, [groupBulkResult]],
  [queueStatusSchema, [queueStatus]],
  [workerListSchema, [workerList]],
  [statsSchema, [monitoringStats]],
  [tokenCreateSchema, tokenCreateExamples],
  [tokenCreatedSchema, [tokenCreated]],
  [tokenSchema, [tokenRevoked]],
  [tokenListSchema, [tokenList]],
]);

// ---- problems -------------------------------------------------------------------------------

const problem = (name: string, summary: string, value: z.output<typeof problemSchema>) => responseExample(problemSchema, name, summary, value);

/** A 400 names every bad field: in the body, the query or the path, as the operation has them. */
export const BAD_REQUEST_EXAMPLES = {
  body: problem('BodyValidationProblem', 'Every bad field of the body named', {
    type: 'about:blank',
    title: 'Bad Request',
    status: 400,
    detail: 'invalid request: body.address, body.probes.0.port',
    errors: [
      { field: 'body.address', message: 'must be a host name or an IP address' },
      { field: 'body.probes.0.port', message: 'Too small: expected number to be >=1' },
    ],
  }),
  query: problem('QueryValidationProblem', 'A query parameter out of range', {
    type: 'about:blank',
    title: 'Bad Request',
    status: 400,
    detail: 'invalid request: query.limit',
    errors: [{ field: 'query.limit', message: 'Too big: expected number to be <=1000' }],
  }),
  path: problem('PathValidationProblem', 'A malformed id in the path', {
    type: 'about:blank',
    title: 'Bad Request',
    status: 400,
    detail: 'invalid request: path.host_id',
    errors: [{ field: 'path.host_id', message: 'Invalid UUID' }],
  }),
  unknownQuery: problem('UnknownQueryProblem', 'A query parameter the operation does not take', {
    type: 'about:blank',
    title: 'Bad Request',
    status: 400,
    detail: 'invalid request: query.verbose',
    errors: [{ field: 'query.verbose', message: 'unknown query parameter' }],
  }),
};

/** A problem example as the error handler writes one: the status's title, and a detail. */
const statusProblem = (name: string, summary: string, status: number, detail: string) =>
  problem(name, summary, { type: 'about:blank', title: PROBLEM_TITLES[status]!, status, detail });

/** Problem examples by status, for every problem+json response with that status but 400. */
export const PROBLEM_EXAMPLES: Partial<Record<number, ApiExample>> = {
  401: statusProblem('UnauthorizedProblem', 'No bearer token', 401, 'send an API token as Authorization: Bearer <token>'),
  403: statusProblem('ForbiddenProblem', 'A token without the scope the operation needs', 403, 'this operation needs a token with scope admin'),
  413: statusProblem('PayloadTooLargeProblem', 'A body over the limit', 413, 'request body is too large'),
  415: statusProblem('UnsupportedMediaTypeProblem', 'A body that is not application/json', 415, 'send the body as application/json'),
  429: statusProblem('RateLimitedProblem', 'Too many JIT checks for one token', 429, 'this token may request 120 JIT checks a minute; retry in 1 s'),
  503: statusProblem('UnavailableProblem', 'The database is unreachable', 503, 'the database is unreachable; retry shortly'),
};

// ---- events and incidents -------------------------------------------------------------------

const eventValue: z.output<typeof eventSchema> = {
  id: '42',
  type: 'state_changed',
  occurred_at: CHECKED_AT,
  host: { id: HOST_ID, name: 'web-1', group: null },
  from_state: 'HEALTHY',
  to_state: 'DEGRADED',
  reason: 'connect ECONNREFUSED 10.0.0.5:443',
  incident_id: null,
  check_id: '1042',
  job_id: TASK_ID,
};
/** One event: a webhook delivery's body, and the data of an event on the stream. */
export const EVENT_EXAMPLE = responseExample(eventSchema, 'Event', 'A host going from HEALTHY to DEGRADED', eventValue);

export const EVENT_STREAM_EXAMPLE: ApiExample = {
  name: 'EventStream',
  summary: 'A heartbeat and one state change',
  mediaType: 'text/event-stream',
  value: `: heartbeat\n\nid: 42\nevent: state_changed\ndata: ${JSON.stringify(eventValue)}\n\n`,
};

const incidentValue: z.output<typeof incidentSchema> = {
  id: 'c5a1a3f0-4f1e-4e0a-9d6f-1f4b6c2d9e11',
  host_id: HOST_ID,
  host_name: 'web-1',
  host_group: null,
  status: 'open',
  trigger_state: 'DOWN',
  current_state: 'DOWN',
  failure_count: 4,
  last_error_type: 'connection_refused',
  last_error_message: 'connect ECONNREFUSED 10.0.0.5:443',
  opened_at: CHECKED_AT,
  updated_at: CHECKED_AT,
  resolved_at: null,
  acknowledged_at: null,
  acknowledged_by: null,
  unreachable_count: 0,
};
const incidentExample = responseExample(incidentSchema, 'Incident', 'An open incident, acknowledged by the scanner token', {
  ...incidentValue,
  acknowledged_at: CHECKED_AT,
  acknowledged_by: 'oncall',
});
const incidentDetail = responseExample(incidentDetailSchema, 'IncidentDetail', 'An open incident and its timeline', {
  ...incidentValue,
  timeline: [{ event_id: '41', type: 'incident_opened', at: CHECKED_AT, from_state: 'CRITICAL', to_state: 'DOWN', reason: 'connect ECONNREFUSED 10.0.0.5:443', check_id: '1041' }],
});
const incidentList = responseExample(incidentListSchema, 'IncidentList', 'Open incidents', { incidents: [incidentValue], next_cursor: null });
const unreachableHosts = responseExample(unreachableHostsSchema, 'IncidentUnreachableHosts', 'The first page of the hosts an OLT made UNREACHABLE', {
  hosts: [
    { host_id: '6d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6', name: 'ont-0001', group: 'olt-site-a', monitoring_state: 'UNREACHABLE', since: CHECKED_AT },
    { host_id: '7e2f3a4b-5c6d-4e7f-9081-92a3b4c5d6e7', name: 'ont-0002', group: 'olt-site-a', monitoring_state: 'UNREACHABLE', since: CHECKED_AT },
  ],
  next_cursor: 'ont-0002',
});
for (const [schema, examples] of [[incidentSchema, [incidentExample]], [incidentDetailSchema, [incidentDetail]], [incidentListSchema, [incidentList]], [unreachableHostsSchema, [unreachableHosts]]] as const) {
  SCHEMA_EXAMPLES.set(schema, examples as unknown as ApiExample[]);
}

// ---- webhooks -------------------------------------------------------------------------------

const WEBHOOK_ID = '3f0c8a52-9d7e-4b1a-8c6f-2e5d4a7b9c10';
const webhookValue: z.output<typeof webhookSchema> = {
  id: WEBHOOK_ID,
  url: 'https://alerts.example.com/vigil',
  has_secret: true,
  event_types: ['state_changed', 'incident_opened', 'incident_resolved'],
  states: [],
  groups: ['olt-site-a'],
  enabled: true,
  after_event_id: '40',
  created_at: '2026-05-01T08:20:00.000Z',
  updated_at: '2026-05-01T08:20:00.000Z',
};
const webhookCreateExamples = [
  requestExample(webhookCreateSchema, 'WebhookCreateSigned', 'State changes and incidents of one group, signed', {
    url: 'https://alerts.example.com/vigil',
    secret: 'whsec_5f2b9c0e8d7a4f61b3c2e9d8a7f6b5c4',
    event_types: ['state_changed', 'incident_opened', 'incident_resolved'],
    groups: ['olt-site-a'],
  }),
  requestExample(webhookCreateSchema, 'WebhookCreateDown', 'Every host that goes DOWN', { url: 'https://chat.example.com/hooks/vigil', secret: 'whsec_0a1b2c3d4e5f60718293a4b5c6d7e8f9', states: ['DOWN'] }),
];
const webhookPatchExamples = [
  requestExample(webhookPatchSchema, 'WebhookPatchRotateSecret', 'Rotate the signing secret', { secret: 'whsec_9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b' }),
  requestExample(webhookPatchSchema, 'WebhookPatchDisable', 'Pause a subscription (pending deliveries are dropped)', { enabled: false }),
];
const webhookExample = responseExample(webhookSchema, 'Webhook', 'A signed subscription to one group (the secret is never returned)', webhookValue);
const webhookList = responseExample(webhookListSchema, 'WebhookList', 'Every subscription', { webhooks: [webhookValue] });
const webhookDeliveryPage = responseExample(webhookDeliveryPageSchema, 'WebhookDeliveryPage', 'One delivered event and one waiting for its third attempt', {
  webhook_id: WEBHOOK_ID,
  deliveries: [
    {
      id: '118',
      event_id: '43',
      event_type: 'incident_opened',
      status: 'pending',
      attempts: 2,
      last_status_code: 502,
      last_error: 'HTTP 502',
      latency_ms: 31.2,
      created_at: '2026-05-04T10:02:00.507Z',
      last_attempt_at: '2026-05-04T10:02:03.118Z',
      delivered_at: null,
      failed_at: null,
      next_attempt_at: '2026-05-04T10:02:09.930Z',
    },
    {
      id: '117',
      event_id: '42',
      event_type: 'state_changed',
      status: 'delivered',
      attempts: 1,
      last_status_code: 200,
      last_error: null,
      latency_ms: 18.6,
      created_at: '2026-05-04T10:00:00.509Z',
      last_attempt_at: '2026-05-04T10:00:00.611Z',
      delivered_at: '2026-05-04T10:00:00.611Z',
      failed_at: null,
      next_attempt_at: null,
    },
  ],
  next_cursor: 'WyIxMTciXQ',
});
for (const [schema, examples] of [
  [webhookCreateSchema, webhookCreateExamples],
  [webhookPatchSchema, webhookPatchExamples],
  [webhookSchema, [webhookExample]],
  [webhookListSchema, [webhookList]],
  [webhookDeliveryPageSchema, [webhookDeliveryPage]],
] as const) {
  SCHEMA_EXAMPLES.set(schema, examples as unknown as ApiExample[]);
}
