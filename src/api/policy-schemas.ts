import { z } from 'zod';
import { HOST_STATES } from '../machine/states.ts';
import { FIELD_PATHS } from '../policies/fields.ts';
import { named } from './registry.ts';

/**
 * Check policy shapes, derived from HOST_STATES (src/machine/states.ts): a new state gets its
 * interval and priority fields here without an edit.
 */

const isoTime = z.iso.datetime({ offset: true });

const FIELD_RULES = {
  interval_seconds: z.number().positive().max(7 * 86_400).describe('Seconds from the end of a check to the next scheduled one (at least VIGIL_POLICY_MIN_INTERVAL_SECONDS)'),
  priority: z.int().min(0).max(100).describe('Queue priority of scheduled checks (higher runs first)'),
  check_timeout_ms: z.int().min(100).max(300_000).describe('Hard limit for one check (all probes), shorter than the shortest interval and at most VIGIL_CHECK_TIMEOUT_MS'),
  degraded_after_failures: z.int().min(1).max(100).describe('Consecutive failures to DEGRADED'),
  critical_after_failures: z.int().min(1).max(100).describe('Consecutive failures to CRITICAL'),
  down_after_failures: z.int().min(1).max(100).describe('Consecutive failures to DOWN'),
  healthy_after_successes: z.int().min(1).max(100).describe('Consecutive successes back to HEALTHY'),
  probe_retries: z.int().min(0).max(5).describe('Resends of probes that retry when unanswered (SNMP); unset keeps each probe\'s own'),
};

const stateSchema = z.object({ interval_seconds: FIELD_RULES.interval_seconds.optional(), priority: FIELD_RULES.priority.optional() }).strict();
const statePatchSchema = z
  .object({ interval_seconds: FIELD_RULES.interval_seconds.nullable().optional(), priority: FIELD_RULES.priority.nullable().optional() })
  .strict();
type StateKey = (typeof HOST_STATES)[number];
const perState = <T extends z.ZodType>(s: T) => z.object(Object.fromEntries(HOST_STATES.map((k) => [k, s])) as Record<StateKey, T>).strict();

const settingsShape = {
  states: perState(stateSchema.optional()).optional().describe('Per state: interval and queue priority'),
  check_timeout_ms: FIELD_RULES.check_timeout_ms.optional(),
  degraded_after_failures: FIELD_RULES.degraded_after_failures.optional(),
  critical_after_failures: FIELD_RULES.critical_after_failures.optional(),
  down_after_failures: FIELD_RULES.down_after_failures.optional(),
  healthy_after_successes: FIELD_RULES.healthy_after_successes.optional(),
  probe_retries: FIELD_RULES.probe_retries.optional(),
};
/** PATCH form: null removes a field (it falls back to the next level). */
const settingsPatchShape = {
  states: perState(statePatchSchema.nullable().optional()).nullable().optional().describe('Per state: interval and queue priority; null removes them all'),
  check_timeout_ms: FIELD_RULES.check_timeout_ms.nullable().optional(),
  degraded_after_failures: FIELD_RULES.degraded_after_failures.nullable().optional(),
  critical_after_failures: FIELD_RULES.critical_after_failures.nullable().optional(),
  down_after_failures: FIELD_RULES.down_after_failures.nullable().optional(),
  healthy_after_successes: FIELD_RULES.healthy_after_successes.nullable().optional(),
  probe_retries: FIELD_RULES.probe_retries.nullable().optional(),
};

export const policySettingsSchema = named(
  'PolicySettings',
  z.object(settingsShape).strict().describe('Check settings; every field may be left out and falls back to the next level (host -> group -> fleet defaults)'),
);
export const policySettingsPatchSchema = named(
  'PolicySettingsPatch',
  z.object(settingsPatchShape).strict().describe('A JSON merge patch of settings: a value sets a field, null removes it (it falls back), a field left out is kept'),
);

const policyName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-", starting with a letter or digit')
  .describe('Unique policy name, e.g. critical-core');

export const policyCreateSchema = named(
  'PolicyCreate',
  z
    .object({
      name: policyName,
      description: z.string().max(1000).default(''),
      settings: policySettingsSchema.default({}),
    })
    .strict(),
);

export const policyPatchSchema = named(
  'PolicyPatch',
  z
    .object({ name: policyName, description: z.string().max(1000), settings: policySettingsPatchSchema })
    .partial()
    .strict()
    .refine((p) => Object.keys(p).length > 0, 'give at least one field to change'),
);

export const policySchema = named(
  'Policy',
  z.object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    settings: policySettingsSchema,
    host_count: z.int().describe('Hosts assigned this policy directly'),
    group_count: z.int().describe('Groups assigned this policy'),
    created_at: isoTime,
    updated_at: isoTime,
  }),
);
export const policyListSchema = named('PolicyList', z.object({ policies: z.array(policySchema) }));
export const policyIdParams = z.object({ policy_id: z.uuid().describe('Policy id') }).strict();

export const MAX_BULK_POLICIES = 500;
export const policyBulkSchema = named(
  'PolicyBulk',
  z
    .object({
      policies: z
        .array(policyCreateSchema)
        .min(1)
        .max(MAX_BULK_POLICIES)
        .refine((ps) => new Set(ps.map((p) => p.name)).size === ps.length, 'policy names must be distinct'),
    })
    .strict(),
);
export const policyBulkResultSchema = named(
  'PolicyBulkResult',
  z.object({
    created: z.array(z.string()).describe('Names of the policies created'),
    updated: z.array(z.string()).describe('Names of the policies whose settings were replaced'),
    rescheduled_hosts: z.int().describe('Hosts whose priority and next check were recomputed'),
  }),
);

const policySourceSchema = z
  .object({
    level: z.enum(['host', 'host_policy', 'group_policy', 'defaults']).describe("host: the host's own override; host_policy / group_policy: a named policy; defaults: the fleet's env configuration"),
    policy: z.string().optional().describe('The policy it came from'),
    group: z.string().optional().describe('The group whose policy it came from'),
  })
  .describe('Where a field\'s effective value came from');

export const effectivePolicySchema = named(
  'EffectivePolicy',
  z.object({
    policy_id: z.uuid().nullable().describe("The host's own policy"),
    values: policySettingsSchema.extend({ probe_retries: FIELD_RULES.probe_retries.nullable() }).describe('Every field as the host is checked with it (probe_retries null: each probe\'s own)'),
    sources: z.object(Object.fromEntries(FIELD_PATHS.map((p) => [p, policySourceSchema])) as Record<(typeof FIELD_PATHS)[number], typeof policySourceSchema>).describe('Per field (dotted path), where its value came from'),
  }),
);
