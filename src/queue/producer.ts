import type { Config } from '../config/config.ts';
import type { Client, Pool } from '../db/pool.ts';
import { announceQueuedChecks } from '../db/queries/checks.ts';
import { claimDueHosts, type ClaimedHost } from '../db/queries/claims.ts';
import type { Logger } from '../lib/logger.ts';
import { delay } from '../lib/time.ts';
import { transactionDb, type Boss } from './boss.ts';
import type { SchedulerLeadership } from './leader.ts';
import { jobGroup, queueForState, type CheckJobData } from './names.ts';
import { TokenBucket } from './rate-limit.ts';

export interface ProducerDeps {
  pool: Pool;
  boss: Boss;
  config: Config;
  logger: Logger;
}

/**
 * One producer pass: claim due hosts in batches and enqueue one job per host at the host's
 * priority, on its state's lane, each batch in one transaction with its jobs. Loops while batches
 * come back full, up to `maxChecks` (the rate limit's allowance). Returns how many it enqueued.
 */
export async function produceDueChecks(deps: ProducerDeps, maxChecks = Infinity): Promise<number> {
  const { batchSize, leaseSeconds } = deps.config.producer;
  let total = 0;
  while (total < maxChecks) {
    const size = Math.min(batchSize, maxChecks - total);
    const claimed = await claimDueHosts(deps.pool, { batchSize: size, leaseSeconds, groupDefaultLimit: deps.config.groupDefaultConcurrency }, (client, hosts) =>
      enqueueChecks(deps, client, hosts),
    );
    total += claimed.length;
    if (claimed.length < size) break;
  }
  return total;
}

async function enqueueChecks(deps: ProducerDeps, client: Client, hosts: ClaimedHost[]): Promise<void> {
  const db = transactionDb(client);
  const byQueue = new Map<string, object[]>();
  for (const h of hosts) {
    const queue = queueForState(h.state, deps.config);
    const data: CheckJobData = { host_id: h.host_id, checked_by: 'scheduler', due_at: h.due_at.toISOString() };
    const jobs = byQueue.get(queue) ?? [];
    jobs.push({ id: h.job_id, priority: h.priority, data, ...jobGroup(h.group, h.group_limit) });
    byQueue.set(queue, jobs);
  }
  for (const [queue, jobs] of byQueue) {
    await deps.boss.insert(queue, jobs, { db });
    await announceQueuedChecks(client, queue);
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
  let failures = 0;
  while (!signal.aborted) {
    let waitMs = intervalMs;
    try {
      if ((await leadership.tryAcquire()) && (await leadership.confirm())) {
        const allowance = bucket ? bucket.available() : Infinity;
        const enqueued = allowance > 0 ? await produceDueChecks(deps, allowance) : 0;
        bucket?.take(enqueued);
        if (enqueued > 0) deps.logger.debug('enqueued due checks', { count: enqueued });
      } else {
        waitMs = standbyPollMs;
      }
      failures = 0;
    } catch (err) {
      failures++;
      waitMs = Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
      deps.logger.error('producer pass failed; retrying', { err: (err as Error).message, consecutive_failures: failures, retry_in_ms: waitMs });
    }
    await delay(waitMs, signal).catch(() => {});
  }
  await leadership.release();
}
