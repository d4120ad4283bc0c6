import { randomUUID } from 'node:crypto';
import { deletePolicy, getPolicy, insertPolicy, listPolicies, lockPolicy, policiesByName, updatePolicy, type PolicyRow } from '../db/queries/policies.ts';
import { withTransaction } from '../db/transaction.ts';
import { badRequest, notFound, type FieldError } from '../lib/errors.ts';
import { flattenSettings, mergeSettings, type PolicySettings } from '../policies/fields.ts';
import { fleetDefaults, resolvePolicy } from '../policies/resolve.ts';
import { limitsOf, rescheduleHosts } from '../policies/reschedule.ts';
import { validatePolicyValues } from '../policies/validate.ts';
import type { Config } from '../config/config.ts';
import type { ApiDeps } from './deps.ts';
import {
  MAX_BULK_POLICIES,
  policyBulkResultSchema,
  policyBulkSchema,
  policyCreateSchema,
  policyIdParams,
  policyListSchema,
  policyPatchSchema,
  policySchema,
} from './policy-schemas.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import { problemSchema } from './schemas.ts';
import { POLICY_EXAMPLES as EX } from './policy-examples.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const TAGS = ['policies'];

/**
 * Check policies: named settings (per-state intervals and priorities, timeout, thresholds, probe
 * retries) assigned to hosts and groups. A change reschedules the hosts it touches, in the same
 * transaction (src/policies/reschedule.ts).
 */
export function policyRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool, config } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/api/policies',
      operationId: 'listPolicies',
      summary: 'Check policies, with how many hosts and groups use each',
      tags: TAGS,
      examples: { responses: { 200: [EX.list] } },
      responses: { 200: { description: 'All policies', schema: policyListSchema }, 400: problem('Unexpected query') },
      handler: async () => ({ status: 200, body: { policies: (await listPolicies(pool)).map(serializePolicy) } }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/policies',
      operationId: 'createPolicy',
      summary: 'Create a named check policy',
      description: `Validated as it would apply over the fleet defaults: intervals at least VIGIL_POLICY_MIN_INTERVAL_SECONDS (${config.policies.minIntervalSeconds} s), the timeout shorter than the shortest interval, failure thresholds in order. Errors name the field.`,
      tags: TAGS,
      body: policyCreateSchema,
      examples: { request: [EX.create], responses: { 201: [EX.policy] } },
      responses: { 201: { description: 'Created', schema: policySchema }, 400: problem('Invalid settings, each field named'), 409: problem('Name taken') },
      handler: async ({ body }) => {
        throwIfInvalid(config, body.settings, 'body.settings.');
        const id = randomUUID();
        await insertPolicy(pool, id, body);
        return { status: 201, body: serializePolicy((await getPolicy(pool, id))!), headers: { Location: `/api/policies/${id}` } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/policies/bulk',
      operationId: 'bulkUpsertPolicies',
      summary: `Create or replace up to ${MAX_BULK_POLICIES} policies by name, all or nothing`,
      description: 'A policy whose name exists gets the given description and settings (fields left out fall back); its hosts are rescheduled. Every bad field is named with its position.',
      tags: TAGS,
      body: policyBulkSchema,
      examples: { request: [EX.bulk], responses: { 200: [EX.bulkResult] } },
      responses: { 200: { description: 'What was created and replaced', schema: policyBulkResultSchema }, 400: problem('Invalid policies, each field named') },
      handler: async ({ body }) => {
        const errors = body.policies.flatMap((p, i) => policyProblems(config, p.settings, `body.policies.${i}.settings.`));
        if (errors.length > 0) throw badRequest('invalid policies', errors);
        const result = await withTransaction(pool, async (tx) => {
          const existing = await policiesByName(tx, body.policies.map((p) => p.name));
          const out = { created: [] as string[], updated: [] as string[], rescheduled_hosts: 0 };
          for (const p of body.policies) {
            const found = existing.get(p.name);
            if (!found) {
              await insertPolicy(tx, randomUUID(), p);
              out.created.push(p.name);
              continue;
            }
            await lockPolicy(tx, found.id);
            await updatePolicy(tx, found.id, p);
            out.rescheduled_hosts += await rescheduleHosts(tx, config, { policyId: found.id });
            out.updated.push(p.name);
          }
          return out;
        });
        return { status: 200, body: result };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/policies/{policy_id}',
      operationId: 'getPolicy',
      summary: 'One check policy',
      tags: TAGS,
      params: policyIdParams,
      examples: { responses: { 200: [EX.policy] } },
      responses: { 200: { description: 'The policy', schema: policySchema }, 400: problem('Malformed id'), 404: problem('No such policy') },
      handler: async ({ params }) => {
        const row = await getPolicy(pool, params.policy_id);
        if (!row) throw notFound('policy');
        return { status: 200, body: serializePolicy(row) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/policies/{policy_id}',
      operationId: 'updatePolicy',
      summary: 'Change a policy (settings as a merge patch: null removes a field); its hosts are rescheduled at once',
      description:
        'Hosts using the policy (directly or through their group) get the new priority now, and their next check one new interval ' +
        'after their last (a shorter interval takes effect now), never sooner than their offset in the first-check spread.',
      tags: TAGS,
      params: policyIdParams,
      body: policyPatchSchema,
      examples: { request: [EX.patch], responses: { 200: [EX.policy] } },
      responses: {
        200: { description: 'The updated policy', schema: policySchema },
        400: problem('Invalid settings (or a host they would make invalid), each field named'),
        404: problem('No such policy'),
        409: problem('Name taken'),
      },
      handler: async ({ params, body }) => {
        await withTransaction(pool, async (tx) => {
          const current = await lockPolicy(tx, params.policy_id);
          if (!current) throw notFound('policy');
          const settings = body.settings ? mergeSettings(current.settings, body.settings) : current.settings;
          throwIfInvalid(config, settings, 'body.settings.');
          const row = (await getPolicy(tx, params.policy_id))!;
          await updatePolicy(tx, params.policy_id, { name: body.name ?? row.name, description: body.description ?? row.description, settings });
          await rescheduleHosts(tx, config, { policyId: params.policy_id });
        });
        return { status: 200, body: serializePolicy((await getPolicy(pool, params.policy_id))!) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/policies/{policy_id}',
      operationId: 'deletePolicy',
      summary: 'Delete a policy no host or group uses',
      tags: TAGS,
      params: policyIdParams,
      responses: { 204: { description: 'Deleted' }, 400: problem('Malformed id'), 404: problem('No such policy'), 409: problem('Still assigned') },
      handler: async ({ params }) => {
        if (!(await deletePolicy(pool, params.policy_id))) throw notFound('policy');
        return { status: 204 };
      },
    }),
  ];
}

/** A policy's problems as it would apply over the fleet defaults, each field named under `prefix`. */
export function policyProblems(config: Config, settings: PolicySettings, prefix: string): FieldError[] {
  const { values } = resolvePolicy(fleetDefaults(config), [{ source: { level: 'host' }, settings }]);
  const set = flattenSettings(settings);
  return validatePolicyValues(values, limitsOf(config), prefix, (path) => set[path] !== undefined);
}

function throwIfInvalid(config: Config, settings: PolicySettings, prefix: string): void {
  const errors = policyProblems(config, settings, prefix);
  if (errors.length > 0) throw badRequest('invalid policy settings', errors);
}

function serializePolicy(p: PolicyRow) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    settings: p.settings,
    host_count: p.host_count,
    group_count: p.group_count,
    created_at: p.created_at.toISOString(),
    updated_at: p.updated_at.toISOString(),
  };
}
