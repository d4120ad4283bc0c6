import { randomUUID } from 'node:crypto';
import { acceptedKinds } from '../credentials/kinds.ts';
import type { Pool } from '../db/pool.ts';
import type { HostRow } from '../db/queries/hosts.ts';
import { getCredentials } from '../db/queries/credentials.ts';
import { recentHistory } from '../db/queries/history.ts';
import { listHostPage } from '../db/queries/host-list.ts';
import { deleteHost, getHost, insertHostWithLinks, setSshHostKey, updateHostWithLinks, type HostPatch } from '../db/queries/hosts.ts';
import { policiesById } from '../db/queries/policies.ts';
import { withTransaction } from '../db/transaction.ts';
import type { Config } from '../config/config.ts';
import type { PolicySettings } from '../policies/fields.ts';
import { fleetDefaults, resolvePolicy } from '../policies/resolve.ts';
import { limitsOf, requestField, rescheduleHosts } from '../policies/reschedule.ts';
import { validatePolicyValues } from '../policies/validate.ts';
import { parentsOf } from '../db/queries/dependencies.ts';
import { checkParentRefs, deleteHostRoute } from './dependency-routes.ts';
import { badRequest, conflict, notFound, type FieldError } from '../lib/errors.ts';
import { credentialRefsOf, type ProbeConfig } from '../probes/index.ts';
import { observedHostKey } from '../machine/check-outcome.ts';
import { initialHealth } from '../machine/apply-result.ts';
import { firstCheckDelayMs } from '../machine/schedule.ts';
import { encodeCursor } from './cursor.ts';
import type { ApiDeps } from './deps.ts';
import { ETAG_HEADER, etagHeaders, etagOf, matchesIfNoneMatch, NOT_MODIFIED, notModified } from './etag.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import {
  hostCreateSchema,
  hostIdParams,
  hostListQuery,
  hostListSchema,
  hostPatchSchema,
  hostSchema,
  problemSchema,
  sshHostKeyAcceptSchema,
} from './schemas.ts';
import { serializeHost } from './serialize.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const TAGS = ['hosts'];

