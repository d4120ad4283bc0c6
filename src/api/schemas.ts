import { z } from 'zod';
import { ITEM_KINDS } from '../values/items.ts';
import { HOST_STATES } from '../machine/states.ts';
import { CHECKED_BY, HISTORY_SOURCES } from '../machine/check-outcome.ts';
import { ERROR_TYPES } from '../probes/types.ts';
import { probeConfigSchema, type ProbeType } from '../probes/index.ts';
import { HOST_SORTS } from '../db/queries/host-list.ts';
import { cursorParam, isStorableInstant, pgBigint } from './cursor.ts';
import { SCOPES } from '../auth/tokens.ts';
import { EVENT_TYPES } from '../db/queries/events.ts';
import { DELIVERY_STATUSES } from '../db/queries/webhooks.ts';
import { named } from './registry.ts';
import { effectivePolicySchema, policySettingsSchema } from './policy-schemas.ts';
import { hostWindowsSchema } from './maintenance-window-schemas.ts';
import { CREDENTIAL_KINDS, credentialFieldsByKind, SECRET_FIELDS, snmpV3Problems } from '../credentials/kinds.ts';

/**
 * Request and response shapes of the HTTP API. The same schemas validate requests and generate
 * openapi.yaml; schemas registered in `apiRegistry` become named components.
 */
export { apiRegistry } from './registry.ts';

const isoTime = z.iso.datetime({ offset: true });
export const hostStateSchema = named('HostState', z.enum(HOST_STATES).describe('Health state of a host'));
export const currentStatusSchema = z
  .enum(['online', 'degraded', 'critical', 'offline', 'unreachable', 'unknown'])
  .describe('Plain-word status: HEALTHY=online, DEGRADED=degraded, CRITICAL=critical, DOWN=offline, UNREACHABLE=unreachable (a parent is failing); unknown before the first check');
const errorTypeSchema = z.enum(ERROR_TYPES).nullable().describe('Why the check failed; null on success');

// Host names and addresses: what DNS names, IPv4 and IPv6 literals are made of, nothing else.
const addressSchema = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9._:%\-[\]]+$/, 'must be a host name or an IP address')
  .describe('Host name or IP address the probes connect to');

const PROBE_TYPES = probeConfigSchema.options.map((o) => o.shape.type.value) as [ProbeType, ...ProbeType[]];

export const hostIdParams = z.object({ host_id: z.uuid().describe('Host id') }).strict();
export const taskIdParams = z.object({ task_id: z.uuid().describe('Task (job) id returned by a JIT check') }).strict();

export const probesSchema = named(
  'ProbeList',
  z.array(probeConfigSchema).min(1).max(8).describe('Probes run in order as one check; the first failure ends it'),
);

const dependsOnSchema = z
  .array(z.uuid())
  .max(16)
  .refine((ids) => new Set(ids).size === ids.length, 'parents must not repeat')
  .describe("Ids of the parent hosts this host sits behind (its group's gateway is a parent too): while one is failing, the host's failures make it UNREACHABLE");

export const hostCreateSchema = named(
  'HostCreate',
  z
    .object({
      name: z.string().trim().min(1).max(255).describe('Unique host name'),
      address: addressSchema,
      probes: probesSchema,
      enabled: z.boolean().default(true).describe('Disabled hosts are not checked'),
      maintenance: z.boolean().default(false).describe('In maintenance: no scheduled checks; JIT checks run but do not change the state'),
      tags: z.array(z.string().trim().min(1).max(64)).max(32).default([]).describe('Free-form labels'),
      group: z.string().trim().min(1).max(255).nullable().default(null).describe('Group (site, OLT, jump host) the host sits behind'),
      policy_id: z.uuid().nullable().default(null).describe("Check policy of the host (null: its group's, else the fleet defaults)"),
      policy_overrides: policySettingsSchema.default({}).describe('Policy fields set on this host alone, above its policy'),
      depends_on: dependsOnSchema.default([]),
    })
    .strict(),
);

