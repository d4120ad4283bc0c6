import type { JobWithMetadata } from 'pg-boss';
import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import {
  abandonNotification,
  closeDigest,
  getNotificationTarget,
  recordNotificationAttempt,
  setNotificationMessage,
  takeDigestItems,
  type NotificationTarget,
} from '../db/queries/notification-deliveries.ts';
import { coerceError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Boss } from '../queue/boss.ts';
import { QUEUES, type NotificationJobData } from '../queue/names.ts';
import { createReceiverPolicy } from '../webhooks/receiver-address.ts';
import { parseChannelConfig, type ChannelConfig } from './channel-config.ts';
import { buildDigestMessage, type NotificationMessage } from './message.ts';
import { openChannelSecrets } from './secrets.ts';
import { sendNotification, type SendResult } from './send.ts';

export interface NotificationWorkerDeps {
  pool: Pool;
  boss: Boss;
  config: Config;
  logger: Logger;
  /** Opens the channels' sealed secrets; undefined when none is configured. */
  secretKey: Buffer | undefined;
  /** When given, every attempt counts in vigil_notification_deliveries_total{channel_type,result}. */
  metrics?: Pick<Metrics, 'notificationDeliveries'>;
}

/** What a notification job completes with (its pg-boss output). */
export interface NotificationJobOutput {
  delivery_id: string;
  delivered: boolean;
  skipped_reason?: string;
}

/** Thrown after a failed attempt so pg-boss retries the job (or, after the last, fails it). */
export class NotificationAttemptFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotificationAttemptFailed';
  }
}

/**
 * Subscribes this process to the notification queue with its own slots (VIGIL_NOTIFY_CONCURRENCY),
 * apart from the check lanes and the webhook slots. Jobs are grouped by channel and each channel
 * gets one slot at a time, so a hanging channel holds one slot, never a check's nor another channel's.
 */
export async function startNotificationWorker(deps: NotificationWorkerDeps): Promise<void> {
  const options = {
    localConcurrency: deps.config.notifications.concurrency,
    localGroupConcurrency: 1,
    batchSize: 1,
    includeMetadata: true,
    pollingIntervalSeconds: deps.config.worker.pollSeconds,
    notifyPollingIntervalSeconds: deps.config.worker.pollSeconds,
  } as const;
  await deps.boss.work<NotificationJobData, NotificationJobOutput, typeof options>(QUEUES.notifications, options, async ([job]) => deliverNotification(deps, job!));
}

/**
 * One attempt at one notification: render it for its channel, send it, record the attempt, and
 * throw when it failed so pg-boss retries it with backoff; the last failure marks it failed.
 * Neither secrets nor Slack/Teams URLs are logged: log lines name the channel by id and type.
 */
export async function deliverNotification(deps: NotificationWorkerDeps, job: JobWithMetadata<NotificationJobData>): Promise<NotificationJobOutput> {
  const deliveryId = job.data.delivery_id;
  const target = await getNotificationTarget(deps.pool, deliveryId);
  if (!target) return { delivery_id: deliveryId, delivered: false, skipped_reason: 'channel deleted' };
  if (target.status !== 'pending') return { delivery_id: deliveryId, delivered: false, skipped_reason: `already ${target.status}` };
  const opened = openChannel(deps, target);
  if (typeof opened === 'string') {
    await abandonNotification(deps.pool, deliveryId, opened);
    return { delivery_id: deliveryId, delivered: false, skipped_reason: opened };
  }
  const message = target.kind === 'digest' ? await prepareDigest(deps, target) : target.message;
  if (message === null) {
    // Every notification it was to sum up is gone (its channel was emptied): nothing to say.
    await abandonNotification(deps.pool, deliveryId, 'nothing left to sum up');
    return { delivery_id: deliveryId, delivered: false, skipped_reason: 'empty digest' };
  }
  const lastAttempt = job.retryCount >= job.retryLimit;
  const result: SendResult = await sendNotification(opened, message, {
    deliveryId,
    timeoutMs: deps.config.notifications.timeoutMs,
    policy: createReceiverPolicy(deps.config.webhooks.allowNetworks),
  });
  const status = result.delivered ? 'delivered' : lastAttempt ? 'failed' : 'pending';
  await recordNotificationAttempt(deps.pool, deliveryId, { statusCode: result.statusCode, error: result.error, latencyMs: result.latencyMs, status });
  deps.metrics?.notificationDeliveries.inc({ channel_type: target.channel_type, result: status === 'pending' ? 'retrying' : status });
  const log = deps.logger.child({ channel_id: target.channel_id, channel_type: target.channel_type, delivery_id: deliveryId, kind: target.kind });
  const facts = { attempt: job.retryCount + 1, status_code: result.statusCode, latency_ms: result.latencyMs };
  if (result.delivered) {
    log.info('notification delivered', facts);
    return { delivery_id: deliveryId, delivered: true };
  }
  log.warn(lastAttempt ? 'notification failed; giving up' : 'notification failed; will retry', { ...facts, error: result.error });
  throw new NotificationAttemptFailed(`notification ${deliveryId} attempt ${job.retryCount + 1} failed: ${result.error}`);
}

/** The channel's whole configuration with its secrets opened, or why it cannot be used. */
function openChannel(deps: NotificationWorkerDeps, t: NotificationTarget): ChannelConfig | string {
  if (!t.enabled) return 'the channel was disabled before delivery';
  try {
    return parseChannelConfig(t.channel_type, { ...t.settings, ...openChannelSecrets(deps.secretKey, t.channel_id, t.secrets) });
  } catch (err) {
    return `cannot open the channel's secrets: ${coerceError(err).message}`;
  }
}

/** Closes the digest (no more held notifications join it) and sums up what it stands for. */
async function prepareDigest(deps: NotificationWorkerDeps, t: NotificationTarget): Promise<NotificationMessage | null> {
  await closeDigest(deps.pool, t.id);
  const items = await takeDigestItems(deps.pool, t.id);
  if (items.length === 0) return null;
  const message = buildDigestMessage(items.map((i) => ({ ...i, created_at: new Date(i.created_at) })), deps.config.notifications.publicUrl);
  await setNotificationMessage(deps.pool, t.id, message);
  return message;
}
