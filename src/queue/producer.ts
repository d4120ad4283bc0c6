import type { Config } from '../config/config.ts';
import type { Client, Pool } from '../db/pool.ts';
import { announceQueuedChecks } from '../db/queries/checks.ts';
import { leaseDueHosts, lockDueHosts, type DueHost, type LeaseRequest } from '../db/queries/claims.ts';
import { withTransaction } from '../db/transaction.ts';
import { runBackgroundLoop } from '../lib/backoff.ts';
import type { Logger } from '../lib/logger.ts';
import { transactionDb, type Boss } from './boss.ts';
import type { SchedulerLeadership } from './leader.ts';
import { CHECK_QUEUES, jobGroup, queueForState, type CheckJobData } from './names.ts';
import { TokenBucket } from './rate-limit.ts';
import { packChecks, type PackableHost, type PackedJob } from './job-packing.ts';

export interface ProducerDeps {
  pool: Pool;
  boss: Boss;
  config: Config;
  logger: Logger;
}

/**
 * One producer pass: claim due hosts in batches and enqueue their checks at the hosts' priority,
 * on their state's lane, hosts due together sharing a job (src/queue/job-packing.ts), each batch
 * in one transaction with its jobs. Loops while batches come back full, up to `maxChecks` (the
 * rate limit's allowance). Returns how many checks it enqueued (hosts whose queued job was kept
 * are not counted).
 */
export async function produceDueChecks(deps: ProducerDeps, maxChecks = Infinity): Promise<number> {
  let total = 0;
  let claimedTotal = 0;
  while (claimedTotal < maxChecks) {
    const size = Math.min(deps.config.producer.batchSize, maxChecks - claimedTotal);
    const { claimed, enqueued } = await claimAndEnqueue(deps, size);
    claimedTotal += claimed;
    total += enqueued;
    if (claimed < size) break;
  }
  return total;
}

/** One batch: lock due hosts, pack the new checks into jobs, write the leases and create the jobs, in one transaction. */
async function claimAndEnqueue(deps: ProducerDeps, batchSize: number): Promise<{ claimed: number; enqueued: number }> {
  const { config } = deps;
  return withTransaction(deps.pool, async (tx) => {
    const due = await lockDueHosts(tx, { batchSize, groupDefaultLimit: config.groupDefaultConcurrency, checkQueues: CHECK_QUEUES });
    const fresh = due.filter((h) => !h.renewed).map((h) => ({ ...h, hostId: h.host_id, queue: queueForState(h.state, config) }));
    const jobs = packChecks(fresh, config.producer.checksPerJob);
    const jobOf = new Map(jobs.flatMap((job, index) => job.hosts.map((h) => [h.hostId, index] as const)));
    const leases: LeaseRequest[] = due.map((h) => ({ hostId: h.host_id, job: jobOf.get(h.host_id) ?? null }));
    const ids = await leaseDueHosts(tx, leases, jobs.length, config.producer.leaseSeconds);
    await enqueueJobs(deps, tx, jobs.map((job, index) => ({ ...job, id: ids[index]! })));
    return { claimed: due.length, enqueued: fresh.length };
  });
}

async function enqueueJobs(deps: ProducerDeps, tx: Client, jobs: (PackedJob<DueHost & PackableHost> & { id: string })[]): Promise<void> {
  const byQueue = new Map<string, object[]>();
  for (const job of jobs) {
    const first = job.hosts[0]!;
    const hosts = job.hosts.map((h) => ({ host_id: h.host_id, due_at: h.due_at.toISOString() }));
    // A job of one host keeps the one-host shape (what JIT jobs have); several hosts go in a list.
    const data: CheckJobData =
      hosts.length === 1 ? { host_id: first.host_id, checked_by: 'scheduler', due_at: hosts[0]!.due_at }
        : { checked_by: 'scheduler', due_at: hosts.map((h) => h.due_at).sort()[0], hosts };
    const list = byQueue.get(job.queue) ?? [];
    list.push({ id: job.id, priority: job.priority, data, ...jobGroup(first.group, first.group_limit) });
    byQueue.set(job.queue, list);
  }
  for (const [queue, list] of byQueue) {
    await deps.boss.insert(queue, list, { db: transactionDb(tx) });
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
