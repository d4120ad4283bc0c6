import type { JobWithMetadata } from 'pg-boss';
import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import { lockHostsForRecord, releaseAbandonedCheck } from '../db/queries/checks.ts';
import { appendEvents, type NewEvent } from '../db/queries/events.ts';
import { withTransaction } from '../db/transaction.ts';
import type { Logger } from '../lib/logger.ts';
import { nextCheckDelayMs } from '../machine/schedule.ts';
import { effectivePolicyOf } from '../policies/resolve.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Boss } from './boss.ts';
import { hostsOfJob, QUEUES, type CheckJobData } from './names.ts';

/**
 * Check jobs pg-boss gave up on: their retries ran out (Vigil's own failures, see the worker), or
 * their workers died every time. pg-boss moves each to the dead letter queue; here the host's
 * lease (or JIT mark) is released and its next check scheduled at its state's interval, with a
 * `check_not_run` event, a warning and a metric, so a failing job leaves no silent gap: without
 * this the host stays leased until the lease runs out (15 minutes by default), unchecked and
 * unexplained. The host's state does not change: nothing was learnt about it.
 */

export interface CheckNotRunDeps {
  pool: Pool;
  boss: Boss;
  config: Config;
  logger: Logger;
  metrics?: Metrics;
}

/** Works the dead letter queue of check jobs; returns the step that stops working it. */
export async function startCheckNotRunWorker(deps: CheckNotRunDeps): Promise<() => Promise<void>> {
  // Polled: pg-boss announces no job it dead-letters. One cheap query per worker process and second.
  const options = { batchSize: 50, includeMetadata: true, pollingIntervalSeconds: 1 } as const;
  await deps.boss.work<CheckJobData, void, typeof options>(
    QUEUES.checksNotRun,
    options,
    (jobs: JobWithMetadata<CheckJobData>[]) => recordChecksNotRun(deps, jobs),
  );
  return () => deps.boss.offWork(QUEUES.checksNotRun, { wait: true });
}

/**
 * Releases the hosts of abandoned check jobs and appends their events, in one transaction. Safe to
 * run twice for the same job (pg-boss retries a handler that failed): a host is only released
 * while it still names the job, so the second run finds nothing and writes nothing.
 */
export async function recordChecksNotRun(deps: CheckNotRunDeps, jobs: JobWithMetadata<CheckJobData>[]): Promise<void> {
  const abandoned = jobs.filter((j) => j.sourceId !== null);
  if (abandoned.length === 0) return;
  const released = await withTransaction(deps.pool, async (tx) => {
    const hosts = await lockHostsForRecord(tx, abandoned.flatMap((j) => hostsOfJob(j.data).map((h) => h.host_id)));
    const events: NewEvent[] = [];
    // A job carrying several hosts releases those still leased to it (one recorded by an earlier
    // attempt holds the lease no more and is left alone).
    for (const [job, host] of abandoned.flatMap((j) => hostsOfJob(j.data).map((h) => [j, hosts.get(h.host_id)] as const))) {
      if (!host) continue;
      const delayMs = nextCheckDelayMs(host.id, host.monitoring_state, deps.config, effectivePolicyOf(deps.config, host).policy);
      const freed = await releaseAbandonedCheck(tx, host.id, job.sourceId!, delayMs);
      if (!freed) continue;
      events.push({
        type: 'check_not_run', hostId: host.id, hostName: host.name, hostGroup: host.group, fromState: host.monitoring_state,
        toState: host.monitoring_state, jobId: job.sourceId, reason: notRunReason(job),
      });
    }
    await appendEvents(tx, events);
    return events;
  });
  for (const e of released) {
    deps.logger.warn('check could not be run; pg-boss gave up on its job, host rescheduled at its state\'s interval', { host_id: e.hostId, job_id: e.jobId, reason: e.reason });
  }
  deps.metrics?.checksNotRun.inc({ outcome: 'abandoned' }, released.length);
}

/** Why the job gave up, from the last attempt's error (pg-boss keeps it as the job's output). */
function notRunReason(job: JobWithMetadata<CheckJobData>): string {
  const attempts = (job.sourceRetryCount ?? 0) + 1;
  const output = job.sourceOutput as { message?: unknown } | null;
  const last = typeof output?.message === 'string' ? output.message : 'the worker running it stopped answering';
  return `check job ${job.sourceId} (${job.data.checked_by}) gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${last}`;
}
