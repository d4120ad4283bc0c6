import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import { dispatchEvents, hasUndispatchedEvents, type NewDelivery } from '../db/queries/webhooks.ts';
import type { Logger } from '../lib/logger.ts';
import { delay } from '../lib/time.ts';
import { transactionDb, type Boss } from '../queue/boss.ts';
import type { SchedulerLeadership } from '../queue/leader.ts';
import { QUEUES, type WebhookJobData } from '../queue/names.ts';

export interface DispatcherDeps {
  pool: Pool;
  boss: Boss;
  config: Config;
  logger: Logger;
}

/** Events turned into deliveries per transaction. */
const EVENTS_PER_TRANSACTION = 500;

/**
 * One pass: every event after the cursor becomes one delivery (and one job on the delivery queue)
 * per matching subscription, a batch of events per transaction. Returns the deliveries created.
 */
export async function dispatchWebhooks(deps: DispatcherDeps): Promise<number> {
  if (!(await hasUndispatchedEvents(deps.pool))) return 0;
  let total = 0;
  for (;;) {
    const { events, deliveries } = await dispatchEvents(deps.pool, EVENTS_PER_TRANSACTION, (client, list) =>
      enqueueDeliveries(deps.boss, transactionDb(client), list),
    );
    total += deliveries;
    if (events < EVENTS_PER_TRANSACTION) return total;
  }
}

async function enqueueDeliveries(boss: Boss, db: ReturnType<typeof transactionDb>, list: NewDelivery[]): Promise<void> {
  const jobs = list.map((d) => ({ id: d.job_id, data: { delivery_id: d.id } satisfies WebhookJobData }));
  await boss.insert(QUEUES.webhooks, jobs, { db });
}

/**
 * The webhook dispatcher, part of the scheduler role: it runs only while this process is the
 * active scheduler (the producer loop takes and keeps that lock; this loop just looks at it), and
 * polls the outbox every producer interval — one single-row index probe when idle (no transaction),
 * and deliveries leave within one interval of their event. A stale second leader could not dispatch an
 * event twice anyway (the cursor row is locked per pass). Failing passes are logged and retried
 * with backoff; the loop never throws.
 */
export async function runWebhookDispatchLoop(deps: DispatcherDeps, leadership: Pick<SchedulerLeadership, 'isLeader'>, signal: AbortSignal): Promise<void> {
  const { intervalMs } = deps.config.producer;
  let failures = 0;
  while (!signal.aborted) {
    let waitMs = intervalMs;
    try {
      if (leadership.isLeader) {
        const created = await dispatchWebhooks(deps);
        if (created > 0) deps.logger.debug('webhook deliveries queued', { count: created });
      }
      failures = 0;
    } catch (err) {
      failures++;
      waitMs = Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
      deps.logger.error('webhook dispatch failed; retrying', { err: (err as Error).message, consecutive_failures: failures, retry_in_ms: waitMs });
    }
    await delay(waitMs, signal).catch(() => {});
  }
}
