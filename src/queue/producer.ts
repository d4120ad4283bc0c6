import type { Config } from '../config/config.ts';
import type { Client, Pool } from '../db/pool.ts';
import { announceQueuedChecks } from '../db/queries/checks.ts';
import { claimDueHosts, type ClaimedHost } from '../db/queries/claims.ts';
import { withTransaction } from '../db/transaction.ts';
import { runBackgroundLoop } from '../lib/backoff.ts';
import type { Logger } from '../lib/logger.ts';
import { transactionDb, type Boss } from './boss.ts';
import type { SchedulerLeadership } from './leader.ts';
import { CHECK_QUEUES, jobGroup, queueForState, type CheckJobData } from './names.ts';
import { TokenBucket } from './rate-limit.ts';

export interface ProducerDeps {
  pool: Pool;
  boss: Boss;
  config: Config;
  logger: Logger;
}

/**
 * One producer pass: claim due hosts in batches and enqueue one job per newly leased host at the
 * host's priority, on its state's lane, each batch in one transaction with its jobs. Loops while
 * batches come back full, up to `maxChecks` (the rate limit's allowance). Returns how many jobs it
 * enqueued (hosts whose queued job was kept are not counted).
 */
export async function produceDueChecks(deps: ProducerDeps, maxChecks = Infinity): Promise<number> {
  let total = 0;
  let claimedTotal = 0;
  while (claimedTotal < maxChecks) {
    const size = Math.min(deps.config.producer.batchSize, maxChecks - claimedTotal);
    const claimed = await claimAndEnqueue(deps, size);
    claimedTotal += claimed.length;
    total += claimed.filter((h) => !h.renewed).length;
    if (claimed.length < size) break;
  }
  return total;
}

/** One batch: claim due hosts and create the jobs of those newly leased, in one transaction. */
async function claimAndEnqueue(deps: ProducerDeps, batchSize: number): Promise<ClaimedHost[]> {
  const { leaseSeconds } = deps.config.producer;
  return withTransaction(deps.pool, async (tx) => {
    const claimed = await claimDueHosts(tx, { batchSize, leaseSeconds, groupDefaultLimit: deps.config.groupDefaultConcurrency, checkQueues: CHECK_QUEUES });
    await enqueueChecks(deps, tx, claimed.filter((h) => !h.renewed));
    return claimed;
  });
}

async function enqueueChecks(deps: ProducerDeps, tx: Client, hosts: ClaimedHost[]): Promise<void> {
  const byQueue = new Map<string, object[]>();
  for (const h of hosts) {
    const queue = queueForState(h.state, deps.config);
    const data: CheckJobData = { host_id: h.host_id, checked_by: 'scheduler', due_at: h.due_at.toISOString() };
    const jobs = byQueue.get(queue) ?? [];
    jobs.push({ id: h.job_id, priority: h.priority, data, ...jobGroup(h.group, h.group_limit) });
    byQueue.set(queue, jobs);
  }
  for (const [queue, jobs] of byQueue) {
    await deps.boss.insert(queue, jobs, { db: transactionDb(tx) });
    await announceQueuedChecks(tx, queue);
  }
}

/**
 * The scheduler role: only the process holding the scheduler lock dispatches; others stand by and
 * retry every `standbyPollMs`, taking over within that time of the active one dying. Dispatch is
 * capped by the global rate limit (if set). A failing pass (database down) is logged and retried
 * with backoff; the loop never throws.
 */
export async function runProducerLoop(deps: ProducerDeps, leadership: SchedulerLeadership, signal: AbortSignal): Promise<void> {
  const { intervalMs, ratePerSecond, standbyPollMs } = deps.config.producer;
  const bucket = ratePerSecond > 0 ? new TokenBucket(ratePerSecond) : undefined;
  await runBackgroundLoop({
    name: 'producer pass',
    logger: deps.logger,
    signal,
    pass: async () => {
      if (!((await leadership.tryAcquire()) && (await leadership.confirm()))) return standbyPollMs;
      const allowance = bucket ? bucket.available() : Infinity;
      const enqueued = allowance > 0 ? await produceDueChecks(deps, allowance) : 0;
      bucket?.take(enqueued);
      if (enqueued > 0) deps.logger.debug('enqueued due checks', { count: enqueued });
      return intervalMs;
    },
  });
  await leadership.release();
}
