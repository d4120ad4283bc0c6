import type { z } from 'zod';
import type { ApiExample } from './route.ts';
import {
  channelCreateSchema,
  channelDeliveryPageSchema,
  channelListSchema,
  channelPatchSchema,
  channelSchema,
  ruleCreateSchema,
  ruleListSchema,
  rulePatchSchema,
  ruleSchema,
  testSendResultSchema,
} from './notification-schemas.ts';

/** Examples of the notifications API in openapi.yaml, typed by their schemas (see examples.ts). */

function requestExample<S extends z.ZodType>(_schema: S, name: string, summary: string, value: z.input<S>): ApiExample {
  return { name, summary, value };
}
function responseExample<S extends z.ZodType>(_schema: S, name: string, summary: string, value: z.output<S>): ApiExample {
  return { name, summary, value };
}

const CHANNEL_ID = '3f1c2a9e-6b7d-4c8e-9f0a-1b2c3d4e5f60';
const RULE_ID = '8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d';
const AT = '2026-05-04T10:00:00.412Z';

const channelValue: z.output<typeof channelSchema> = {
  id: CHANNEL_ID,
  name: 'ops e-mail',
  type: 'email',
  config: { smtp_host: 'smtp.example.com', smtp_port: 587, security: 'starttls', tls_verify: true, username: 'vigil', from: 'vigil@example.com', to: ['oncall@example.com'] },
  secrets_set: ['password'],
  enabled: true,
  rate_limit_per_minute: 10,
  created_at: AT,
  updated_at: AT,
};

const ruleValue: z.output<typeof ruleSchema> = {
  id: RULE_ID,
  name: 'page on DOWN',
  channel_ids: [CHANNEL_ID],
  event_types: ['incident_opened', 'incident_acknowledged', 'incident_resolved'],
  states: ['DOWN'],
  groups: [],
  tags: ['prod'],
  host_ids: [],
  cooldown_seconds: 300,
  renotify_seconds: 1800,
  enabled: true,
  after_event_id: '18233',
  created_at: AT,
  updated_at: AT,
};

export const NOTIFICATION_EXAMPLES = {
  channelCreate: [
    requestExample(channelCreateSchema, 'ChannelCreateEmail', 'E-mail over SMTP with STARTTLS and a login', {
      name: 'ops e-mail',
      type: 'email',
      config: { smtp_host: 'smtp.example.com', smtp_port: 587, security: 'starttls', username: 'vigil', password: 'app-password-123', from: 'vigil@example.com', to: ['oncall@example.com'] },
    }),
    requestExample(channelCreateSchema, 'ChannelCreateSlack', 'A Slack incoming webhook', {
      name: '#alerts',
      type: 'slack',
      config: { url: 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX' },
    }),
    requestExample(channelCreateSchema, 'ChannelCreateTeams', 'A Microsoft Teams workflow webhook', {
      name: 'Teams ops',
      type: 'teams',
      config: { url: 'https://prod-00.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=XXXX' },
    }),
    requestExample(channelCreateSchema, 'ChannelCreatePagerduty', 'PagerDuty Events API v2', {
      name: 'PagerDuty',
      type: 'pagerduty',
      config: { routing_key: 'R0123456789ABCDEF0123456789ABCDE', severity: 'critical' },
      rate_limit_per_minute: 30,
    }),
    requestExample(channelCreateSchema, 'ChannelCreateWebhook', 'A signed webhook', {
      name: 'ticketing',
      type: 'webhook',
      config: { url: 'https://tickets.example.com/hooks/vigil', secret: 'whsec_9f8e7d6c5b4a39281706' },
    }),
  ],
  channelPatch: [requestExample(channelPatchSchema, 'ChannelPatchPassword', 'Rotate the SMTP password', { config: { password: 'new-app-password-456' } })],
  channel: responseExample(channelSchema, 'NotificationChannel', 'An e-mail channel: the password is set but never shown', channelValue),
  channelList: responseExample(channelListSchema, 'NotificationChannelList', 'Channels, oldest first', { channels: [channelValue] }),
  testResults: [
    responseExample(testSendResultSchema, 'NotificationTestDelivered', 'The channel took the message', { delivery_id: '412', delivered: true, status_code: 200, error: null, latency_ms: 184.2 }),
    responseExample(testSendResultSchema, 'NotificationTestFailed', 'The URL is wrong', { delivery_id: '413', delivered: false, status_code: 404, error: 'HTTP 404', latency_ms: 95.1 }),
  ],
  deliveryPage: responseExample(channelDeliveryPageSchema, 'NotificationDeliveryPage', 'A delivered incident and a suppressed one', {
    channel_id: CHANNEL_ID,
    deliveries: [
      {
        id: '415', kind: 'event', rule_id: RULE_ID, event_id: '18240', event_type: 'incident_opened', incident_id: '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a',
        host_id: '06909604-8df5-4680-bb1c-e7dc7f17dcbf', title: 'DOWN: web-1 (10.0.0.5) — incident opened', status: 'delivered', digest_id: null, attempts: 1,
        last_status_code: 250, last_error: null, latency_ms: 212.5, created_at: AT, last_attempt_at: AT, delivered_at: AT, failed_at: null, next_attempt_at: null,
      },
      {
        id: '414', kind: 'event', rule_id: RULE_ID, event_id: '18239', event_type: 'incident_opened', incident_id: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
        host_id: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e', title: 'DOWN: db-2 — incident opened', status: 'suppressed', digest_id: null, attempts: 0,
        last_status_code: null, last_error: 'host in maintenance', latency_ms: null, created_at: AT, last_attempt_at: null, delivered_at: null, failed_at: null, next_attempt_at: null,
      },
    ],
    next_cursor: null,
  }),
  ruleCreate: [
    requestExample(ruleCreateSchema, 'RuleCreatePage', 'Page on DOWN incidents of prod hosts, remind every 30 minutes', {
      name: 'page on DOWN',
      channel_ids: [CHANNEL_ID],
      event_types: ['incident_opened', 'incident_acknowledged', 'incident_resolved'],
      states: ['DOWN'],
      tags: ['prod'],
      renotify_seconds: 1800,
    }),
  ],
  rulePatch: [requestExample(rulePatchSchema, 'RulePatchRenotifyOff', 'Stop reminders', { renotify_seconds: null })],
  rule: responseExample(ruleSchema, 'NotificationRule', 'A rule paging on DOWN incidents', ruleValue),
  ruleList: responseExample(ruleListSchema, 'NotificationRuleList', 'Rules, oldest first', { rules: [ruleValue] }),
};
