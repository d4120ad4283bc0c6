import type { PgBoss } from 'pg-boss';
import { ensureQueue } from './boss.ts';

/** What a queue of outgoing deliveries (webhooks, notifications) is configured from. */
export interface DeliverySettings {
  timeoutMs: number;
  retryLimit: number;
  retryDelaySeconds: number;
  retryDelayMaxSeconds: number;
}

/**
 * A delivery queue's settings: a failed attempt is retried with exponential backoff (pg-boss waits
 * retryDelay · 2^n seconds, jittered, at most retryDelayMax) up to retryLimit times.
 */
export function deliveryQueueOptions(s: DeliverySettings) {
  return {
    retryLimit: s.retryLimit,
    retryDelay: s.retryDelaySeconds,
    retryBackoff: true,
    retryDelayMax: s.retryDelayMaxSeconds,
    // An attempt ends at its timeout; this only catches a worker that died mid-attempt.
    expireInSeconds: Math.ceil(s.timeoutMs / 1000) + 30,
    // The delivery log is a table of ours (webhook_deliveries, notification_deliveries): finished
    // jobs are not needed for long.
    deleteAfterSeconds: 60 * 60,
    notify: true,
  };
}

/** Creates a delivery queue, or brings its settings up to date (every scheduler and worker start). */
export async function ensureDeliveryQueue(boss: PgBoss, name: string, settings: DeliverySettings): Promise<void> {
  await ensureQueue(boss, name, deliveryQueueOptions(settings));
}