export const hostPatchSchema = named(
  'HostPatch',
  z
    .object({
      name: z.string().trim().min(1).max(255),
      address: addressSchema,
      probes: probesSchema,
      enabled: z.boolean(),
      maintenance: z.boolean(),
      tags: z.array(z.string().trim().min(1).max(64)).max(32),
      group: z.string().trim().min(1).max(255).nullable(),
      policy_id: z.uuid().nullable().describe("Check policy of the host (null: its group's, else the fleet defaults)"),
      policy_overrides: policySettingsSchema.describe('Replaces the host\'s own policy fields; a field left out falls back to its policy'),
      depends_on: dependsOnSchema,
    })
    .partial()
    .strict()
    .refine((p) => Object.keys(p).length > 0, 'give at least one field to change'),
);

export const hostSchema = named(
  'Host',
  z.object({
    id: z.uuid(),
    name: z.string(),
    address: z.string(),
    probes: z.array(z.record(z.string(), z.unknown())).describe('Probe configs; secret-looking header values are masked'),
    enabled: z.boolean(),
    maintenance: z.boolean().describe("The host's own maintenance flag (its group may also be in maintenance)"),
    tags: z.array(z.string()),
    group: z.string().nullable(),
    policy_id: z.uuid().nullable().describe("The host's check policy (null: its group's, else the fleet defaults)"),
    policy_overrides: policySettingsSchema.describe('Policy fields set on this host alone'),
    monitoring_state: hostStateSchema,
    current_status: currentStatusSchema,
    consecutive_failures: z.int(),
    consecutive_successes: z.int(),
    check_priority: z.int(),
    next_check_time: isoTime,
    last_state_change: isoTime.nullable(),
    last_check: isoTime.nullable().describe('When the last check was measured'),
    response_time_ms: z.number().nullable(),
    last_error_type: z.string().nullable(),
    last_error_message: z.string().nullable(),
    ssh_host_key_sha256: z.string().nullable().describe('SSH host key trusted on first use (or pinned by accept)'),
    depends_on: z.array(z.uuid()).describe("The host's own parents (its group's gateway, if any, is a parent too)"),
    flapping: z.boolean().describe('Its state changes too often (weighted state-change percentage above the high threshold, not yet back below the low one)'),
    flap_percent: z.number().describe('Weighted state-change percentage over the last 20 checks (0–100)'),
    created_at: isoTime,
    updated_at: isoTime,
  }),
);

export const hostListQuery = z
  .object({
    state: hostStateSchema.optional(),
    enabled: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    maintenance: z.enum(['true', 'false']).transform((v) => v === 'true').optional().describe("In maintenance (the host's own flag, its group's or a scheduled window)"),
    group: z.string().min(1).max(255).optional(),
    tag: z.string().min(1).max(64).optional(),
    probe: z.enum(PROBE_TYPES).optional().describe('Only hosts with a probe of this type'),
    q: z.string().trim().min(1).max(255).optional().describe('Only hosts whose name or address contains this (case-insensitive; % and _ are literal)'),
    sort: z.enum(HOST_SORTS).default('name').describe('name; state: worst first; last_check: least recently checked first; a leading - reverses'),
    after: cursorParam(z.tuple([z.enum(HOST_SORTS), z.string(), z.string()]), 'Cursor: the next_cursor of the previous page (same sort)').optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.after && q.after[0] !== q.sort) ctx.addIssue({ code: 'custom', path: ['after'], message: `this cursor belongs to sort=${q.after[0]}` });
  });

export const hostListSchema = named(
  'HostList',
  z.object({ hosts: z.array(hostSchema), next_cursor: z.string().nullable().describe('Pass as `after` for the next page; null at the end') }),
);

export const checkResultSchema = named(
  'CheckResult',
  z.object({
    check_time: isoTime.describe('When the check was measured'),
    state: hostStateSchema,
    previous_state: hostStateSchema,
    success: z.boolean(),
    response_time_ms: z.number().nullable(),
    error_type: errorTypeSchema,
    error_message: z.string().nullable(),
    checked_by: z.enum(HISTORY_SOURCES).describe('reset: not a check, POST /api/groups/{group}/reset put the host back to HEALTHY'),
    detail: z.record(z.string(), z.unknown()).describe('Probe facts: status code, certificate expiry, values read, steps, schedule lag'),
  }),
);

