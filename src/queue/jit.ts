import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import { announceQueuedChecks } from '../db/queries/checks.ts';
import { groupLimit } from '../db/queries/groups.ts';
import { lockHostForJit, setJitJob, type JitHost } from '../db/queries/jit.ts';
import { withTransaction } from '../db/transaction.ts';
import { transactionDb, type Boss } from './boss.ts';
import { jobGroup, QUEUES, type CheckJobData } from './names.ts';

const PENDING_STATES = new Set(['created', 'retry', 'active']);

export type JitClaim = { host: JitHost; jobId: string; shared: boolean };

/**
 * Queues a just-in-time check at the JIT priority, or joins the one already queued or running for
 * the host. Requests for a host take turns while deciding (not on its row: a worker recording the
 * host does not hold them up), so two callers arriving together share one job: the first creates
 * it, the second sees its mark (host_jit_checks) and, while that job is pending, joins it.
 * Returns undefined for an unknown host.
 */
export async function requestJitCheck(deps: { pool: Pool; boss: Boss; config: Config }, hostId: string): Promise<JitClaim | undefined> {
  const { boss, config } = deps;
  return withTransaction(deps.pool, async (tx) => {
    const db = transactionDb(tx);
    const host = await lockHostForJit(tx, hostId);
    if (!host) return undefined;
    if (host.jit_job_id) {
      const job = await boss.getJobById(QUEUES.checks, host.jit_job_id, { db });
      if (job !== null && PENDING_STATES.has(job.state)) return { host, jobId: host.jit_job_id, shared: true };
    }
    const jobId = host.new_job_id;
    const data: CheckJobData = { host_id: host.id, checked_by: 'jit' };
    // A JIT check respects its group's limit too: the device behind it is just as fragile.
    const limit = host.group === null ? 0 : await groupLimit(tx, host.group, config.groupDefaultConcurrency);
    await boss.insert(QUEUES.checks, [{ id: jobId, priority: config.jitPriority, data, ...jobGroup(host.group, limit) }], { db });
    await announceQueuedChecks(tx, QUEUES.checks, 'jit');
    await setJitJob(tx, host.id, jobId);
    return { host: { ...host, jit_job_id: jobId }, jobId, shared: false };
  });
}
