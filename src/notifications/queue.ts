import type { Config } from '../config/config.ts';
import type { Boss } from '../queue/boss.ts';
import { QUEUES } from '../queue/names.ts';

/**
 * The notification queue's settings: a failed attempt is retried with exponential backoff (pg-boss
 * waits retryDelay · 2^n seconds, jittered, at most retryDelayMax) up to retryLimit times.
 */
export function notificationQueueOptions(config: Config) {
  const n = config.notifications;
  return {
    retryLimit: n.retryLimit,
    retryDelay: n.retryDelaySeconds,
    retryBackoff: true,
    retryDelayMax: n.retryDelayMaxSeconds,
    // An attempt ends at its timeout; this only catches a worker that died mid-attempt.
    expireInSeconds: Math.ceil(n.timeoutMs / 1000) + 30,
    // The delivery log is notification_deliveries; finished jobs are not needed for long.
    deleteAfterSeconds: 60 * 60,
    notify: true,
  };
}

/** Creates the queue, or brings its settings up to date (every scheduler and worker start). */
export async function ensureNotificationQueue(boss: Boss, config: Config): Promise<void> {
  const name = QUEUES.notifications;
  const options = notificationQueueOptions(config);
  if (await boss.getQueue(name)) await boss.updateQueue(name, options);
  else
    await boss.createQueue(name, options).catch(async (err) => {
      // Another process created it between our look and our create.
      if (!(await boss.getQueue(name))) throw err;
    });
}