export const jitQuery = z
  .object({
    wait: z.enum(['true', 'false']).transform((v) => v === 'true').default(false).describe('Wait for the result (200) instead of answering 202 at once'),
    timeout: z.coerce.number().min(0.1).max(60).default(15).describe('Seconds to wait with wait=true'),
    max_age: z.coerce.number().min(0).max(86_400).optional().describe('Return a result at most this many seconds old without a new check'),
  })
  .strict();

export const jitResponseSchema = named(
  'JitCheck',
  z.object({
    host_id: z.uuid(),
    hostname: z.string(),
    ip_address: z.string(),
    current_state: hostStateSchema,
    current_status: currentStatusSchema,
    last_check: isoTime.nullable().describe('When the result below (or the last one) was measured'),
    result_age_seconds: z.number().nullable().describe('Age of that result when answering'),
    response_time_ms: z.number().nullable(),
    check_queued: z.boolean().describe('true when a check was queued or joined for this request'),
    task_id: z.uuid().nullable().describe('Job id of the check; poll GET /api/monitoring/checks/{task_id}'),
    priority: z.int().nullable(),
    message: z.string(),
    result: checkResultSchema.nullable().describe('The fresh result (wait=true or max_age hit); null while pending'),
  }),
);

/** Values (src/values/): one reading of an item, and what the latest check collected. */
export const sampleSchema = named(
  'ValueSample',
  z.object({
    template: z.string(),
    item: z.string(),
    unit: z.string(),
    kind: z.enum(ITEM_KINDS),
    row: z.string().nullable().describe('Row label for table items (label column or index); null for scalars'),
    value: z.number(),
    rate: z.number().nullable().optional().describe('Counters: increase per second since the previous check; null on the first reading or after a reset'),
  }),
);

export const latestValuesSchema = named(
  'LatestValues',
  z.object({ collected_at: isoTime, samples: z.array(sampleSchema) }).describe('The values the latest check collected'),
);

export const stateResponseSchema = named(
  'HostMonitoringState',
  z.object({
    host_id: z.uuid(),
    hostname: z.string(),
    ip_address: z.string(),
    current_state: hostStateSchema,
    current_status: currentStatusSchema,
    consecutive_failures: z.int(),
    consecutive_successes: z.int(),
    next_check_time: isoTime,
    last_state_change: isoTime.nullable(),
    check_priority: z.int(),
    response_time_ms: z.number().nullable(),
    last_check: isoTime.nullable(),
    check_interval_info: z.object({ minutes: z.number(), description: z.string() }).describe("The current state's interval in the host's effective policy"),
    effective_policy: effectivePolicySchema,
    maintenance: z.boolean().describe('In maintenance (its own flag, its group\'s or a scheduled window): no scheduled checks'),
    maintenance_window: hostWindowsSchema,
    flapping: z.boolean().describe('Its state changes too often: state changes are not announced while it flaps (flapping_started/flapping_stopped instead)'),
    flap_percent: z.number().describe('Weighted state-change percentage over the last 20 checks (0–100)'),
    failing_parents: z
      .array(z.object({ host_id: z.uuid(), name: z.string(), state: hostStateSchema }))
      .describe('Its parents (and theirs, up to the configured depth) failing now (CRITICAL, DOWN or UNREACHABLE): a failed check makes it UNREACHABLE'),
    last_result: checkResultSchema.nullable(),
    recent_history: z.array(checkResultSchema).describe('The last 10 checks, newest first'),
    latest_values: latestValuesSchema.nullable().describe("The values the latest check collected (the host's value templates); null when it has none"),
  }),
);

export const checkTaskSchema = named(
  'CheckTask',
  z.object({
    task_id: z.uuid(),
    host_id: z.uuid(),
    checked_by: z.enum(CHECKED_BY),
    state: z.enum(['created', 'retry', 'active', 'completed', 'cancelled', 'failed']).describe('pg-boss job state'),
    priority: z.int().nullable(),
    created_on: isoTime.nullable(),
    started_on: isoTime.nullable(),
    completed_on: isoTime.nullable(),
    result: checkResultSchema.nullable(),
  }),
);

export const problemSchema = named(
  'Problem',
  z.object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional().describe('Per-field validation errors'),
  }),
);

// ---- credentials ----------------------------------------------------------------------------

const credentialName = z.string().trim().min(1).max(255).describe('Unique credential name');

