import { createHmac } from 'node:crypto';
import type { EventRow } from '../db/queries/events.ts';
import type { DeliveryTarget } from '../db/queries/webhooks.ts';

export const SIGNATURE_HEADER = 'Vigil-Signature';
export const USER_AGENT = 'Vigil-Webhooks';

/** A delivery whose event still exists. Its body is the event as serializeEvent (src/events/serialize.ts) gives it. */
export type SendableDelivery = DeliveryTarget & { event: EventRow };

export function isSendable(t: DeliveryTarget | undefined): t is SendableDelivery {
  return t?.event !== undefined;
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
