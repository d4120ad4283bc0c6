import { randomUUID } from 'node:crypto';
import { planBulkHosts, writeBulkHosts, type BulkHost, type BulkPlan } from '../db/queries/hosts-bulk.ts';
import { AppError, badRequest, type FieldError } from '../lib/errors.ts';
import { resolveHostRefs } from '../db/queries/dependencies.ts';
import { initialHealth } from '../machine/apply-result.ts';
import { firstCheckDelayMs } from '../machine/schedule.ts';
import { credentialRefsOf, type ProbeConfig } from '../probes/index.ts';
import type { ApiDeps } from './deps.ts';
import { checkCredentialRefs, checkPolicyRefs } from './hosts-routes.ts';
import type { PolicySettings } from '../policies/fields.ts';
import { rescheduleHostsNow } from '../policies/reschedule.ts';
import { bulkHostsQuery, bulkHostsSchema, hostBulkResultSchema, MAX_BULK_HOSTS } from './inventory-schemas.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import { problemSchema } from './schemas.ts';
import { bulkRequestExample, bulkResultExample } from './view-examples.ts';

const problem = (description: string) => ({ description, schema: problemSchema });

/** Room for 5,000 hosts of a few probes each; the API's default limit stays 1 MB elsewhere. */
export const BULK_BODY_LIMIT = '16mb';

export function hostBulkRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool, config, machine } = deps;
  return [
    defineRoute({
      method: 'post',
      path: '/api/hosts/bulk',
      operationId: 'bulkCreateHosts',
      summary: `Add (or with upsert=true, add and change) up to ${MAX_BULK_HOSTS} hosts at once, all or nothing`,
      description:
        'The batch is validated as a whole: every bad field is named with its position (`body.hosts.12.probes.0.port`), and ' +
        'nothing is written unless all of it is valid. Without upsert, names that already exist are refused (409, naming them). ' +
        'With upsert, an existing host of the same name keeps its id and health state; its configuration (address, probes, ' +
        'enabled, maintenance, tags, group) becomes the one given, fields left out taking their defaults as on create. ' +
        'dry_run=true answers the same without writing.',
      tags: ['hosts'],
      query: bulkHostsQuery,
      body: bulkHostsSchema,
      bodyLimit: BULK_BODY_LIMIT,
      examples: { request: [bulkRequestExample], responses: { 200: [bulkResultExample] } },
      responses: {
        200: { description: 'What was (or with dry_run, would be) created, changed and left unchanged', schema: hostBulkResultSchema },
        400: problem('Invalid hosts or credential references, each named'),
        409: problem('Hosts of these names exist (without upsert), or changed meanwhile'),
        413: problem('Body larger than 16 MB'),
      },
      handler: async ({ query, body }) => {
        const hosts = await toBulkHosts(pool, config, body.hosts);
        const dependsOn = await checkBulkParentRefs(pool, body.hosts);
        if (query.dry_run) return { status: 200, body: result(refuseExisting(await planBulkHosts(pool, hosts), query.upsert), true) };
        const { plan, written } = await writeBulkHosts(pool, hosts, {
          upsert: query.upsert,
          machineSnapshot: initialHealth(machine),
          state: 'HEALTHY',
          priority: config.states.HEALTHY.priority,
          dueInMs: (id) => firstCheckDelayMs(id, config),
          dependsOn,
        });
        // Priorities and schedules by each host's effective policy (validated above, field by field).
        if (written) await rescheduleHostsNow(pool, config, [...plan.created.map((h) => h.id), ...plan.changed.map((h) => h.existingId)]);
        return { status: 200, body: result(refuseExisting(plan, query.upsert), false) };
      },
    }),
  ];
}

type HostInput = {
  name: string; address: string; probes: ProbeConfig[]; enabled: boolean; maintenance: boolean; tags: string[]; group: string | null;
  policy_id: string | null; policy_overrides: PolicySettings;
};

/** Checks every credential reference of the batch in one query; errors name `body.hosts.N.probes.M.credential_id`. */
async function toBulkHosts(pool: ApiDeps['pool'], config: ApiDeps['config'], inputs: HostInput[]): Promise<BulkHost[]> {
  const located = inputs.flatMap((h, hostIndex) => h.probes.map((probe, probeIndex) => ({ probe, field: `body.hosts.${hostIndex}.probes.${probeIndex}.credential_id` })));
  await checkCredentialRefs(pool, located.map((l) => l.probe), (i) => located[i]!.field);
  await checkPolicyRefs(pool, config, inputs.map((h, i) => ({ policyId: h.policy_id, overrides: h.policy_overrides, field: `body.hosts.${i}.` })));
  return inputs.map((h, index) => ({
    index,
    id: randomUUID(),
    name: h.name,
    address: h.address,
    probes: h.probes,
    enabled: h.enabled,
    maintenance: h.maintenance,
    tags: h.tags,
    group: h.group,
    policyId: h.policy_id,
    policyOverrides: h.policy_overrides,
    credentialIds: [...new Set(h.probes.flatMap(credentialRefsOf).map((ref) => ref.id))],
  }));
}

/**
 * Every parent reference must name a host of the batch or an existing host (by name or id), not
 * the host itself; errors name `body.hosts.N.depends_on.M`. Returns the parents by host name.
 */
async function checkBulkParentRefs(pool: ApiDeps['pool'], all: { name: string; depends_on?: string[] }[]): Promise<Map<string, string[]>> {
  const batch = new Set(all.map((h) => h.name));
  // Positions kept for the error paths; hosts without depends_on keep the parents they have.
  const inputs = all.map((h, i) => ({ ...h, i, depends_on: h.depends_on ?? [] }));
  const refs = [...new Set(inputs.flatMap((h) => h.depends_on))];
  // The batch's own names too, so a host naming itself by its existing id is caught.
  const existing = await resolveHostRefs(pool, refs.length === 0 ? [] : [...refs, ...batch]);
  const errors: FieldError[] = [];
  inputs.forEach((h) =>
    h.depends_on.forEach((ref, j) => {
      const i = h.i;
      const field = `body.hosts.${i}.depends_on.${j}`;
      const self = ref === h.name || (existing.has(ref) && existing.get(ref) === existing.get(h.name));
      if (self) errors.push({ field, message: 'a host cannot depend on itself' });
      else if (!batch.has(ref) && !existing.has(ref)) errors.push({ field, message: `no host named (or with id) ${JSON.stringify(ref)}, here or in the batch` });
    }),
  );
  if (errors.length > 0) throw badRequest('depends_on names unknown hosts', errors);
  return new Map(all.flatMap((h) => (h.depends_on === undefined ? [] : [[h.name, h.depends_on] as const])));
}

/** Without upsert, a batch naming existing hosts is refused as a whole (writeBulkHosts wrote nothing). */
function refuseExisting(plan: BulkPlan, upsert: boolean): BulkPlan {
  const existing = [...plan.changed, ...plan.unchanged].sort((a, b) => a.index - b.index);
  if (upsert || existing.length === 0) return plan;
  const errors = existing.map((h) => ({ field: `body.hosts.${h.index}.name`, message: `a host named ${JSON.stringify(h.name)} already exists` }));
  throw new AppError('conflict', 409, `${existing.length} host(s) already exist; pass upsert=true to change them`, errors);
}

const result = (plan: BulkPlan, dryRun: boolean) => ({
  dry_run: dryRun,
  created: plan.created.map((h) => h.name),
  changed: plan.changed.map((h) => h.name),
  unchanged: plan.unchanged.map((h) => h.name),
});
