import { randomUUID } from 'node:crypto';
import { listNotificationLog, insertTestDelivery, type NotificationLogRow } from '../db/queries/notification-deliveries.ts';
import {
  deleteChannel,
  getChannel,
  insertChannel,
  listChannels,
  updateChannel,
  type ChannelRow,
} from '../db/queries/notification-settings.ts';
import { AppError, badRequest, coerceError, notFound } from '../lib/errors.ts';
import { CHANNEL_CONFIG_SCHEMAS, parseChannelConfig, splitSecrets } from '../notifications/channel-config.ts';
import { buildTestMessage } from '../notifications/message.ts';
import { openChannelSecrets, sealChannelSecrets } from '../notifications/secrets.ts';
import { sendNotification } from '../notifications/send.ts';
import { QUEUES } from '../queue/names.ts';
import { createReceiverPolicy, literalAddress } from '../webhooks/receiver-address.ts';
import { encodeCursor } from './cursor.ts';
import type { ApiDeps } from './deps.ts';
import { NOTIFICATION_EXAMPLES as EX } from './notification-examples.ts';
import {
  channelCreateSchema,
  channelDeliveryPageSchema,
  channelDeliveryQuery,
  channelIdParams,
  channelListSchema,
  channelPatchSchema,
  channelSchema,
  testSendResultSchema,
} from './notification-schemas.ts';
import { ruleRoutes } from './notification-rules-routes.ts';
import { fieldErrors } from './problem.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import { problemSchema } from './schemas.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const CHANNEL_TAGS = ['notifications'];
const iso = (d: Date | null) => (d ? d.toISOString() : null);
/** Test sends at once per API process: each may wait up to VIGIL_NOTIFY_TIMEOUT_MS on a channel. */
const TEST_SENDS_MAX = 4;

/** A channel as the API shows it: never a secret value, only which secret fields are set. */
function serializeChannel(c: ChannelRow) {
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    config: c.settings,
    secrets_set: c.secret_fields,
    enabled: c.enabled,
    rate_limit_per_minute: c.rate_limit_per_minute,
    created_at: c.created_at.toISOString(),
    updated_at: c.updated_at.toISOString(),
  };
}

function serializeDelivery(d: NotificationLogRow) {
  const { last_latency_ms, created_at, last_attempt_at, delivered_at, failed_at, next_attempt_at, ...rest } = d;
  return {
    ...rest,
    latency_ms: last_latency_ms,
    created_at: created_at.toISOString(),
    last_attempt_at: iso(last_attempt_at),
    delivered_at: iso(delivered_at),
    failed_at: iso(failed_at),
    next_attempt_at: iso(next_attempt_at),
  };
}

/**
 * Notification channels, their test send and delivery logs, and the rules routing events to them
 * (./notification-rules-routes.ts).
 * Admin only: a channel sends fleet events to a destination of the caller's choosing. Secret
 * fields are write-only and sealed with VIGIL_SECRET_KEY.
 */
export function notificationRoutes(deps: ApiDeps): RouteSpec[] {
  return [...channelRoutes(deps), ...ruleRoutes(deps)];
}

function channelRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool } = deps;
  const byId = { params: channelIdParams };
  const requireChannel = async (id: string) => {
    const row = await getChannel(pool, id);
    if (!row) throw notFound('notification channel');
    return row;
  };
  let testSends = 0;
  return [
    defineRoute({
      method: 'post',
      path: '/api/notification-channels',
      operationId: 'createNotificationChannel',
      summary: 'Create a notification channel: e-mail, Slack, Microsoft Teams, PagerDuty or a signed webhook',
      tags: CHANNEL_TAGS,
      scope: 'admin',
      body: channelCreateSchema,
      examples: { request: EX.channelCreate, responses: { 201: [EX.channel] } },
      responses: {
        201: { description: 'Created; secret fields are not echoed', schema: channelSchema },
        400: problem('Invalid body'),
        409: problem('The name is taken'),
        503: problem('The channel has secret fields but no secret key is configured to encrypt them'),
      },
      handler: async ({ body }) => {
        refuseNonPublicReceivers(deps, body.config, 'body.config');
        const id = randomUUID();
        const { settings, secrets } = splitSecrets(body.type, body.config);
        const sealed = secrets === null ? null : sealChannelSecrets(deps.secretKey, id, secrets);
        const secretFields = Object.keys(secrets ?? {}).sort();
        const row = await insertChannel(pool, id, { name: body.name, type: body.type, settings, secrets: sealed, secretFields, enabled: body.enabled, rateLimitPerMinute: body.rate_limit_per_minute });
        return { status: 201, body: serializeChannel(row), headers: { Location: `/api/notification-channels/${id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/notification-channels',
      operationId: 'listNotificationChannels',
      summary: 'List notification channels (never their secrets)',
      tags: CHANNEL_TAGS,
      scope: 'admin',
      examples: { responses: { 200: [EX.channelList] } },
      responses: { 200: { description: 'Every channel, oldest first', schema: channelListSchema }, 400: problem('Unexpected query') },
      handler: async () => ({ status: 200, body: { channels: (await listChannels(pool)).map(serializeChannel) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/notification-channels/{channel_id}',
      operationId: 'getNotificationChannel',
      summary: 'One notification channel (without its secrets)',
      tags: CHANNEL_TAGS,
      scope: 'admin',
      ...byId,
      examples: { responses: { 200: [EX.channel] } },
      responses: { 200: { description: 'The channel', schema: channelSchema }, 400: problem('Malformed id'), 404: problem('No such channel') },
      handler: async ({ params }) => {
        return { status: 200, body: serializeChannel(await requireChannel(params.channel_id)) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/notification-channels/{channel_id}',
      operationId: 'updateNotificationChannel',
      summary: "Change a channel: name, configuration fields (secrets included), enabled, rate limit",
      description: 'Configuration fields not given are kept. Pending notifications use the new configuration from their next attempt; disabling drops them.',
      tags: CHANNEL_TAGS,
      scope: 'admin',
      ...byId,
      body: channelPatchSchema,
      examples: { request: EX.channelPatch, responses: { 200: [EX.channel] } },
      responses: {
        200: { description: 'The channel', schema: channelSchema },
        400: problem('Invalid id or body'),
        404: problem('No such channel'),
        409: problem('The name is taken'),
        503: problem('Secret fields are involved but no secret key is configured'),
      },
      handler: async ({ params, body }) => {
        const row = await requireChannel(params.channel_id);
        let change: { settings?: Record<string, unknown>; secrets?: Buffer | null; secretFields?: string[] } = {};
        if (body.config !== undefined) {
          const merged = mergeConfig({ ...row.settings, ...openSecrets(deps, row) }, body.config);
          const parsed = CHANNEL_CONFIG_SCHEMAS[row.type].safeParse(merged);
          if (!parsed.success) throw badRequest('invalid channel configuration', fieldErrors('body.config', parsed.error));
          refuseNonPublicReceivers(deps, parsed.data as Record<string, unknown>, 'body.config');
          const { settings, secrets } = splitSecrets(row.type, parsed.data as Record<string, unknown>);
          change = { settings, secrets: secrets === null ? null : sealChannelSecrets(deps.secretKey, row.id, secrets), secretFields: Object.keys(secrets ?? {}).sort() };
        }
        const updated = await updateChannel(pool, row.id, { name: body.name, enabled: body.enabled, rateLimitPerMinute: body.rate_limit_per_minute, ...change });
        if (!updated) throw notFound('notification channel');
        return { status: 200, body: serializeChannel(updated) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/notification-channels/{channel_id}',
      operationId: 'deleteNotificationChannel',
      summary: 'Delete a channel and its delivery log (rules keep their other channels)',
      tags: CHANNEL_TAGS,
      scope: 'admin',
      ...byId,
      responses: { 204: { description: 'Deleted; queued notifications are dropped' }, 400: problem('Malformed id'), 404: problem('No such channel') },
      handler: async ({ params }) => {
        if (!(await deleteChannel(pool, params.channel_id))) throw notFound('notification channel');
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/notification-channels/{channel_id}/test',
      operationId: 'testNotificationChannel',
      summary: 'Send a sample message to a channel now and report how it went',
      description:
        'Synchronous: answers once the channel took the message or failed (at most VIGIL_NOTIFY_TIMEOUT_MS). A failure is a 200 with delivered=false and the error. Logged in the delivery log as kind=test. Works on disabled channels too.',
      tags: CHANNEL_TAGS,
      scope: 'admin',
      ...byId,
      examples: { responses: { 200: EX.testResults } },
      responses: {
        200: { description: 'What the channel answered', schema: testSendResultSchema },
        400: problem('Malformed id'),
        404: problem('No such channel'),
        429: problem('Too many test sends at once on this server (Retry-After says when to try again)'),
        503: problem("The channel's secrets cannot be opened: no secret key is configured"),
      },
      handler: async ({ params }) => {
        const row = await requireChannel(params.channel_id);
        const channel = parseChannelConfig(row.type, { ...row.settings, ...openSecrets(deps, row) });
        if (testSends >= TEST_SENDS_MAX) throw new AppError('rate_limited', 429, `${TEST_SENDS_MAX} test sends are running on this server; retry in a few seconds`, [], { 'Retry-After': '5' });
        testSends++;
        try {
          const message = buildTestMessage(row.name, deps.config.notifications.publicUrl, new Date());
          const policy = createReceiverPolicy(deps.config.webhooks.allowNetworks);
          const result = await sendNotification(channel, message, { deliveryId: randomUUID(), timeoutMs: deps.config.notifications.timeoutMs, policy });
          const status = result.delivered ? 'delivered' : 'failed';
          const deliveryId = await insertTestDelivery(pool, row.id, message, { statusCode: result.statusCode, error: result.error, latencyMs: result.latencyMs, status });
          return { status: 200, body: { delivery_id: deliveryId, delivered: result.delivered, status_code: result.statusCode, error: result.error, latency_ms: result.latencyMs } };
        } finally {
          testSends--;
        }
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/notification-channels/{channel_id}/deliveries',
      operationId: 'listNotificationDeliveries',
      summary: "A channel's delivery log, newest first: status, attempts, last error, latency; held and suppressed ones with the reason",
      tags: CHANNEL_TAGS,
      scope: 'admin',
      ...byId,
      query: channelDeliveryQuery,
      examples: { responses: { 200: [EX.deliveryPage] } },
      responses: {
        200: { description: 'A page of deliveries', schema: channelDeliveryPageSchema },
        400: problem('Invalid id or query'),
        404: problem('No such channel'),
      },
      handler: async ({ params, query }) => {
        await requireChannel(params.channel_id);
        const rows = await listNotificationLog(pool, params.channel_id, { queue: QUEUES.notifications, status: query.status, beforeId: query.cursor?.[0], limit: query.limit + 1 });
        const page = rows.slice(0, query.limit);
        const next = rows.length > query.limit ? encodeCursor([page.at(-1)!.id]) : null;
        return { status: 200, body: { channel_id: params.channel_id, deliveries: page.map(serializeDelivery), next_cursor: next } };
      },
    }),
  ];
}

/** Opens a channel's secrets for a change or a test; a key problem is a 503 naming what to do. */
function openSecrets(deps: ApiDeps, row: ChannelRow): Record<string, string> {
  try {
    return openChannelSecrets(deps.secretKey, row.id, row.secrets);
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('secret_unreadable', 503, `the channel's secrets cannot be opened (${coerceError(err).message}); set its secret fields again with PATCH`);
  }
}

/** A PATCH's configuration over the stored one: given fields replace, null removes an optional field. */
function mergeConfig(current: Record<string, unknown>, change: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...current, ...change };
  for (const [k, v] of Object.entries(change)) if (v === null) delete merged[k];
  return merged;
}

/**
 * A receiver given as a literal non-public address is refused at once (as for webhooks); names are
 * checked after resolution at each attempt (src/webhooks/receiver-address.ts).
 */
function refuseNonPublicReceivers(deps: ApiDeps, config: Record<string, unknown>, where: string): void {
  const policy = createReceiverPolicy(deps.config.webhooks.allowNetworks);
  const targets: [string, string | undefined][] = [
    ['url', typeof config.url === 'string' && URL.canParse(config.url) ? new URL(config.url).hostname : undefined],
    ['events_url', typeof config.events_url === 'string' && URL.canParse(config.events_url) ? new URL(config.events_url).hostname : undefined],
    ['smtp_host', typeof config.smtp_host === 'string' ? config.smtp_host : undefined],
  ];
  for (const [field, hostname] of targets) {
    const address = hostname === undefined ? undefined : literalAddress(hostname);
    const refusal = address === undefined ? null : policy.refusal(address);
    // A Slack/Teams URL is secret: the refusal names the address, not the URL.
    if (refusal) throw badRequest('receiver not allowed', [{ field: `${where}.${field}`, message: refusal }]);
  }
}
