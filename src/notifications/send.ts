import net from 'node:net';
import nodemailer from 'nodemailer';
import { coerceError } from '../lib/errors.ts';
import { deliveryHeaders } from '../webhooks/payload.ts';
import { resolveReceiver, type ReceiverPolicy } from '../webhooks/receiver-address.ts';
import { postWebhook, type SendResult } from '../webhooks/send.ts';
import type { ChannelConfig, EmailConfig } from './channel-config.ts';
import type { NotificationMessage } from './message.ts';
import { renderSlack, renderTeams } from './render-chat.ts';
import { renderEmail } from './render-email.ts';
import { renderPagerduty } from './render-pagerduty.ts';

export type { SendResult } from '../webhooks/send.ts';

export const USER_AGENT = 'Vigil-Notifications';

export interface SendOptions {
  deliveryId: string;
  /** One attempt's limit, up to the channel's answer. */
  timeoutMs: number;
  /** Which addresses channels may be reached at (VIGIL_WEBHOOK_ALLOW_NETWORKS). */
  policy: ReceiverPolicy;
}

/**
 * One attempt to deliver `m` through a channel, in the channel's format. A channel failing is a
 * result, never a throw. Secret values (the Slack URL, a password, the routing key) are taken out
 * of any error text before it is returned, since that text goes to the delivery log.
 */
export async function sendNotification(channel: ChannelConfig, m: NotificationMessage, o: SendOptions): Promise<SendResult> {
  const result = await attemptSend(channel, m, o).catch((err: unknown): SendResult => ({ delivered: false, statusCode: null, error: coerceError(err).message, latencyMs: 0 }));
  return result.error === null ? result : { ...result, error: redact(result.error, channel) };
}

async function attemptSend(channel: ChannelConfig, m: NotificationMessage, o: SendOptions): Promise<SendResult> {
  switch (channel.type) {
    case 'slack':
      return postJson(channel.config.url, renderSlack(m), o);
    case 'teams':
      return postJson(channel.config.url, renderTeams(m), o);
    case 'pagerduty':
      return postJson(channel.config.events_url, renderPagerduty(m, channel.config, channel.config.routing_key, o.deliveryId), o);
    case 'webhook': {
      // An event goes out as the very JSON /api/webhooks and /api/events send; other messages as the message.
      const body = JSON.stringify(m.event ?? m);
      const headers = deliveryHeaders({ eventId: m.event?.id ?? '', deliveryId: o.deliveryId, body, secret: channel.config.secret ?? null, now: new Date() });
      if (!m.event) delete headers['Vigil-Event-Id'];
      return postWebhook(channel.config.url, body, headers, o.timeoutMs, o.policy);
    }
    case 'email':
      return sendEmail(channel.config, m, o);
  }
}

function postJson(url: string, payload: unknown, o: SendOptions): Promise<SendResult> {
  const headers = { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT };
  return postWebhook(url, JSON.stringify(payload), headers, o.timeoutMs, o.policy);
}

/**
 * One SMTP session per message (no pool: a dead server holds nothing between attempts), to the
 * address checked against the receiver policy, the TLS name still being the configured host.
 * `timeoutMs` bounds the whole session.
 */
async function sendEmail(config: EmailConfig, m: NotificationMessage, o: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  const receiver = await resolveReceiver(config.smtp_host, o.policy);
  if ('error' in receiver) return { delivered: false, statusCode: null, error: receiver.error, latencyMs: elapsed() };
  const transport = nodemailer.createTransport({
    host: receiver.address,
    port: config.smtp_port,
    secure: config.security === 'tls',
    requireTLS: config.security === 'starttls',
    ignoreTLS: config.security === 'none',
    tls: { rejectUnauthorized: config.tls_verify, ...(net.isIP(config.smtp_host) ? {} : { servername: config.smtp_host }) },
    auth: config.username ? { user: config.username, pass: config.password ?? '' } : undefined,
    connectionTimeout: o.timeoutMs,
    greetingTimeout: o.timeoutMs,
    socketTimeout: o.timeoutMs,
  });
  const signal = AbortSignal.timeout(o.timeoutMs);
  const email = renderEmail(m);
  try {
    const info = await transport.sendMail({ from: config.from, to: config.to, subject: email.subject, text: email.text, html: email.html, signal });
    return { delivered: true, statusCode: smtpCode(info.response), error: null, latencyMs: elapsed() };
  } catch (err) {
    const e = err as Error & { responseCode?: number };
    const error = signal.aborted ? `no answer within ${o.timeoutMs} ms` : coerceError(err).message.slice(0, 500);
    return { delivered: false, statusCode: e.responseCode ?? null, error, latencyMs: elapsed() };
  } finally {
    transport.close();
  }
}

const smtpCode = (response: string | undefined) => {
  const code = Number(response?.slice(0, 3));
  return Number.isInteger(code) && code >= 200 ? code : null;
};

/** Takes every secret value of the channel out of a text (errors may quote a URL or a login). */
export function redact(text: string, channel: ChannelConfig): string {
  const config = channel.config as Record<string, unknown>;
  const secrets = ['url', 'password', 'routing_key', 'secret'].map((k) => config[k]).filter((v): v is string => typeof v === 'string' && v.length >= 4);
  // A webhook channel's URL is not secret; a Slack or Teams URL is.
  const hidden = channel.type === 'webhook' ? secrets.filter((s) => s !== config.url) : secrets;
  return hidden.reduce((t, s) => t.split(s).join('[secret]'), text);
}
