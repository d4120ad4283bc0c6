import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import { claimDueHosts, type ClaimedHost } from '../db/queries/claims.ts';
import type { Logger } from '../lib/logger.ts';
import { delay } from '../lib/time.ts';
import { transactionDb, type Boss } from './boss.ts';
import { QUEUES, type CheckJobData } from './names.ts';

export interface ProducerDeps {
  pool: Pool;
  boss: Boss;
  config: Config;
  logger: Logger;
}

/**
 * One producer pass: claim due hosts in batches and enqueue one job per host at the host's
 * priority, each batch in one transaction with its jobs. Loops while batches come back full.
 * Returns how many checks it enqueued.
 */
export async function produceDueChecks(deps: ProducerDeps): Promise<number> {
  const { batchSize, leaseSeconds } = deps.config.producer;
  let total = 0;
  for (;;) {
    const claimed = await claimDueHosts(deps.pool, { batchSize, leaseSeconds }, (client, hosts) =>
      enqueueChecks(deps.boss, transactionDb(client), hosts),
    );
    total += claimed.length;
    if (claimed.length < batchSize) return total;
  }
}

async function enqueueChecks(boss: Boss, db: ReturnType<typeof transactionDb>, hosts: ClaimedHost[]): Promise<void> {
  const jobs = hosts.map((h) => ({
    id: h.job_id,
    priority: h.priority,
    data: { host_id: h.host_id, checked_by: 'scheduler', due_at: h.due_at.toISOString() } satisfies CheckJobData,
  }));
  await boss.insert(QUEUES.checks, jobs, { db });
}

/**
 * Runs produceDueChecks every `intervalMs` until `signal` aborts. A failing pass (database down)
 * is logged and retried with backoff; the loop itself never throws.
 */
export async function runProducerLoop(deps: ProducerDeps, signal: AbortSignal): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    try {
      const enqueued = await produceDueChecks(deps);
      if (enqueued > 0) deps.logger.debug('enqueued due checks', { count: enqueued });
      failures = 0;
    } catch (err) {
      failures++;
      deps.logger.error('producer pass failed; retrying', { err: (err as Error).message, consecutive_failures: failures });
    }
    const backoffMs = failures === 0 ? deps.config.producer.intervalMs : Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
    await delay(backoffMs, signal).catch(() => {});
  }
}
