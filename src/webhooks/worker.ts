import type { JobWithMetadata } from 'pg-boss';
import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import { abandonDelivery, getDeliveryTarget, recordDeliveryAttempt, type DeliveryStatus, type DeliveryTarget } from '../db/queries/webhooks.ts';
import { coerceError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Boss } from '../queue/boss.ts';
import { QUEUES, type WebhookJobData } from '../queue/names.ts';
import { serializeEvent } from '../events/serialize.ts';
import { deliveryHeaders, isSendable, type SendableDelivery } from './payload.ts';
import { openWebhookSecret } from './secret.ts';
import { createReceiverPolicy } from './receiver-address.ts';
import { postWebhook, type SendResult } from './send.ts';

export interface WebhookWorkerDeps {
  pool: Pool;
  boss: Boss;
  config: Config;
  logger: Logger;
  /** Opens the subscriptions' sealed secrets; undefined when none is configured. */
  secretKey: Buffer | undefined;
  /** When given, every attempt counts in vigil_webhook_deliveries_total{result=delivered|retrying|failed}. */
  metrics?: Pick<Metrics, 'webhookDeliveries'>;
}

/** What a delivery job completes with (its pg-boss output). */
export interface WebhookJobOutput {
  delivery_id: string;
  delivered: boolean;
  skipped_reason?: string;
  status_code?: number | null;
}

/** Thrown after a failed attempt so pg-boss retries the job (or, after the last, fails it). */
export class WebhookAttemptFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookAttemptFailed';
  }
}

/**
 * Subscribes this process to the delivery queue with its own few slots
 * (VIGIL_WEBHOOK_CONCURRENCY), apart from the check lanes: a slow or dead receiver holds at most
 * these, never a check slot.
 */
export async function startWebhookWorker(deps: WebhookWorkerDeps): Promise<void> {
  const options = {
    localConcurrency: deps.config.webhooks.concurrency,
    batchSize: 1,
    includeMetadata: true,
    pollingIntervalSeconds: deps.config.worker.pollSeconds,
    notifyPollingIntervalSeconds: deps.config.worker.pollSeconds,
  } as const;
  await deps.boss.work<WebhookJobData, WebhookJobOutput, typeof options>(QUEUES.webhooks, options, async ([job]) => deliverOne(deps, job!));
}

/**
 * One attempt at one delivery: POST the event, record the attempt on the delivery row, and throw
 * when it failed so pg-boss retries it with backoff. The last attempt's failure marks the delivery
 * failed. The secret and the signature are never logged or stored anywhere but the sealed column.
 */
export async function deliverOne(deps: WebhookWorkerDeps, job: JobWithMetadata<WebhookJobData>): Promise<WebhookJobOutput> {
  const deliveryId = job.data.delivery_id;
  const target = await getDeliveryTarget(deps.pool, deliveryId);
  const skip = await skipReason(deps, target);
  if (skip !== null || !isSendable(target)) return { delivery_id: deliveryId, delivered: false, skipped_reason: skip ?? 'no event' };
  const lastAttempt = job.retryCount >= job.retryLimit;
  const result = await attempt(deps, target);
  const status: DeliveryStatus = result.delivered ? 'delivered' : lastAttempt ? 'failed' : 'pending';
  await recordDeliveryAttempt(deps.pool, deliveryId, { statusCode: result.statusCode, error: result.error, latencyMs: result.latencyMs, status });
  deps.metrics?.webhookDeliveries.inc({ result: status === 'pending' ? 'retrying' : status });
  const log = deps.logger.child({ webhook_id: target.webhook_id, delivery_id: deliveryId, event_id: target.event_id, receiver: new URL(target.url).origin });
  const facts = { attempt: job.retryCount + 1, status_code: result.statusCode, latency_ms: result.latencyMs };
  if (result.delivered) {
    log.info('webhook delivered', facts);
    return { delivery_id: deliveryId, delivered: true, status_code: result.statusCode };
  }
  log.warn(lastAttempt ? 'webhook delivery failed; giving up' : 'webhook delivery failed; will retry', { ...facts, error: result.error });
  throw new WebhookAttemptFailed(`webhook delivery ${deliveryId} attempt ${job.retryCount + 1} failed: ${result.error}`);
}

/** Why a job has nothing to send (null: send it). Deliveries that can never be sent are closed. */
async function skipReason(deps: WebhookWorkerDeps, target: DeliveryTarget | undefined): Promise<string | null> {
  if (!target) return 'webhook deleted';
  if (target.status !== 'pending') return `already ${target.status}`;
  const reason = !target.enabled ? 'the webhook was disabled before delivery' : !isSendable(target) ? 'the event was pruned before delivery' : null;
  if (reason !== null) await abandonDelivery(deps.pool, target.id, reason);
  return reason;
}

async function attempt(deps: WebhookWorkerDeps, t: SendableDelivery): Promise<SendResult> {
  let secret: string | null = null;
  if (t.secret) {
    try {
      secret = openWebhookSecret(deps.secretKey, t.webhook_id, t.secret);
    } catch (err) {
      // Never send unsigned what the receiver expects signed.
      return { delivered: false, statusCode: null, error: `cannot sign: ${coerceError(err).message}`, latencyMs: 0 };
    }
  }
  const body = JSON.stringify(serializeEvent(t.event));
  const headers = deliveryHeaders({ eventId: t.event_id, deliveryId: t.id, body, secret, now: new Date() });
  return postWebhook(t.url, body, headers, deps.config.webhooks.timeoutMs, createReceiverPolicy(deps.config.webhooks.allowNetworks));
}