export const credentialCreateSchema = named(
  'CredentialCreate',
  z.discriminatedUnion(
    'kind',
    CREDENTIAL_KINDS.map((kind) => {
      const base = z.object({ name: credentialName, kind: z.literal(kind) }).extend(credentialFieldsByKind[kind].shape).strict();
      return kind === 'snmp-v3'
        ? base.superRefine((v, ctx) => snmpV3Problems(v).forEach((p) => ctx.addIssue({ code: 'custom', path: [p.field], message: p.message })))
        : base;
    }) as unknown as [z.ZodObject, ...z.ZodObject[]],
  ),
);

export const credentialPatchSchema = named(
  'CredentialPatch',
  z
    .object({
      name: credentialName,
      ...credentialFieldsByKind['ssh-key'].shape,
      ...credentialFieldsByKind['snmp-v3'].shape,
      ...credentialFieldsByKind['http-basic'].shape,
      ...credentialFieldsByKind['snmp-community'].shape,
      ...credentialFieldsByKind['http-bearer'].shape,
      ...credentialFieldsByKind['http-secret'].shape,
    })
    .partial()
    .strict()
    .refine((p) => Object.keys(p).length > 0, 'give at least one field to change')
    .describe("Fields to change; they must belong to the credential's kind. Secrets given replace the stored ones."),
);

export const credentialSchema = named(
  'Credential',
  z
    .object({
      id: z.uuid(),
      name: z.string(),
      kind: z.enum(CREDENTIAL_KINDS),
      username: z.string().optional(),
      level: z.enum(['noAuthNoPriv', 'authNoPriv', 'authPriv']).optional(),
      auth_protocol: z.string().optional(),
      priv_protocol: z.string().optional(),
      ...Object.fromEntries(SECRET_FIELDS.map((f) => [`has_${f}`, z.boolean().optional()])),
      host_count: z.int().describe('Hosts whose probes use it'),
      created_at: isoTime,
      updated_at: isoTime,
    })
    .describe('A credential: public fields and has_<secret> flags; secrets are never returned'),
);

