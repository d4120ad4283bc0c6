import { createHmac } from 'node:crypto';
import type { DeliveryTarget } from '../db/queries/webhooks.ts';

/** The JSON body Vigil POSTs for one event. Ids of bigint rows are decimal strings. */
export interface WebhookPayload {
  id: string;
  type: string;
  occurred_at: string;
  host: { id: string; name: string; group: string | null };
  from_state: string | null;
  to_state: string | null;
  reason: string | null;
  incident_id: string | null;
  check_id: string | null;
}

export const SIGNATURE_HEADER = 'Vigil-Signature';
export const USER_AGENT = 'Vigil-Webhooks';

/** A delivery whose event still exists. */
export type SendableDelivery = DeliveryTarget & { type: string; occurred_at: Date; host_id: string; host_name: string };

export function isSendable(t: DeliveryTarget | undefined): t is SendableDelivery {
  return t !== undefined && t.type !== null && t.occurred_at !== null && t.host_id !== null && t.host_name !== null;
}

export function webhookPayload(t: SendableDelivery): WebhookPayload {
  return {
    id: t.event_id,
    type: t.type,
    occurred_at: t.occurred_at.toISOString(),
    host: { id: t.host_id, name: t.host_name, group: t.host_group },
    from_state: t.from_state,
    to_state: t.to_state,
    reason: t.reason,
    incident_id: t.incident_id,
    check_id: t.check_id,
  };
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as Stripe signs: the timestamp inside
 * the signed text lets receivers reject replays older than a few minutes.
 */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** The headers of one attempt (a signature only when the subscription has a secret). */
export function deliveryHeaders(d: { eventId: string; deliveryId: string; body: string; secret: string | null; now: Date }): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': USER_AGENT,
    'Vigil-Event-Id': d.eventId,
    'Vigil-Delivery-Id': d.deliveryId,
  };
  if (d.secret !== null) headers[SIGNATURE_HEADER] = signatureHeader(d.secret, d.body, Math.floor(d.now.getTime() / 1000));
  return headers;
}
