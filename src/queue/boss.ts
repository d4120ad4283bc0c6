import { PgBoss, type QueueOptions } from 'pg-boss';
import type { Config } from '../config/config.ts';
import { lowerBackendPriority, type Client, type Pool } from '../db/pool.ts';
import type { Logger } from '../lib/logger.ts';
import { CHECK_QUEUES, PGBOSS_SCHEMA, QUEUES } from './names.ts';

export type Boss = PgBoss;

const stoppedBosses = new WeakSet<PgBoss>();

/** Whether pg-boss has stopped (for readiness): it emits `stopped` once stop() completes. */
export function isBossStopped(boss: PgBoss): boolean {
  return stoppedBosses.has(boss);
}

/** pg-boss's `db` option for a statement that must join our transaction. */
export function transactionDb(client: Client) {
  return { executeSql: (text: string, values?: unknown[]) => client.query(text, values as unknown[]) };
}

/** What pg-boss's own connection pool (its default adapter) exposes: opened before start(), it is not opened again. */
interface BossDefaultDb {
  _pgbdb?: boolean;
  opened?: boolean;
  open?: () => Promise<void>;
  pool?: Pool;
}

/**
 * Starts pg-boss (it installs and migrates its own schema) and makes sure Vigil's queues exist
 * with the current settings. Errors from pg-boss's background loops are logged, never thrown.
 * `backendNice`: a worker-only process lowers the server processes of pg-boss's pool as it does its
 * own pool's (src/db/pool.ts), so the workers' fetches and heartbeats also yield the CPU to the API.
 */
export async function startBoss(databaseUrl: string, config: Config, logger: Logger, backendNice = 0): Promise<Boss> {
  const boss = new PgBoss({
    connectionString: databaseUrl,
    schema: PGBOSS_SCHEMA,
    application_name: 'vigil-boss',
    // Few connections: workers fetch in batches and settle jobs inside their own result transactions.
    max: 6,
    useListenNotify: config.listenNotify,
    // Supervision finds jobs whose worker stopped sending heartbeats; run it as often as a
    // heartbeat is due, so a killed worker's check is retried within about two heartbeats.
    superviseIntervalSeconds: config.worker.jobHeartbeatSeconds,
    monitorIntervalSeconds: config.worker.jobHeartbeatSeconds,
  });
  boss.on('error', (err) => logger.error('pg-boss error', { err: String(err) }));
  boss.on('stopped', () => stoppedBosses.add(boss));
  boss.on('warning', (w) => logger.warn('pg-boss warning', { warning: w }));
  if (backendNice > 0) {
    // pg-boss creates its pool in open(), which start() skips when the pool is already open: opening
    // it first lets the hook see every connection pg-boss makes.
    const db = boss.getDb() as BossDefaultDb;
    if (db._pgbdb && !db.opened && db.open) {
      await db.open();
      if (db.pool) lowerBackendPriority(db.pool, backendNice);
    }
  }
  await boss.start();
  await ensureQueues(boss, config);
  return boss;
}

async function ensureQueues(boss: PgBoss, config: Config): Promise<void> {
  const options = {
    // A target that fails is a result, not a job failure: retries are for infrastructure errors.
    retryLimit: config.worker.retryLimit,
    retryDelay: 1,
    retryBackoff: true,
    retryDelayMax: 60,
    // Longer than any check can take; heartbeats catch a dead worker's job much sooner.
    expireInSeconds: Math.ceil(config.worker.checkTimeoutMs / 1000) + 60,
    heartbeatSeconds: config.worker.jobHeartbeatSeconds,
    // A recorded result lives in the history (the task endpoint reads it there), so completed
    // jobs go soon: at 2,000 checks/s an hour of them was 7M rows that slowed every fetch and
    // completion (a 10-minute benchmark lost 10 % of its throughput to it).
    deleteAfterSeconds: 5 * 60,
    notify: true,
    // A job whose retries run out moves here (src/queue/check-not-run.ts reschedules its host).
    deadLetter: QUEUES.checksNotRun,
  };
  // The dead letter queue must exist first (the check queues reference it).
  // pg-boss moves failed jobs there without a NOTIFY, so its workers poll (src/queue/check-not-run.ts).
  await ensureQueue(boss, QUEUES.checksNotRun, { retryLimit: 5, retryDelay: 5, retryBackoff: true, deleteAfterSeconds: 24 * 60 * 60, notify: false });
  for (const name of CHECK_QUEUES) await ensureQueue(boss, name, options);
}

/** Creates a queue, or brings an existing one's options up to date. */
export async function ensureQueue(boss: PgBoss, name: string, options: QueueOptions & { notify?: boolean }): Promise<void> {
  if (await boss.getQueue(name)) await boss.updateQueue(name, options);
  else await boss.createQueue(name, options).catch(async (err) => {
    // Another process created it between our look and our create.
    if (!(await boss.getQueue(name))) throw err;
  });
}