export function hostRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool, config, machine } = deps;
  const soon = (hostId: string) => firstCheckDelayMs(hostId, config);

  return [
    defineRoute({
      method: 'post',
      path: '/api/hosts',
      operationId: 'createHost',
      summary: 'Add a host to monitor',
      tags: TAGS,
      body: hostCreateSchema,
      responses: { 201: { description: 'Created', schema: hostSchema }, 400: problem('Invalid body'), 409: problem('Name taken') },
      handler: async ({ body }) => {
        const id = randomUUID();
        const credentialIds = await checkCredentialRefs(pool, body.probes);
        const { depends_on: parentIds, ...fields } = body;
        await checkPolicyRefs(pool, config, [{ policyId: body.policy_id, overrides: body.policy_overrides, field: 'body.' }]);
        await checkParentRefs(pool, parentIds, id);
        const host = {
          ...fields,
          id,
          policyId: body.policy_id,
          policyOverrides: body.policy_overrides,
          machineSnapshot: initialHealth(machine),
          state: 'HEALTHY' as const,
          priority: config.states.HEALTHY.priority,
          dueInMs: soon(id),
        };
        // The host, its credential references, its parents and its priority by its effective
        // policy (its own or its group's) commit together; an invalid policy combination writes nothing.
        const fresh = await withTransaction(pool, async (tx) => {
          await insertHostWithLinks(tx, host, credentialIds, parentIds);
          await rescheduleHosts(tx, config, { hostIds: [id] }, { fieldOf: requestField });
          return (await getHost(tx, id))!;
        });
        return { status: 201, body: serializeHost(fresh, parentIds), headers: { Location: `/api/hosts/${id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/hosts',
      operationId: 'listHosts',
      summary: 'List hosts with filters (state, group, tag, probe type, name search), sorted, a page at a time',
      tags: TAGS,
      query: hostListQuery,
      responses: {
        200: { description: 'A page of hosts', schema: hostListSchema, headers: ETAG_HEADER },
        304: NOT_MODIFIED,
        400: problem('Invalid query'),
      },
      handler: async ({ query }, { req }) => {
        const filter = { state: query.state, enabled: query.enabled, maintenance: query.maintenance, group: query.group, tag: query.tag, probe: query.probe, q: query.q };
        const after = query.after && { key: query.after[1], name: query.after[2] };
        // One row more than asked says whether there is a next page.
        const rows = await listHostPage(pool, filter, { sort: query.sort, after, limit: query.limit + 1 });
        const page = rows.slice(0, query.limit);
        const last = page.at(-1);
        const next = rows.length > query.limit && last ? encodeCursor([query.sort, last.sort_key, last.name]) : null;
        // The answer is made of exactly these row versions, for this query.
        const etag = etagOf([JSON.stringify(query), ...rows.map((r) => `${r.id}:${r.change_xid}`)]);
        if (matchesIfNoneMatch(req, etag)) return notModified(etag);
        const parents = await parentsOf(pool, page.map((h) => h.id));
        return { status: 200, headers: etagHeaders(etag), body: { hosts: page.map((h) => serializeHost(h, parents.get(h.id))), next_cursor: next } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/hosts/{host_id}',
      operationId: 'getHost',
      summary: 'Get one host',
      tags: TAGS,
      params: hostIdParams,
      responses: { 200: { description: 'The host', schema: hostSchema }, 400: problem('Malformed id'), 404: problem('No such host') },
      handler: async ({ params }) => {
        const row = await getHost(pool, params.host_id);
        if (!row) throw notFound('host');
        return { status: 200, body: await withParents(pool, row) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/hosts/{host_id}',
      operationId: 'updateHost',
      summary: 'Change a host; changed probes or re-enabling make it due soon',
      tags: TAGS,
      params: hostIdParams,
      body: hostPatchSchema,
      responses: {
        200: { description: 'The updated host', schema: hostSchema },
        400: problem('Invalid body or id, an unknown parent, or a dependency cycle (named)'),
        404: problem('No such host'),
        409: problem('Name taken'),
      },
      handler: async ({ params, body }) => {
        const { depends_on: parentIds, policy_id: policyId, policy_overrides: policyOverrides, ...rest } = body;
        const patch: HostPatch = { ...rest, policyId, policyOverrides };
        if (parentIds) await checkParentRefs(pool, parentIds, params.host_id);
        const resumes = body.enabled === true || body.maintenance === false;
        if (body.probes !== undefined || body.address !== undefined || resumes) patch.dueInMs = soon(params.host_id);
        const credentialIds = body.probes ? await checkCredentialRefs(pool, body.probes) : undefined;
        const policyChanged = policyId !== undefined || policyOverrides !== undefined || body.group !== undefined;
        if (policyId) await checkPolicyRefs(pool, config, [{ policyId, overrides: {}, field: 'body.' }]);
        // The change, its parents (a cycle refused) and, when its policy may have changed, the
        // host's new priority and schedule commit together; an invalid result writes nothing.
        const row = await withTransaction(pool, async (tx) => {
          const updated = await updateHostWithLinks(tx, params.host_id, patch, credentialIds, parentIds);
          if (!updated) throw notFound('host');
          if (!policyChanged) return updated;
          await rescheduleHosts(tx, config, { hostIds: [params.host_id] }, { fieldOf: requestField });
          return (await getHost(tx, params.host_id))!;
        });
        return { status: 200, body: await withParents(pool, row) };
      },
    }),
    ...sshHostKeyRoutes(deps),
    deleteHostRoute(deps),
  ];
}

/**
 * Every credential_id in `probes` must name an existing credential of a kind the probe accepts.
 * Returns the ids, for the host_credentials rows written with the host. `fieldOf` names the
 * field of probe i in errors (bulk writes check all their hosts' probes in one query).
 */
export async function checkCredentialRefs(
  pool: Pool,
  probes: ProbeConfig[],
  fieldOf: (i: number) => string = (i) => `body.probes.${i}.credential_id`,
): Promise<string[]> {
  const refs = probes.flatMap((p, i) => credentialRefsOf(p).map((ref) => ({ i, ...ref })));
  const found = new Map((await getCredentials(pool, refs.map((r) => r.id!))).map((c) => [c.id, c.kind]));
  const errors: FieldError[] = [];
  for (const ref of refs) {
    const { i, probe, id } = ref;
    const kind = found.get(id!);
    const accepted = acceptedKinds(probe as { type: string; version?: string; secret_placement?: unknown });
    const field = fieldOf(i).replace(/credential_id$/, `${ref.prefix}credential_id`);
    if (!kind) errors.push({ field, message: `no credential ${id}` });
    else if (!accepted.includes(kind as never)) errors.push({ field, message: `a ${probe.type} probe needs a credential of kind ${accepted.join(' or ')}, not ${kind}` });
  }
  if (errors.length > 0) throw badRequest('probes reference unusable credentials', errors);
  return [...new Set(refs.map((r) => r.id!))];
}

/**
 * Every policy_id must name a policy, and each host's overrides over its policy (over the fleet
 * defaults) must be valid; errors name `${field}policy_id` and `${field}policy_overrides.<path>`.
 */
export async function checkPolicyRefs(pool: Pool, config: Config, items: { policyId: string | null; overrides: PolicySettings; field: string }[]): Promise<void> {
  const ids = [...new Set(items.map((i) => i.policyId).filter((id): id is string => id !== null))];
  const found = new Map((await policiesById(pool, ids)).map((p) => [p.id, p]));
  const errors: FieldError[] = [];
  for (const { policyId, overrides, field } of items) {
    const policy = policyId === null ? undefined : found.get(policyId);
    if (policyId !== null && !policy) {
      errors.push({ field: `${field}policy_id`, message: `no policy ${policyId}` });
      continue;
    }
    const layers = [{ source: { level: 'host' as const }, settings: overrides }, ...(policy ? [{ source: { level: 'host_policy' as const, policy: policy.name }, settings: policy.settings }] : [])];
    const { values, sources } = resolvePolicy(fleetDefaults(config), layers);
    errors.push(...validatePolicyValues(values, limitsOf(config), `${field}policy_overrides.`, (path) => sources[path].level === 'host'));
  }
  if (errors.length > 0) throw badRequest('invalid check policy of the host', errors);
}

function sshHostKeyRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool } = deps;
  const responses = { 200: { description: 'The host', schema: hostSchema }, 400: problem('Invalid id or body'), 404: problem('No such host') };
  return [
    defineRoute({
      method: 'post',
      path: '/api/hosts/{host_id}/ssh-host-key/accept',
      operationId: 'acceptSshHostKey',
      summary: "Trust a changed SSH host key: the given fingerprint, or the one the latest check saw",
      tags: TAGS,
      params: hostIdParams,
      body: sshHostKeyAcceptSchema,
      responses: { ...responses, 409: problem('No observed key to accept') },
      handler: async ({ params, body }) => {
        const fingerprint = body.host_key_sha256 ?? (await latestObservedKey(pool, params.host_id));
        if (!fingerprint) throw conflict('no check has seen an SSH host key for this host yet; give host_key_sha256');
        const row = await setSshHostKey(pool, params.host_id, fingerprint);
        if (!row) throw notFound('host');
        return { status: 200, body: await withParents(pool, row) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/hosts/{host_id}/ssh-host-key',
      operationId: 'clearSshHostKey',
      summary: 'Forget the trusted SSH host key; the next successful login records a new one',
      tags: TAGS,
      params: hostIdParams,
      responses,
      handler: async ({ params }) => {
        const row = await setSshHostKey(pool, params.host_id, null);
        if (!row) throw notFound('host');
        return { status: 200, body: await withParents(pool, row) };
      },
    }),
  ];
}

async function withParents(pool: Pool, row: HostRow) {
  return serializeHost(row, (await parentsOf(pool, [row.id])).get(row.id));
}

async function latestObservedKey(pool: Pool, hostId: string): Promise<string | null> {
  const [latest] = await recentHistory(pool, hostId, 1);
  if (!latest) return null;
  return observedHostKey(latest);
}
