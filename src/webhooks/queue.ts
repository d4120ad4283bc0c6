import type { Config } from '../config/config.ts';
import type { Boss } from '../queue/boss.ts';
import { QUEUES } from '../queue/names.ts';

/**
 * The delivery queue's settings: a failed attempt is retried with exponential backoff (pg-boss
 * waits retryDelay · 2^n seconds, jittered, at most retryDelayMax) up to retryLimit times.
 */
export function webhookQueueOptions(config: Config) {
  const w = config.webhooks;
  return {
    retryLimit: w.retryLimit,
    retryDelay: w.retryDelaySeconds,
    retryBackoff: true,
    retryDelayMax: w.retryDelayMaxSeconds,
    // An attempt ends at its timeout; this only catches a worker that died mid-attempt.
    expireInSeconds: Math.ceil(w.timeoutMs / 1000) + 30,
    // The delivery log is webhook_deliveries; finished jobs are not needed for long.
    deleteAfterSeconds: 60 * 60,
    notify: true,
  };
}

/** Creates the delivery queue, or brings its settings up to date (every scheduler and worker start). */
export async function ensureWebhookQueue(boss: Boss, config: Config): Promise<void> {
  const name = QUEUES.webhooks;
  const options = webhookQueueOptions(config);
  if (await boss.getQueue(name)) await boss.updateQueue(name, options);
  else
    await boss.createQueue(name, options).catch(async (err) => {
      // Another process created it between our look and our create.
      if (!(await boss.getQueue(name))) throw err;
    });
}
