import { z } from 'zod';

/**
 * The channel types and what each is configured with. A channel's configuration is one object; the
 * fields named in SECRET_FIELDS are split off, sealed with VIGIL_SECRET_KEY (./secrets.ts) and
 * never shown again (write-only, like credentials); the rest is stored and shown as given.
 *
 * Adding a channel type touches: this file (schema, secret fields), ./render-<type>.ts, ./send.ts,
 * the migration's CHECK on notification_channels.type, a test with a loopback receiver, docs/notifications.md.
 */
export const CHANNEL_TYPES = ['email', 'slack', 'teams', 'pagerduty', 'webhook'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

const httpUrl = (what: string) =>
  z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .max(2048)
    .refine((u) => {
      const parsed = URL.canParse(u) ? new URL(u) : undefined;
      return !parsed || (parsed.username === '' && parsed.password === '');
    }, 'must not contain credentials (user:password@)')
    .describe(what);

const emailAddress = z.email({ error: 'must be an e-mail address' }).max(320);

export const emailConfigSchema = z
  .object({
    smtp_host: z.string().trim().min(1).max(255).regex(/^[A-Za-z0-9._:\-[\]]+$/, 'must be a host name or an IP address').describe('SMTP server'),
    smtp_port: z.int().min(1).max(65535).default(587).describe('587 (STARTTLS), 465 (TLS) or 25'),
    security: z
      .enum(['starttls', 'tls', 'none'])
      .default('starttls')
      .describe('starttls: upgrade after connecting (refused if the server cannot); tls: TLS from the start (port 465); none: plain text (only on a trusted network)'),
    tls_verify: z.boolean().default(true).describe("Verify the server's certificate"),
    username: z.string().min(1).max(255).optional().describe('SMTP login; without one Vigil does not authenticate'),
    password: z.string().min(1).max(1024).optional().describe('SMTP password (write-only, stored encrypted)'),
    from: emailAddress.describe('Sender address'),
    to: z.array(emailAddress).min(1).max(50).describe('Recipients'),
  })
  .strict();

export const slackConfigSchema = z
  .object({ url: httpUrl('Slack incoming-webhook URL (https://hooks.slack.com/services/…); write-only: the URL is the credential') })
  .strict();

export const teamsConfigSchema = z
  .object({ url: httpUrl('Microsoft Teams workflow ("Post to a channel when a webhook request is received") or incoming-webhook URL; write-only: the URL is the credential') })
  .strict();

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

export const pagerdutyConfigSchema = z
  .object({
    routing_key: z.string().trim().min(20).max(64).regex(/^[A-Za-z0-9]+$/, 'must be the 32-character integration key of an Events API v2 integration').describe('Events API v2 integration (routing) key; write-only'),
    severity: z.enum(['critical', 'error', 'warning', 'info']).default('critical').describe('Severity of triggered alerts'),
    events_url: httpUrl('Events API v2 endpoint (EU accounts: https://events.eu.pagerduty.com/v2/enqueue)').default(PAGERDUTY_EVENTS_URL),
  })
  .strict();

export const webhookConfigSchema = z
  .object({
    url: httpUrl('Receiver URL; the body is the event JSON, signed like /api/webhooks deliveries'),
    secret: z.string().min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 32`)').max(512).optional().describe('Key of the Vigil-Signature HMAC (write-only, stored encrypted)'),
  })
  .strict();

export const CHANNEL_CONFIG_SCHEMAS = {
  email: emailConfigSchema,
  slack: slackConfigSchema,
  teams: teamsConfigSchema,
  pagerduty: pagerdutyConfigSchema,
  webhook: webhookConfigSchema,
} as const;

export type EmailConfig = z.output<typeof emailConfigSchema>;
export type SlackConfig = z.output<typeof slackConfigSchema>;
export type TeamsConfig = z.output<typeof teamsConfigSchema>;
export type PagerdutyConfig = z.output<typeof pagerdutyConfigSchema>;
export type WebhookChannelConfig = z.output<typeof webhookConfigSchema>;

/** A channel's whole configuration (secrets included), by type. */
export type ChannelConfig =
  | { type: 'email'; config: EmailConfig }
  | { type: 'slack'; config: SlackConfig }
  | { type: 'teams'; config: TeamsConfig }
  | { type: 'pagerduty'; config: PagerdutyConfig }
  | { type: 'webhook'; config: WebhookChannelConfig };

/** Fields sealed and never returned, per type. */
export const SECRET_FIELDS: Record<ChannelType, readonly string[]> = {
  email: ['password'],
  slack: ['url'],
  teams: ['url'],
  pagerduty: ['routing_key'],
  webhook: ['secret'],
};

/** Splits a configuration into what is stored in the clear and what is sealed (null: no secret set). */
export function splitSecrets(type: ChannelType, config: Record<string, unknown>): { settings: Record<string, unknown>; secrets: Record<string, string> | null } {
  const settings: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    if (SECRET_FIELDS[type].includes(key)) secrets[key] = String(value);
    else settings[key] = value;
  }
  return { settings, secrets: Object.keys(secrets).length > 0 ? secrets : null };
}

/**
 * Validates a whole configuration of `type`; throws the zod error (its paths are relative to the
 * config object) when invalid.
 */
export function parseChannelConfig(type: ChannelType, config: Record<string, unknown>): ChannelConfig {
  return { type, config: CHANNEL_CONFIG_SCHEMAS[type].parse(config) } as ChannelConfig;
}

/** Event types a channel type carries: PagerDuty is paged about incidents only (trigger, acknowledge, resolve). */
export function carriesEvent(type: ChannelType, eventType: string): boolean {
  return type !== 'pagerduty' || eventType.startsWith('incident_');
}
