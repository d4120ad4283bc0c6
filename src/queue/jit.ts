import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import { announceQueuedChecks } from '../db/queries/checks.ts';
import { claimJitCheck, type JitClaim } from '../db/queries/jit.ts';
import { transactionDb, type Boss } from './boss.ts';
import { groupLimit } from '../db/queries/groups.ts';
import { jobGroup, QUEUES, type CheckJobData } from './names.ts';

const PENDING_STATES = new Set(['created', 'retry', 'active']);

/**
 * Queues a just-in-time check at the JIT priority, or joins the one already queued or running for
 * the host. Returns undefined for an unknown host.
 */
export async function requestJitCheck(deps: { pool: Pool; boss: Boss; config: Config }, hostId: string): Promise<JitClaim | undefined> {
  const { boss, config } = deps;
  return claimJitCheck(
    deps.pool,
    hostId,
    async (client, jobId) => {
      const job = await boss.getJobById(QUEUES.checks, jobId, { db: transactionDb(client) });
      return job !== null && PENDING_STATES.has(job.state);
    },
    async (client, host) => {
      const id = randomUUID();
      const data: CheckJobData = { host_id: host.id, checked_by: 'jit' };
      // A JIT check respects its group's limit too: the device behind it is just as fragile.
      const limit = host.group === null ? 0 : await groupLimit(client, host.group, config.groupDefaultConcurrency);
      const job = { id, priority: config.jitPriority, data, ...jobGroup(host.group, limit) };
      await boss.insert(QUEUES.checks, [job], { db: transactionDb(client) });
      await announceQueuedChecks(client, QUEUES.checks, 'jit');
      return id;
    },
  );
}
