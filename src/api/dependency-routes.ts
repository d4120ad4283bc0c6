import type { Pool } from '../db/pool.ts';
import { unreachableHostsPage } from '../db/queries/dependencies.ts';
import { getIncident } from '../db/queries/incidents.ts';
import { removeHost } from '../db/queries/hosts.ts';
import { resolveHostRefs } from '../db/queries/dependencies.ts';
import { badRequest, notFound, type FieldError } from '../lib/errors.ts';
import type { ApiDeps } from './deps.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import { hostDeleteQuery, hostIdParams, incidentIdParams, problemSchema, unreachableHostsQuery, unreachableHostsSchema } from './schemas.ts';

/** Routes and checks of host dependencies: deleting a parent, an incident's UNREACHABLE hosts. */

const problem = (description: string) => ({ description, schema: problemSchema });

/** Every parent must be an existing host other than the host itself (400 naming the field). */
export async function checkParentRefs(pool: Pool, parentIds: string[], hostId: string, field = 'body.depends_on'): Promise<void> {
  const found = await resolveHostRefs(pool, parentIds);
  const errors: FieldError[] = [];
  parentIds.forEach((id, i) => {
    if (id === hostId) errors.push({ field: `${field}.${i}`, message: 'a host cannot depend on itself' });
    else if (!found.has(id)) errors.push({ field: `${field}.${i}`, message: `no host ${id}` });
  });
  if (errors.length > 0) throw badRequest('depends_on names unusable parents', errors);
}

export function deleteHostRoute(deps: ApiDeps): RouteSpec {
  return defineRoute({
    method: 'delete',
    path: '/api/hosts/{host_id}',
    operationId: 'deleteHost',
    summary: 'Delete a host and its history; a parent or gateway others depend on only with detach=true',
    tags: ['hosts'],
    params: hostIdParams,
    query: hostDeleteQuery,
    responses: {
      204: { description: 'Deleted' },
      400: problem('Malformed id'),
      404: problem('No such host'),
      409: problem('Other hosts depend on it (named); pass detach=true'),
    },
    handler: async ({ params, query }) => {
      if (!(await removeHost(deps.pool, params.host_id, query.detach))) throw notFound('host');
      return { status: 204 };
    },
  });
}

export function incidentUnreachableRoute(deps: ApiDeps): RouteSpec {
  return defineRoute({
    method: 'get',
    path: '/api/incidents/{incident_id}/unreachable-hosts',
    operationId: 'listIncidentUnreachableHosts',
    summary: "The hosts an incident's host made UNREACHABLE while it was open, by name, a page at a time",
    tags: ['incidents'],
    scope: 'read',
    params: incidentIdParams,
    query: unreachableHostsQuery,
    responses: {
      200: { description: 'A page of hosts', schema: unreachableHostsSchema },
      400: problem('Invalid id or query'),
      404: problem('No such incident'),
    },
    handler: async ({ params, query }) => {
      if (!(await getIncident(deps.pool, params.incident_id))) throw notFound('incident');
      const rows = await unreachableHostsPage(deps.pool, params.incident_id, query.after, query.limit + 1);
      const page = rows.slice(0, query.limit);
      return {
        status: 200,
        body: {
          hosts: page.map((r) => ({ host_id: r.host_id, name: r.name, group: r.group, monitoring_state: r.monitoring_state, since: r.since.toISOString() })),
          next_cursor: rows.length > query.limit ? page.at(-1)!.name : null,
        },
      };
    },
  });
}
