import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import { advanceDispatchCursor, hasUndispatchedEvents, insertDeliveries, lockDispatchCursor, nextEventRange } from '../db/queries/webhooks.ts';
import { withTransaction } from '../db/transaction.ts';
import { runBackgroundLoop } from '../lib/backoff.ts';
import type { Logger } from '../lib/logger.ts';
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
    const { events, deliveries } = await dispatchNextEvents(deps);
    total += deliveries;
    if (events < EVENTS_PER_TRANSACTION) return total;
  }
}

/**
 * Turns the next events after the cursor into deliveries and their jobs and advances the cursor,
 * all in one transaction: a crash keeps all three or none. The cursor row is locked, so two
 * dispatchers (a stale leader) take turns instead of dispatching an event twice; event ids become
 * visible in commit order (see host_events), so the cursor never passes an event still in flight.
 */
async function dispatchNextEvents(deps: DispatcherDeps): Promise<{ events: number; deliveries: number }> {
  return withTransaction(deps.pool, async (tx) => {
    const cursor = await lockDispatchCursor(tx);
    const { events, upto } = await nextEventRange(tx, cursor, EVENTS_PER_TRANSACTION);
    if (events === 0 || upto === null) return { events: 0, deliveries: 0 };
    const deliveries = await insertDeliveries(tx, cursor, upto);
    if (deliveries.length > 0) {
      const jobs = deliveries.map((d) => ({ id: d.job_id, data: { delivery_id: d.id } satisfies WebhookJobData }));
      await deps.boss.insert(QUEUES.webhooks, jobs, { db: transactionDb(tx) });
    }
    await advanceDispatchCursor(tx, upto);
    return { events, deliveries: deliveries.length };
  });
}

/**
 * The webhook dispatcher, part of the scheduler role: it runs only while this process is the
 * active scheduler (the producer loop takes and keeps that lock; this loop just looks at it), and
 * polls the outbox every producer interval — one single-row index probe when idle (no transaction),
 * and deliveries leave within one interval of their event. A stale second leader could not dispatch an
 * event twice anyway (the cursor row is locked per pass).
 */
export function runWebhookDispatchLoop(deps: DispatcherDeps, leadership: Pick<SchedulerLeadership, 'isLeader'>, signal: AbortSignal): Promise<void> {
  return runBackgroundLoop({
    name: 'webhook dispatch',
    logger: deps.logger,
    signal,
    pass: async () => {
      if (leadership.isLeader) {
        const created = await dispatchWebhooks(deps);
        if (created > 0) deps.logger.debug('webhook deliveries queued', { count: created });
      }
      return deps.config.producer.intervalMs;
    },
  });
}
