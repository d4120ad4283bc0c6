import { z } from 'zod';
import { EVENT_TYPES } from '../db/queries/events.ts';
import { NOTIFICATION_KINDS, NOTIFICATION_STATUSES } from '../db/queries/notification-deliveries.ts';
import { CHANNEL_CONFIG_SCHEMAS, CHANNEL_TYPES } from '../notifications/channel-config.ts';
import { cursorParam, pgBigint } from './cursor.ts';
import { apiRegistry, hostStateSchema } from './schemas.ts';

/** Request and response shapes of the notification channels and rules API (src/api/notifications-routes.ts). */

const named = <T extends z.ZodType>(id: string, schema: T): T => {
  apiRegistry.add(schema, { id });
  return schema;
};
const isoTime = z.iso.datetime({ offset: true });
const channelName = z.string().trim().min(1).max(100).describe('Unique name, e.g. "ops e-mail" or "#alerts"');
const rateLimit = z
  .int()
  .min(1)
  .max(1000)
  .describe('Messages per rolling minute; beyond it notifications are held and summed up in one digest message (docs/notifications.md)');

const createOf = <T extends (typeof CHANNEL_TYPES)[number], C extends z.ZodType>(type: T, config: C) =>
  z
    .object({
      name: channelName,
      type: z.literal(type),
      config,
      enabled: z.boolean().default(true).describe('Disabled channels get no new notifications; pending ones are dropped'),
      rate_limit_per_minute: rateLimit.default(10),
    })
    .strict();

export const channelCreateSchema = named(
  'NotificationChannelCreate',
  z
    .discriminatedUnion('type', [
      createOf('email', CHANNEL_CONFIG_SCHEMAS.email),
      createOf('slack', CHANNEL_CONFIG_SCHEMAS.slack),
      createOf('teams', CHANNEL_CONFIG_SCHEMAS.teams),
      createOf('pagerduty', CHANNEL_CONFIG_SCHEMAS.pagerduty),
      createOf('webhook', CHANNEL_CONFIG_SCHEMAS.webhook),
    ])
    .describe("A channel: its type's configuration; secret fields (password, url of Slack/Teams, routing_key, secret) are write-only"),
);

export const channelPatchSchema = named(
  'NotificationChannelPatch',
  z
    .object({
      name: channelName,
      config: z
        .record(z.string(), z.unknown())
        .describe("Fields of the channel's configuration to change (the others are kept, secrets included); null removes an optional field"),
      enabled: z.boolean(),
      rate_limit_per_minute: rateLimit,
    })
    .partial()
    .strict()
    .refine((p) => Object.keys(p).length > 0, 'give at least one field to change'),
);

export const channelSchema = named(
  'NotificationChannel',
  z
    .object({
      id: z.uuid(),
      name: z.string(),
      type: z.enum(CHANNEL_TYPES),
      config: z.record(z.string(), z.unknown()).describe('The configuration without its secret fields'),
      secrets_set: z.array(z.string()).describe('Secret fields that are set; their values are never returned'),
      enabled: z.boolean(),
      rate_limit_per_minute: z.int(),
      created_at: isoTime,
      updated_at: isoTime,
    })
    .describe('A notification channel'),
);

export const channelListSchema = named('NotificationChannelList', z.object({ channels: z.array(channelSchema) }));
export const channelIdParams = z.object({ channel_id: z.uuid().describe('Channel id') }).strict();

export const testSendResultSchema = named(
  'NotificationTestResult',
  z.object({
    delivery_id: z.string().describe('The test in the delivery log'),
    delivered: z.boolean().describe('The channel took the message (2xx, SMTP 250)'),
    status_code: z.int().nullable().describe('HTTP status or SMTP reply code; null when none came'),
    error: z.string().nullable().describe('Why it was not delivered'),
    latency_ms: z.number(),
  }),
);

