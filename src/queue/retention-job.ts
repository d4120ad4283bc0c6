import type { Job, QueueOptions } from 'pg-boss';
import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import { databaseNow } from '../db/queries/hosts.ts';
import type { Logger } from '../lib/logger.ts';
import { pruneBoundedTables, type PruneReport } from '../retention/bounded-tables.ts';
import { maintainHistoryPartitions, type RetentionReport } from '../retention/history-partitions.ts';
import { ensureQueue, type Boss } from './boss.ts';
import { QUEUES, RETIRED_RETENTION_QUEUE } from './names.ts';
import { coerceError } from '../lib/errors.ts';

/**
 * The retention job: history partitions created ahead and dropped past the retention, on
 * pg-boss's cron. It belongs to the scheduler role, which creates the queue and the schedule and
 * works the queue: a deployment that checks anything runs a scheduler, usually one or two of them,
 * so the job always has a taker, its DDL never competes with checks for a worker's slots, and it
 * runs from the same few processes as the rest of the time-driven work. When several schedulers
 * run, pg-boss hands each job to one, and the advisory lock in src/db/queries/partitions.ts would
 * serialise them anyway.
 */

/** Hourly, 7 minutes past (UTC): partitions are made days ahead, so a missed run costs nothing. */
export const RETENTION_CRON = '7 * * * *';

export interface RetentionJobData {
  trigger: 'cron' | 'startup';
}

export interface RetentionDeps {
  pool: Pool;
  boss: Boss;
  config: Config;
  logger: Logger;
}

const QUEUE_OPTIONS: QueueOptions & { notify: boolean } = {
  // A run that fails (most likely a lock timeout behind a long export) is retried within minutes.
  retryLimit: 5,
  retryDelay: 60,
  retryBackoff: true,
  expireInSeconds: 15 * 60,
  // A run still queued after a day has been superseded by the hourly ones after it.
  retentionSeconds: 24 * 60 * 60,
  // Completed runs (their output says what they created and dropped) are kept a week: 168 rows.
  deleteAfterSeconds: 7 * 24 * 60 * 60,
  notify: true,
};

/**
 * Creates the queue and its hourly schedule (both upserts: every scheduler start brings them up to
 * date), works the queue, and queues one run now, so a new deployment has its partitions without
 * waiting for the hour. Returns the step that stops working the queue (waiting for a run in flight).
 */
export async function startRetention(deps: RetentionDeps): Promise<() => Promise<void>> {
  const { boss } = deps;
  await ensureQueue(boss, QUEUES.retention, QUEUE_OPTIONS);
  // Versions before the rename scheduled the same job on another queue, which nothing works now.
  if (await boss.getQueue(RETIRED_RETENTION_QUEUE)) await boss.deleteQueue(RETIRED_RETENTION_QUEUE);
  await boss.schedule(QUEUES.retention, RETENTION_CRON, { trigger: 'cron' } satisfies RetentionJobData, { tz: 'UTC' });
  await boss.work<RetentionJobData, RetentionReport & { pruned: PruneReport }>(
    QUEUES.retention,
    { localConcurrency: 1, batchSize: 1, pollingIntervalSeconds: 30 },
    async ([job]: Job<RetentionJobData>[]) => runRetention(deps, job!.data.trigger),
  );
  await boss.send(QUEUES.retention, { trigger: 'startup' } satisfies RetentionJobData);
  return () => boss.offWork(QUEUES.retention, { wait: true });
}

/** Events, deliveries, tombstones and resolved incidents past their retention; logs what went. */
async function pruneTables(deps: Omit<RetentionDeps, 'boss'>): Promise<PruneReport> {
  const pruned = await pruneBoundedTables(deps.pool, deps.config.retention, await databaseNow(deps.pool));
  const changed = Object.values(pruned).some((n) => n > 0);
  deps.logger.log(changed ? 'info' : 'debug', 'old events, deliveries, tombstones and incidents pruned', pruned);
  return pruned;
}

/** One run, as the job handler does it; logs what it created and dropped. A failure is logged and rethrown, so pg-boss retries. */
export async function runRetention(deps: Omit<RetentionDeps, 'boss'>, trigger: RetentionJobData['trigger']): Promise<RetentionReport & { pruned: PruneReport }> {
  const { retentionDays, partitionsAheadDays } = deps.config.history;
  try {
    const report = await maintainHistoryPartitions(deps.pool, { aheadDays: partitionsAheadDays, retentionDays, now: await databaseNow(deps.pool) });
    const changed = report.created.length + report.dropped.length + report.defaultRowsDeleted > 0;
    deps.logger.log(changed ? 'info' : 'debug', 'history partitions maintained', {
      trigger,
      created: report.created,
      dropped: report.dropped,
      default_rows_deleted: report.defaultRowsDeleted,
      retention_days: retentionDays,
    });
    const pruned = await pruneTables(deps);
    return { ...report, pruned };
  } catch (err) {
    deps.logger.error('history retention run failed; pg-boss retries it', { trigger, err: coerceError(err).message });
    throw err;
  }
}
