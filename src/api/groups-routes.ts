import { getGroup, insertResetHistory, listGroups, makeGroupDueSoon, resetGroupHosts, setGroupEnabled, upsertGroup } from '../db/queries/groups.ts';
import { withTransaction } from '../db/transaction.ts';
import { changeGroupGateway } from '../db/queries/dependencies.ts';
import { checkParentRefs } from './dependency-routes.ts';
import { recordResetEffects } from '../incidents/record.ts';
import { badRequest, notFound } from '../lib/errors.ts';
import { policiesById, setGroupPolicy } from '../db/queries/policies.ts';
import { rescheduleHosts } from '../policies/reschedule.ts';
import { initialHealth } from '../machine/apply-result.ts';
import type { ApiDeps } from './deps.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import { bulkResultSchema, groupListSchema, groupParams, groupSchema, groupUpdateSchema, problemSchema } from './schemas.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const TAGS = ['groups'];

/**
 * Groups: the device (OLT, jump host) a set of hosts sits behind. Settings: how many of their
 * checks may run at once across all workers, and maintenance. Bulk operations act on all members.
 */
export function groupRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool, config } = deps;
  const defaultLimit = config.groupDefaultConcurrency;
  const spread = config.producer.firstCheckSpreadSeconds;
  const bulk = (action: 'reset' | 'enable' | 'disable', summary: string, run: (group: string) => Promise<number>) =>
    defineRoute({
      method: 'post',
      path: `/api/groups/{group}/${action}`,
      operationId: `${action}Group`,
      summary,
      tags: TAGS,
      params: groupParams,
      responses: { 200: { description: 'Done', schema: bulkResultSchema }, 400: problem('Invalid group name'), 404: problem('No such group') },
      handler: async ({ params }) => {
        if (!(await getGroup(pool, params.group, defaultLimit))) throw notFound('group');
        return { status: 200, body: { group: params.group, affected: await run(params.group) } };
      },
    });

  // The assignment and the rescheduling of the group's hosts commit together, or not at all (an
  // assignment that would make a host's effective policy invalid is refused, naming the host).
  const assignGroupPolicy = async (group: string, policyId: string | null) => {
    if (policyId !== null && (await policiesById(pool, [policyId])).length === 0) throw badRequest('no such policy', [{ field: 'body.policy_id', message: `no policy ${policyId}` }]);
    await withTransaction(pool, async (tx) => {
      await setGroupPolicy(tx, group, policyId, defaultLimit);
      await rescheduleHosts(tx, config, { group });
    });
  };

  return [
    defineRoute({
      method: 'get',
      path: '/api/groups',
      operationId: 'listGroups',
      summary: 'Groups with their settings and hosts per state',
      tags: TAGS,
      responses: { 200: { description: 'All groups', schema: groupListSchema }, 400: problem('Unexpected query') },
      handler: async () => ({ status: 200, body: { groups: await listGroups(pool, defaultLimit) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/groups/{group}',
      operationId: 'getGroup',
      summary: 'One group',
      tags: TAGS,
      params: groupParams,
      responses: { 200: { description: 'The group', schema: groupSchema }, 400: problem('Invalid group name'), 404: problem('No such group') },
      handler: async ({ params }) => {
        const group = await getGroup(pool, params.group, defaultLimit);
        if (!group) throw notFound('group');
        return { status: 200, body: group };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/groups/{group}',
      operationId: 'updateGroup',
      summary: "Set a group's concurrency limit, maintenance, check policy or gateway host (creates its settings if needed)",
      tags: TAGS,
      params: groupParams,
      body: groupUpdateSchema,
      responses: { 200: { description: 'The group', schema: groupSchema }, 400: problem('Invalid body, an unknown gateway, or a dependency cycle (named)') },
      handler: async ({ params, body }) => {
        if (body.policy_id !== undefined) await assignGroupPolicy(params.group, body.policy_id);
        if (body.gateway_host_id) await checkParentRefs(pool, [body.gateway_host_id], '', 'body.gateway_host_id');
        if (body.gateway_host_id !== undefined) await changeGroupGateway(pool, params.group, body.gateway_host_id, defaultLimit);
        await upsertGroup(pool, params.group, { maxConcurrentChecks: body.max_concurrent_checks, maintenance: body.maintenance }, defaultLimit);
        if (body.maintenance === false) await makeGroupDueSoon(pool, params.group, spread);
        return { status: 200, body: (await getGroup(pool, params.group, defaultLimit))! };
      },
    }),
    bulk('reset', 'Put every host of the group back to HEALTHY with cleared counters (recorded in history, with state_changed events; open incidents are resolved)', (group) =>
      withTransaction(pool, async (tx) => {
        const hosts = await resetGroupHosts(tx, group, { machineSnapshot: initialHealth(deps.machine), priority: config.states.HEALTHY.priority, spreadSeconds: spread });
        const historyIds = await insertResetHistory(tx, hosts);
        await recordResetEffects(tx, hosts, historyIds);
        return hosts.length;
      }),
    ),
    bulk('enable', 'Enable every host of the group', (group) => setGroupEnabled(pool, group, true, spread)),
    bulk('disable', 'Disable every host of the group', (group) => setGroupEnabled(pool, group, false, spread)),
  ];
}
