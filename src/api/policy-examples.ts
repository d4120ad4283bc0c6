import type { z } from 'zod';
import type { ApiExample } from './route.ts';
import type { policyBulkResultSchema, policyBulkSchema, policyCreateSchema, policyListSchema, policyPatchSchema, policySchema } from './policy-schemas.ts';

/** Examples of the policy operations (typed by their schemas, so a renamed field fails tsc). */

const example = <S extends z.ZodType>(name: string, summary: string, value: z.input<S>): ApiExample => ({ name, summary, value });

const criticalCore: z.output<typeof policySchema> = {
  id: '5b0c8a2e-3f4d-4e6a-9b1c-7d2e8f9a0b1c',
  name: 'critical-core',
  description: 'Core switches and routers: checked every minute, DOWN after 2 failures',
  settings: {
    states: { HEALTHY: { interval_seconds: 60, priority: 7 }, DEGRADED: { interval_seconds: 30 } },
    check_timeout_ms: 5000,
    degraded_after_failures: 1,
    critical_after_failures: 2,
    down_after_failures: 2,
  },
  host_count: 12,
  group_count: 1,
  created_at: '2026-05-04T09:00:00.000Z',
  updated_at: '2026-05-04T09:00:00.000Z',
};

export const POLICY_EXAMPLES = {
  create: example<typeof policyCreateSchema>('PolicyCreate', 'Critical items polled every 60 s (seed 001)', {
    name: criticalCore.name,
    description: criticalCore.description,
    settings: criticalCore.settings,
  }),
  patch: example<typeof policyPatchSchema>('PolicyPatch', 'A shorter HEALTHY interval; the timeout falls back (null removes it)', {
    settings: { states: { HEALTHY: { interval_seconds: 30 } }, check_timeout_ms: null },
  }),
  bulk: example<typeof policyBulkSchema>('PolicyBulk', 'Critical and standard items (seed 001: 60 s and 300 s)', {
    policies: [
      { name: 'critical', settings: { states: { HEALTHY: { interval_seconds: 60 } } } },
      { name: 'standard', settings: { states: { HEALTHY: { interval_seconds: 300 } } } },
    ],
  }),
  policy: example<typeof policySchema>('Policy', 'A policy in use', criticalCore),
  list: example<typeof policyListSchema>('PolicyList', 'Every policy', { policies: [criticalCore] }),
  bulkResult: example<typeof policyBulkResultSchema>('PolicyBulkResult', 'One created, one replaced', {
    created: ['critical'],
    updated: ['standard'],
    rescheduled_hosts: 340,
  }),
};