export const channelDeliveryQuery = z
  .object({
    status: z.enum(NOTIFICATION_STATUSES).optional(),
    cursor: cursorParam(z.tuple([pgBigint]), 'Cursor: the next_cursor of the previous page').optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

export const channelDeliverySchema = named(
  'NotificationDelivery',
  z.object({
    id: z.string(),
    kind: z.enum(NOTIFICATION_KINDS).describe('event; renotify: reminder of an open incident; digest: summary of held ones; test'),
    rule_id: z.uuid().nullable(),
    event_id: z.string().nullable(),
    event_type: z.string().nullable(),
    incident_id: z.uuid().nullable(),
    host_id: z.uuid().nullable(),
    title: z.string().describe("The message's headline"),
    status: z
      .enum(NOTIFICATION_STATUSES)
      .describe('pending: queued or retrying; delivered; failed: every attempt failed; held: rate-limited, waiting for its digest; digested: summed up in digest_id; suppressed: not sent, last_error says why'),
    digest_id: z.string().nullable(),
    attempts: z.int(),
    last_status_code: z.int().nullable().describe('HTTP status or SMTP reply code of the last attempt'),
    last_error: z.string().nullable(),
    latency_ms: z.number().nullable(),
    created_at: isoTime,
    last_attempt_at: isoTime.nullable(),
    delivered_at: isoTime.nullable(),
    failed_at: isoTime.nullable(),
    next_attempt_at: isoTime.nullable(),
  }),
);

export const channelDeliveryPageSchema = named(
  'NotificationDeliveryPage',
  z.object({
    channel_id: z.uuid(),
    deliveries: z.array(channelDeliverySchema).describe('Newest first'),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null at the end'),
  }),
);

// ---- rules ----------------------------------------------------------------------------------

const ruleFields = {
  name: channelName.describe('Unique name'),
  channel_ids: z.array(z.uuid()).min(1).max(20).describe('Channels the matching events go to'),
  event_types: z.array(z.enum(EVENT_TYPES)).max(EVENT_TYPES.length).describe('Only these event types; empty = all'),
  states: z
    .array(hostStateSchema)
    .max(10)
    .describe("Only events into these states (for incident events: the state that opened the incident, so its acknowledgement and resolution follow); empty = all"),
  groups: z.array(z.string().trim().min(1).max(255)).max(100).describe('Only hosts in these groups; empty = all'),
  tags: z.array(z.string().trim().min(1).max(64)).max(32).describe('Only hosts with any of these tags; empty = all'),
  host_ids: z.array(z.uuid()).max(1000).describe('Only these hosts; empty = all'),
  cooldown_seconds: z.int().min(0).max(604_800).describe('The same message (event type, incident or host, state) is not sent twice to a channel within this'),
  renotify_seconds: z
    .int()
    .min(1)
    .max(604_800)
    .nullable()
    .describe('While an incident stays open and unacknowledged, send a reminder this often; null = off'),
  enabled: z.boolean(),
};

export const ruleCreateSchema = named(
  'NotificationRuleCreate',
  z
    .object({
      ...ruleFields,
      event_types: ruleFields.event_types.default([]),
      states: ruleFields.states.default([]),
      groups: ruleFields.groups.default([]),
      tags: ruleFields.tags.default([]),
      host_ids: ruleFields.host_ids.default([]),
      cooldown_seconds: ruleFields.cooldown_seconds.default(300),
      renotify_seconds: ruleFields.renotify_seconds.default(null),
      enabled: ruleFields.enabled.default(true),
    })
    .strict()
    .describe('A rule: events matching every filter go to its channels (only events after the rule was created)'),
);

export const rulePatchSchema = named(
  'NotificationRulePatch',
  z
    .object(ruleFields)
    .partial()
    .strict()
    .refine((p) => Object.keys(p).length > 0, 'give at least one field to change'),
);

export const ruleSchema = named(
  'NotificationRule',
  z.object({
    id: z.uuid(),
    name: z.string(),
    channel_ids: z.array(z.uuid()),
    event_types: z.array(z.enum(EVENT_TYPES)),
    states: z.array(hostStateSchema),
    groups: z.array(z.string()),
    tags: z.array(z.string()),
    host_ids: z.array(z.uuid()),
    cooldown_seconds: z.int(),
    renotify_seconds: z.int().nullable(),
    enabled: z.boolean(),
    after_event_id: z.string().describe('Only events with a greater id are notified: the newest event when the rule was created'),
    created_at: isoTime,
    updated_at: isoTime,
  }),
);

export const ruleListSchema = named('NotificationRuleList', z.object({ rules: z.array(ruleSchema) }));
export const ruleIdParams = z.object({ rule_id: z.uuid().describe('Rule id') }).strict();
