import { randomUUID } from 'node:crypto';
import { deleteWebhook, getWebhook, insertWebhook, listDeliveries, listWebhooks, updateWebhook, type DeliveryLogRow, type WebhookRow } from '../db/queries/webhooks.ts';
import { badRequest, notFound } from '../lib/errors.ts';
import { createReceiverPolicy, literalAddress } from '../webhooks/receiver-address.ts';
import { QUEUES } from '../queue/names.ts';
import { sealWebhookSecret } from '../webhooks/secret.ts';
import { encodeCursor } from './cursor.ts';
import type { ApiDeps } from './deps.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import {
  problemSchema,
  webhookCreateSchema,
  webhookDeliveryPageSchema,
  webhookDeliveryQuery,
  webhookIdParams,
  webhookListSchema,
  webhookPatchSchema,
  webhookSchema,
} from './schemas.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const TAGS = ['webhooks'];
const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A subscription as the API shows it: never its secret, only whether it has one. */
function serializeWebhook(w: WebhookRow) {
  return {
    id: w.id,
    url: w.url,
    has_secret: w.secret !== null,
    event_types: w.event_types,
    states: w.states,
    groups: w.groups,
    enabled: w.enabled,
    after_event_id: w.after_event_id,
    created_at: w.created_at.toISOString(),
    updated_at: w.updated_at.toISOString(),
  };
}

function serializeDelivery(d: DeliveryLogRow) {
  return {
    id: d.id,
    event_id: d.event_id,
    event_type: d.event_type,
    status: d.status,
    attempts: d.attempts,
    last_status_code: d.last_status_code,
    last_error: d.last_error,
    latency_ms: d.last_latency_ms,
    created_at: d.created_at.toISOString(),
    last_attempt_at: iso(d.last_attempt_at),
    delivered_at: iso(d.delivered_at),
    failed_at: iso(d.failed_at),
    next_attempt_at: iso(d.next_attempt_at),
  };
}

/**
 * Webhook subscriptions (admin only: a subscription sends fleet events to a URL of its choosing)
 * and their delivery logs. Secrets are write-only and sealed with VIGIL_SECRET_KEY.
 */
export function webhookRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool } = deps;
  const byId = { params: webhookIdParams };
  const requireWebhook = async (id: string) => {
    const row = await getWebhook(pool, id);
    if (!row) throw notFound('webhook');
    return row;
  };
  return [
    defineRoute({
      method: 'post',
      path: '/api/webhooks',
      operationId: 'createWebhook',
      summary: 'Subscribe a URL to events (only events after now are sent)',
      tags: TAGS,
      scope: 'admin',
      body: webhookCreateSchema,
      responses: {
        201: { description: 'Created; the secret is not echoed', schema: webhookSchema },
        400: problem('Invalid body'),
        503: problem('A secret was given but no secret key is configured to encrypt it'),
      },
      handler: async ({ body }) => {
        refuseNonPublicReceiver(deps, body.url);
        const id = randomUUID();
        const secret = body.secret === undefined ? null : sealWebhookSecret(deps.secretKey, id, body.secret);
        const row = await insertWebhook(pool, id, { url: body.url, secret, eventTypes: body.event_types, states: body.states, groups: body.groups, enabled: body.enabled });
        return { status: 201, body: serializeWebhook(row), headers: { Location: `/api/webhooks/${row.id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/webhooks',
      operationId: 'listWebhooks',
      summary: 'List webhook subscriptions (never their secrets)',
      tags: TAGS,
      scope: 'admin',
      responses: { 200: { description: 'Every subscription, oldest first', schema: webhookListSchema }, 400: problem('Unexpected query') },
      handler: async () => ({ status: 200, body: { webhooks: (await listWebhooks(pool)).map(serializeWebhook) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/webhooks/{webhook_id}',
      operationId: 'getWebhook',
      summary: 'One webhook subscription (without its secret)',
      tags: TAGS,
      scope: 'admin',
      ...byId,
      responses: { 200: { description: 'The subscription', schema: webhookSchema }, 400: problem('Malformed id'), 404: problem('No such webhook') },
      handler: async ({ params }) => ({ status: 200, body: serializeWebhook(await requireWebhook(params.webhook_id)) }),
    }),
    defineRoute({
      method: 'patch',
      path: '/api/webhooks/{webhook_id}',
      operationId: 'updateWebhook',
      summary: 'Change a subscription: URL, secret, filters, enabled',
      description: 'Pending deliveries use the new URL and secret from their next attempt; disabling drops them.',
      tags: TAGS,
      scope: 'admin',
      ...byId,
      body: webhookPatchSchema,
      responses: {
        200: { description: 'The subscription', schema: webhookSchema },
        400: problem('Invalid id or body'),
        404: problem('No such webhook'),
        503: problem('A secret was given but no secret key is configured to encrypt it'),
      },
      handler: async ({ params, body }) => {
        if (body.url !== undefined) refuseNonPublicReceiver(deps, body.url);
        await requireWebhook(params.webhook_id);
        const secret = body.secret === undefined || body.secret === null ? body.secret : sealWebhookSecret(deps.secretKey, params.webhook_id, body.secret);
        const row = await updateWebhook(pool, params.webhook_id, {
          url: body.url,
          secret,
          eventTypes: body.event_types,
          states: body.states,
          groups: body.groups,
          enabled: body.enabled,
        });
        if (!row) throw notFound('webhook');
        return { status: 200, body: serializeWebhook(row) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/webhooks/{webhook_id}',
      operationId: 'deleteWebhook',
      summary: 'Delete a subscription and its delivery log',
      tags: TAGS,
      scope: 'admin',
      ...byId,
      responses: { 204: { description: 'Deleted; queued deliveries are dropped' }, 400: problem('Malformed id'), 404: problem('No such webhook') },
      handler: async ({ params }) => {
        if (!(await deleteWebhook(pool, params.webhook_id))) throw notFound('webhook');
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/webhooks/{webhook_id}/deliveries',
      operationId: 'listWebhookDeliveries',
      summary: "A subscription's delivery log, newest first: attempts, last status code, error and latency",
      tags: TAGS,
      scope: 'admin',
      ...byId,
      query: webhookDeliveryQuery,
      responses: {
        200: { description: 'A page of deliveries', schema: webhookDeliveryPageSchema },
        400: problem('Invalid id or query'),
        404: problem('No such webhook'),
      },
      handler: async ({ params, query }) => {
        await requireWebhook(params.webhook_id);
        const rows = await listDeliveries(pool, params.webhook_id, { queue: QUEUES.webhooks, status: query.status, beforeId: query.cursor?.[0], limit: query.limit + 1 });
        const page = rows.slice(0, query.limit);
        const next = rows.length > query.limit ? encodeCursor([page.at(-1)!.id]) : null;
        return { status: 200, body: { webhook_id: params.webhook_id, deliveries: page.map(serializeDelivery), next_cursor: next } };
      },
    }),
  ];
}

/**
 * A URL naming a non-public address is refused at once; a name is checked after resolution, at
 * each delivery (src/webhooks/receiver-address.ts), so the API never waits on DNS.
 */
function refuseNonPublicReceiver(deps: ApiDeps, url: string): void {
  const address = literalAddress(new URL(url).hostname);
  const refusal = address === undefined ? null : createReceiverPolicy(deps.config.webhooks.allowNetworks).refusal(address);
  if (refusal) throw badRequest('webhook receiver not allowed', [{ field: 'body.url', message: refusal }]);
}
