import { randomUUID } from 'node:crypto';
import { deleteHost, getHost, insertHost, listHosts, updateHost, type HostPatch } from '../db/queries/hosts.ts';
import { notFound } from '../lib/errors.ts';
import { initialHealth } from '../machine/apply-result.ts';
import { firstCheckDelayMs } from '../machine/schedule.ts';
import type { ApiDeps } from './deps.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import { hostCreateSchema, hostIdParams, hostListQuery, hostListSchema, hostPatchSchema, hostSchema, problemSchema } from './schemas.ts';
import { serializeHost } from './serialize.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const TAGS = ['hosts'];

export function hostRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool, config, machine } = deps;
  const soon = (hostId: string) => new Date(Date.now() + firstCheckDelayMs(hostId, config));

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
        const row = await insertHost(pool, {
          ...body,
          id,
          machineSnapshot: initialHealth(machine),
          state: 'HEALTHY',
          priority: config.states.HEALTHY.priority,
          nextCheckTime: soon(id),
        });
        return { status: 201, body: serializeHost(row), headers: { Location: `/api/hosts/${id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/hosts',
      operationId: 'listHosts',
      summary: 'List hosts, by name, with filters',
      tags: TAGS,
      query: hostListQuery,
      responses: { 200: { description: 'A page of hosts', schema: hostListSchema }, 400: problem('Invalid query') },
      handler: async ({ query }) => {
        const rows = await listHosts(pool, { ...query, afterName: query.after });
        const next = rows.length === query.limit ? rows[rows.length - 1]!.name : null;
        return { status: 200, body: { hosts: rows.map(serializeHost), next_cursor: next } };
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
        return { status: 200, body: serializeHost(row) };
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
        400: problem('Invalid body or id'),
        404: problem('No such host'),
        409: problem('Name taken'),
      },
      handler: async ({ params, body }) => {
        const patch: HostPatch = { ...body };
        if (body.probes !== undefined || body.address !== undefined || body.enabled === true) patch.nextCheckTime = soon(params.host_id);
        const row = await updateHost(pool, params.host_id, patch);
        if (!row) throw notFound('host');
        return { status: 200, body: serializeHost(row) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/hosts/{host_id}',
      operationId: 'deleteHost',
      summary: 'Delete a host and its history',
      tags: TAGS,
      params: hostIdParams,
      responses: { 204: { description: 'Deleted' }, 400: problem('Malformed id'), 404: problem('No such host') },
      handler: async ({ params }) => {
        if (!(await deleteHost(pool, params.host_id))) throw notFound('host');
        return { status: 204 };
      },
    }),
  ];
}
