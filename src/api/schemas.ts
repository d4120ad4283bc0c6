import { z } from 'zod';
import { HOST_STATES } from '../config/config.ts';
import { ERROR_TYPES } from '../probes/types.ts';
import { probeConfigSchema } from '../probes/index.ts';
import { CREDENTIAL_KINDS, credentialFieldsByKind, SECRET_FIELDS, snmpV3Problems } from '../credentials/kinds.ts';

/**
 * Request and response shapes of the HTTP API. The same schemas validate requests and generate
 * openapi.yaml; schemas registered in `apiRegistry` become named components.
 */
export const apiRegistry = z.registry<{ id: string }>();

const named = <T extends z.ZodType>(id: string, schema: T): T => {
  apiRegistry.add(schema, { id });
  return schema;
};

const isoTime = z.iso.datetime({ offset: true });
export const hostStateSchema = named('HostState', z.enum(HOST_STATES).describe('Health state of a host'));
export const currentStatusSchema = z
  .enum(['online', 'degraded', 'critical', 'offline', 'unknown'])
  .describe('Plain-word status: HEALTHY=online, DEGRADED=degraded, CRITICAL=critical, DOWN=offline; unknown before the first check');
const errorTypeSchema = z.enum(ERROR_TYPES).nullable().describe('Why the check failed; null on success');

// Host names and addresses: what DNS names, IPv4 and IPv6 literals are made of, nothing else.
const addressSchema = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9._:%\-[\]]+$/, 'must be a host name or an IP address')
  .describe('Host name or IP address the probes connect to');

export const hostIdParams = z.object({ host_id: z.uuid().describe('Host id') }).strict();
export const taskIdParams = z.object({ task_id: z.uuid().describe('Task (job) id returned by a JIT check') }).strict();

export const probesSchema = named(
  'ProbeList',
  z.array(probeConfigSchema).min(1).max(8).describe('Probes run in order as one check; the first failure ends it'),
);

export const hostCreateSchema = named(
  'HostCreate',
  z
    .object({
      name: z.string().trim().min(1).max(255).describe('Unique host name'),
      address: addressSchema,
      probes: probesSchema,
      enabled: z.boolean().default(true).describe('Disabled hosts are not checked'),
      tags: z.array(z.string().trim().min(1).max(64)).max(32).default([]).describe('Free-form labels'),
      group: z.string().trim().min(1).max(255).nullable().default(null).describe('Group (site, OLT, jump host) the host sits behind'),
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
      tags: z.array(z.string().trim().min(1).max(64)).max(32),
      group: z.string().trim().min(1).max(255).nullable(),
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
    tags: z.array(z.string()),
    group: z.string().nullable(),
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
    created_at: isoTime,
    updated_at: isoTime,
  }),
);

export const hostListQuery = z
  .object({
    state: hostStateSchema.optional(),
    enabled: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    group: z.string().min(1).max(255).optional(),
    tag: z.string().min(1).max(64).optional(),
    after: z.string().min(1).max(255).optional().describe('Cursor: the next_cursor of the previous page'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

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
    checked_by: z.enum(['scheduler', 'jit']),
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
    check_interval_info: z.object({ minutes: z.number(), description: z.string() }),
    last_result: checkResultSchema.nullable(),
    recent_history: z.array(checkResultSchema).describe('The last 10 checks, newest first'),
  }),
);

export const checkTaskSchema = named(
  'CheckTask',
  z.object({
    task_id: z.uuid(),
    host_id: z.uuid(),
    checked_by: z.enum(['scheduler', 'jit']),
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