export const credentialIdParams = z.object({ credential_id: z.uuid().describe('Credential id') }).strict();
export const credentialListQuery = z
  .object({
    kind: z.enum(CREDENTIAL_KINDS).optional(),
    after: z.string().min(1).max(255).optional().describe('Cursor: next_cursor of the previous page'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();
export const credentialListSchema = named('CredentialList', z.object({ credentials: z.array(credentialSchema), next_cursor: z.string().nullable() }));

export const sshHostKeyAcceptSchema = named(
  'SshHostKeyAccept',
  z
    .object({
      host_key_sha256: z
        .string()
        .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must look like SHA256:<43 base64 characters>, as ssh-keygen -lf prints')
        .optional()
        .describe('Fingerprint to trust; omitted = the one the latest check saw'),
    })
    .strict(),
);

// ---- groups -----------------------------------------------------------------------------------

export const groupParams = z.object({ group: z.string().min(1).max(255).describe('Group name') }).strict();

export const groupSchema = named(
  'Group',
  z.object({
    name: z.string(),
    max_concurrent_checks: z.int().describe('Checks of this group that may run at once, across all workers'),
    maintenance: z.boolean().describe('Whole group in maintenance'),
    policy_id: z.uuid().nullable().describe('Check policy of hosts in the group that have none of their own'),
    gateway_host_id: z.uuid().nullable().describe('The host every member depends on (an OLT, a jump host), or null'),
    configured: z.boolean().describe('false when only named on hosts (default settings)'),
    host_count: z.int(),
    by_state: z.record(z.string(), z.int()).describe('Hosts per state'),
  }),
);
export const groupListSchema = named('GroupList', z.object({ groups: z.array(groupSchema) }));

export const groupUpdateSchema = named(
  'GroupUpdate',
  z
    .object({
      max_concurrent_checks: z.int().min(1).max(1000).describe('Limits above 64 are rounded down to one of a few steps'),
      maintenance: z.boolean(),
      policy_id: z.uuid().nullable().describe("Check policy of the group's hosts that have none of their own (null: none); they are rescheduled at once"),
      gateway_host_id: z.uuid().nullable().describe('The host every member depends on (while it is failing, members that fail are UNREACHABLE); null removes it'),
    })
    .partial()
    .strict()
    .refine((p) => Object.keys(p).length > 0, 'give at least one field to change'),
);

export const bulkResultSchema = named(
  'GroupBulkResult',
  z.object({ group: z.string(), affected: z.int().describe('Hosts changed') }),
);

// ---- operations: queue, workers, stats ----------------------------------------------------------

export const queueStatusSchema = named(
  'QueueStatus',
  z.object({
    waiting_by_priority: z.array(z.object({ lane: z.enum(['normal', 'failing']), priority: z.int(), waiting: z.int() })),
    waiting_total: z.int(),
    oldest_lag_seconds: z.number().describe('How late the most overdue scheduled check is (unclaimed due host or queued job)'),
    delay_threshold_seconds: z.number(),
    overloaded: z.boolean().describe('oldest_lag_seconds is above the delay threshold'),
    next_due: z.array(z.object({ host_id: z.uuid(), name: z.string(), next_check_time: isoTime, monitoring_state: hostStateSchema, check_priority: z.int() })),
  }),
);

export const workerListSchema = named(
  'WorkerList',
  z.object({
    workers: z.array(
      z.object({
        id: z.uuid(),
        hostname: z.string(),
        pid: z.int(),
        concurrency: z.int().describe('Check slots (both lanes)'),
        running: z.int().describe('Checks running now'),
        busy_percent: z.number().describe('Slot time busy over the last minute'),
        checks_done: z.int(),
        started_at: isoTime,
        last_heartbeat: isoTime,
        saturated: z.boolean().describe('busy_percent above 75'),
      }),
    ),
  }),
);

const checkStats = z.object({
  checks: z.int(),
  checks_per_minute: z.number().describe('Over the last 5 minutes'),
  success_rate: z.number().nullable().describe('0–1; null without checks'),
  avg_duration_ms: z.number().nullable(),
  p95_duration_ms: z.number().nullable(),
  delayed: z.int().describe('Checks that started later than the delay threshold'),
});

/** Hosts per state: every state is a key, so a client never meets a missing one. */
export const hostsByStateSchema = z
  .object(Object.fromEntries(HOST_STATES.map((s) => [s, z.int()])) as Record<(typeof HOST_STATES)[number], z.ZodInt>)
  .describe('Hosts per state (every state present, 0 when none)');

export const statsSchema = named(
  'MonitoringStats',
  z.object({
    window_seconds: z.int(),
    hosts_by_state: hostsByStateSchema,
    checks: checkStats,
    by_probe_type: z.record(z.string(), checkStats),
  }),
);

export const statsQuery = z.object({ window: z.coerce.number().int().min(60).max(7 * 86_400).default(3600).describe('Seconds of history to summarise') }).strict();

// ---- tokens -----------------------------------------------------------------------------------

export const tokenCreateSchema = named(
  'TokenCreate',
  z
    .object({
      name: z.string().trim().min(1).max(255).describe('What the token is for, e.g. scanner'),
      scopes: z
        .array(z.enum(SCOPES))
        .min(1)
        .max(3)
        .refine((s) => new Set(s).size === s.length, 'scopes must not repeat')
        .describe('read: read-only routes; check: JIT checks, host state, check tasks; admin: everything'),
      expires_in_days: z.int().min(1).max(3650).optional().describe('Expiry; without it the token lives until revoked'),
    })
    .strict(),
);

export const tokenSchema = named(
  'Token',
  z.object({
    id: z.uuid(),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    prefix: z.string().describe('The first characters of the token, to recognise it'),
    created_at: isoTime,
    expires_at: isoTime.nullable(),
    revoked_at: isoTime.nullable(),
    last_used_at: isoTime.nullable(),
  }),
);

export const tokenCreatedSchema = named(
  'TokenCreated',
  tokenSchema.extend({ token: z.string().describe('The token itself: shown only in this response, stored only as a hash') }),
);

export const tokenListSchema = named('TokenList', z.object({ tokens: z.array(tokenSchema) }));
export const tokenIdParams = z.object({ token_id: z.uuid().describe('Token id') }).strict();

// ---- events and incidents -------------------------------------------------------------------

const commaList = <T extends z.ZodType<unknown, string>>(item: T, what: string) =>
  z
    .string()
    .max(4000)
    .transform((v) => v.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(item).min(1).max(100))
    .describe(`${what}, comma-separated`);

export const eventsQuery = z
  .object({
    host_id: commaList(z.uuid(), 'Only events of these hosts').optional(),
    group: commaList(z.string().min(1).max(255), 'Only events of hosts in these groups').optional(),
    type: commaList(z.enum(EVENT_TYPES), 'Only these event types').optional(),
    last_event_id: z.string().regex(/^\d{1,18}$/, 'must be an event id').optional().describe('Resume after this event (the Last-Event-ID header does the same)'),
  })
  .strict();

export const eventSchema = named(
  'Event',
  z.object({
    id: z.string().describe('Increasing event id; resume with Last-Event-ID'),
    type: z.enum(EVENT_TYPES),
    occurred_at: isoTime,
    host: z.object({ id: z.uuid(), name: z.string(), group: z.string().nullable() }),
    from_state: z.string().nullable(),
    to_state: z.string().nullable(),
    reason: z.string().nullable(),
    incident_id: z.uuid().nullable(),
    check_id: z.string().nullable().describe('History row of the check that caused it'),
    job_id: z.uuid().nullable(),
  }),
);

export const incidentSchema = named(
  'Incident',
  z.object({
    id: z.uuid(),
    host_id: z.uuid(),
    host_name: z.string(),
    host_group: z.string().nullable(),
    status: z.enum(['open', 'resolved']),
    trigger_state: hostStateSchema,
    current_state: hostStateSchema,
    failure_count: z.int().describe('Failed checks while open'),
    last_error_type: z.string().nullable(),
    last_error_message: z.string().nullable(),
    opened_at: isoTime,
    updated_at: isoTime,
    resolved_at: isoTime.nullable(),
    acknowledged_at: isoTime.nullable(),
    acknowledged_by: z.string().nullable(),
    unreachable_count: z.int().describe('Hosts behind this host that it made UNREACHABLE while open (list: GET /api/incidents/{incident_id}/unreachable-hosts)'),
  }),
);

export const unreachableHostsQuery = z
  .object({
    after: z.string().min(1).max(255).optional().describe('Cursor: next_cursor of the previous page'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const unreachableHostsSchema = named(
  'IncidentUnreachableHosts',
  z.object({
    hosts: z.array(
      z.object({
        host_id: z.uuid(),
        name: z.string(),
        group: z.string().nullable(),
        monitoring_state: hostStateSchema.describe('Its state now (HEALTHY again once it answered after the recovery)'),
        since: isoTime.describe('When it was linked to this incident'),
      }),
    ),
    next_cursor: z.string().nullable().describe('Pass as `after` for the next page; null at the end'),
  }),
);

export const hostDeleteQuery = z
  .object({
    detach: z.enum(['true', 'false']).transform((v) => v === 'true').default(false).describe('Also remove the dependencies of hosts on this one (their depends_on, groups it is the gateway of); without it such a delete is refused'),
  })
  .strict();

export const incidentDetailSchema = named(
  'IncidentDetail',
  incidentSchema.extend({
    timeline: z.array(
      z.object({ event_id: z.string(), type: z.string(), at: isoTime, from_state: z.string().nullable(), to_state: z.string().nullable(), reason: z.string().nullable(), check_id: z.string().nullable() }),
    ),
  }),
);

export const incidentListQuery = z
  .object({
    status: z.enum(['open', 'resolved']).optional(),
    host_id: z.uuid().optional(),
    group: z.string().min(1).max(255).optional(),
    // The time goes to SQL as UTC: PostgreSQL takes offsets up to ±15:59 only, ISO 8601 up to ±23:59.
    before: cursorParam(z.tuple([z.iso.datetime({ offset: true }).refine(isStorableInstant).transform((t) => new Date(t).toISOString()), z.uuid()]), 'Cursor: next_cursor of the previous page').optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();
export const incidentListSchema = named('IncidentList', z.object({ incidents: z.array(incidentSchema), next_cursor: z.string().nullable() }));
export const incidentIdParams = z.object({ incident_id: z.uuid().describe('Incident id') }).strict();

// ---- webhooks ---------------------------------------------------------------------------------

const webhookUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .max(2048)
  .refine((u) => {
    // zod runs this even after the URL check failed; that failure is reported already.
    const parsed = URL.canParse(u) ? new URL(u) : undefined;
    return !parsed || (parsed.username === '' && parsed.password === '');
  }, 'must not contain credentials (user:password@): receivers authenticate Vigil by the Vigil-Signature header')
  .describe('Receiver URL, http or https; redirects are not followed');

const webhookSecret = z
  .string()
  .min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 32`)')
  .max(512)
  .describe('Key of the Vigil-Signature HMAC; write-only, stored encrypted');

const webhookFilters = {
  event_types: z.array(z.enum(EVENT_TYPES)).max(EVENT_TYPES.length).describe('Only these event types; empty = all'),
  states: z.array(hostStateSchema).max(HOST_STATES.length).describe('Only events whose to_state is one of these; empty = all'),
  groups: z.array(z.string().trim().min(1).max(255)).max(100).describe("Only events of hosts in these groups; empty = all"),
};

export const webhookCreateSchema = named(
  'WebhookCreate',
  z
    .object({
      url: webhookUrl,
      secret: webhookSecret.optional().describe('Key of the Vigil-Signature HMAC (write-only, stored encrypted); without one deliveries are not signed'),
      event_types: webhookFilters.event_types.default([]),
      states: webhookFilters.states.default([]),
      groups: webhookFilters.groups.default([]),
      enabled: z.boolean().default(true).describe('Disabled subscriptions get no new deliveries, and pending ones are dropped'),
    })
    .strict(),
);

export const webhookPatchSchema = named(
  'WebhookPatch',
  z
    .object({
      url: webhookUrl,
      secret: webhookSecret.nullable().describe('A new signing key (used from the next attempt on); null removes it (unsigned deliveries)'),
      ...webhookFilters,
      enabled: z.boolean(),
    })
    .partial()
    .strict()
    .refine((p) => Object.keys(p).length > 0, 'give at least one field to change'),
);

export const webhookSchema = named(
  'Webhook',
  z
    .object({
      id: z.uuid(),
      url: z.string(),
      has_secret: z.boolean().describe('Deliveries are signed; the secret itself is never returned'),
      event_types: z.array(z.enum(EVENT_TYPES)),
      states: z.array(hostStateSchema),
      groups: z.array(z.string()),
      enabled: z.boolean(),
      after_event_id: z.string().describe('Only events with a greater id are sent: the newest event when the subscription was created'),
      created_at: isoTime,
      updated_at: isoTime,
    })
    .describe('A webhook subscription; empty filters match every event'),
);

export const webhookListSchema = named('WebhookList', z.object({ webhooks: z.array(webhookSchema) }));
export const webhookIdParams = z.object({ webhook_id: z.uuid().describe('Webhook id') }).strict();

export const webhookDeliveryQuery = z
  .object({
    status: z.enum(DELIVERY_STATUSES).optional(),
    cursor: cursorParam(z.tuple([pgBigint]), 'Cursor: the next_cursor of the previous page').optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

export const webhookDeliverySchema = named(
  'WebhookDelivery',
  z.object({
    id: z.string().describe('Delivery id, sent as Vigil-Delivery-Id'),
    event_id: z.string().describe('Event id, sent as Vigil-Event-Id'),
    event_type: z.enum(EVENT_TYPES),
    status: z
      .enum(DELIVERY_STATUSES)
      .describe('pending: queued or waiting for a retry; delivered: answered 2xx; failed: every attempt failed, or the webhook was disabled first'),
    attempts: z.int(),
    last_status_code: z.int().nullable().describe("The last attempt's answer; null when none came (refused, timed out)"),
    last_error: z.string().nullable(),
    latency_ms: z.number().nullable().describe('Of the last attempt, until the answer arrived'),
    created_at: isoTime,
    last_attempt_at: isoTime.nullable(),
    delivered_at: isoTime.nullable(),
    failed_at: isoTime.nullable(),
    next_attempt_at: isoTime.nullable().describe('When a pending delivery is tried next'),
  }),
);

export const webhookDeliveryPageSchema = named(
  'WebhookDeliveryPage',
  z.object({
    webhook_id: z.uuid(),
    deliveries: z.array(webhookDeliverySchema).describe('Newest first'),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null at the end'),
  }),
);
