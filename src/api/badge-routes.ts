import { z } from 'zod';
import type { Express } from 'express';
import { findPublicBadge, listPublicBadges, publishGroupBadges, publishHostBadge, unpublishGroupBadges, unpublishHostBadge } from '../db/queries/badges.ts';
import type { Pool } from '../db/pool.ts';
import { notFound } from '../lib/errors.ts';
import { renderBadge } from './badge-svg.ts';
import type { ApiDeps } from './deps.ts';
import { PROBLEM_TYPE } from './problem.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import { apiRegistry, groupParams, hostIdParams, problemSchema } from './schemas.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const TAGS = ['badges'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The badge's stable URL (no token needed once the host or its group is public). */
export const badgePath = (hostId: string) => `/badges/hosts/${hostId}.svg`;

export const publicBadgeListSchema = z.object({
  hosts: z.array(z.object({ host_id: z.uuid(), name: z.string(), badge_url: z.string().describe('Path of the SVG badge') })),
  groups: z.array(z.string()).describe('Groups whose every host has a public badge'),
});
apiRegistry.add(publicBadgeListSchema, { id: 'PublicBadgeList' });

const LIST_EXAMPLE = {
  name: 'PublicBadgeList',
  summary: 'One host and one group made public',
  value: { hosts: [{ host_id: '06909604-8df5-4680-bb1c-e7dc7f17dcbf', name: 'web-1', badge_url: '/badges/hosts/06909604-8df5-4680-bb1c-e7dc7f17dcbf.svg' }], groups: ['status-page'] },
};

async function listBody(pool: Pool) {
  const list = await listPublicBadges(pool);
  return { hosts: list.hosts.map((h) => ({ ...h, badge_url: badgePath(h.host_id) })), groups: list.groups };
}

/**
 * Status badges: an SVG per host at /badges/hosts/{id}.svg, served without a token only for
 * hosts (or groups) an admin made public here. Everything else answers 404, as for no host.
 */
export function badgeRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool } = deps;
  const listed = { 200: { description: 'What is public now', schema: publicBadgeListSchema } };
  const examples = { responses: { 200: [LIST_EXAMPLE] } };
  return [
    defineRoute({
      method: 'get', path: '/api/badges', operationId: 'listPublicBadges', tags: TAGS,
      summary: 'Hosts and groups whose status badge is served without a token',
      responses: { ...listed, 400: problem('Unexpected query') }, examples,
      handler: async () => ({ status: 200, body: await listBody(pool) }),
    }),
    defineRoute({
      method: 'post', path: '/api/badges/hosts/{host_id}', operationId: 'publishHostBadge', tags: TAGS, scope: 'admin',
      summary: "Serve this host's status badge without a token (its name and state only)",
      params: hostIdParams, responses: { ...listed, 400: problem('Malformed id'), 404: problem('No such host') }, examples,
      handler: async ({ params }) => {
        if (!(await publishHostBadge(pool, params.host_id))) throw notFound('host');
        return { status: 200, body: await listBody(pool) };
      },
    }),
    defineRoute({
      method: 'delete', path: '/api/badges/hosts/{host_id}', operationId: 'unpublishHostBadge', tags: TAGS, scope: 'admin',
      summary: "Stop serving this host's badge without a token (its group may still be public)",
      params: hostIdParams, responses: { ...listed, 400: problem('Malformed id') }, examples,
      handler: async ({ params }) => {
        await unpublishHostBadge(pool, params.host_id);
        return { status: 200, body: await listBody(pool) };
      },
    }),
    defineRoute({
      method: 'post', path: '/api/badges/groups/{group}', operationId: 'publishGroupBadges', tags: TAGS, scope: 'admin',
      summary: 'Serve the badge of every host in this group (now and later) without a token',
      params: groupParams, responses: { ...listed, 400: problem('Malformed group') }, examples,
      handler: async ({ params }) => {
        await publishGroupBadges(pool, params.group);
        return { status: 200, body: await listBody(pool) };
      },
    }),
    defineRoute({
      method: 'delete', path: '/api/badges/groups/{group}', operationId: 'unpublishGroupBadges', tags: TAGS, scope: 'admin',
      summary: "Stop serving this group's badges without a token",
      params: groupParams, responses: { ...listed, 400: problem('Malformed group') }, examples,
      handler: async ({ params }) => {
        await unpublishGroupBadges(pool, params.group);
        return { status: 200, body: await listBody(pool) };
      },
    }),
  ];
}

/** The public SVG endpoint (outside /api: no token, embeddable in any page). */
export function serveBadges(app: Express, pool: Pool): void {
  app.get('/badges/hosts/:file', async (req, res) => {
    const hostId = /^(.+)\.svg$/.exec(req.params.file)?.[1];
    const badge = hostId && UUID.test(hostId) ? await findPublicBadge(pool, hostId) : undefined;
    if (!badge) {
      // The same answer for "no such host" and "not public": a badge URL reveals nothing.
      res.status(404).type(PROBLEM_TYPE).json({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'no public badge here' });
      return;
    }
    res
      .set({ 'Cache-Control': 'public, max-age=30', 'Cross-Origin-Resource-Policy': 'cross-origin', 'X-Content-Type-Options': 'nosniff', 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'" })
      .type('image/svg+xml')
      .send(renderBadge(badge.name, badge.monitoring_state));
  });
}
