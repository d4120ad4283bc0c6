import { PgBoss } from 'pg-boss';
import type { Config } from '../config/config.ts';
import type { Client } from '../db/pool.ts';
import type { Logger } from '../lib/logger.ts';
import { PGBOSS_SCHEMA, QUEUES } from './names.ts';

export type Boss = PgBoss;

/** pg-boss's `db` option for a statement that must join our transaction. */
export function transactionDb(client: Client) {
  return { executeSql: (text: string, values?: unknown[]) => client.query(text, values as unknown[]) };
}

/**
 * Starts pg-boss (it installs and migrates its own schema) and makes sure Vigil's queues exist
 * with the current settings. Errors from pg-boss's background loops are logged, never thrown.
 */
export async function startBoss(databaseUrl: string, config: Config, logger: Logger): Promise<Boss> {
  const boss = new PgBoss({
    connectionString: databaseUrl,
    schema: PGBOSS_SCHEMA,
    application_name: 'vigil-boss',
    max: Math.max(4, Math.ceil(config.worker.concurrency / 2)),
    useListenNotify: config.listenNotify,
  });
  boss.on('error', (err) => logger.error('pg-boss error', { err: String(err) }));
  boss.on('warning', (w) => logger.warn('pg-boss warning', { warning: w }));
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
    // Longer than any check can take, so only a dead worker's job expires and is retried.
    expireInSeconds: Math.ceil(config.worker.checkTimeoutMs / 1000) + 60,
    // Completed check jobs are only looked at by JIT callers; keeping them long just bloats the table.
    deleteAfterSeconds: 60 * 60,
    notify: true,
  };
  if (await boss.getQueue(QUEUES.checks)) await boss.updateQueue(QUEUES.checks, options);
  else await boss.createQueue(QUEUES.checks, options).catch(async (err) => {
    // Another process created it between our look and our create.
    if (!(await boss.getQueue(QUEUES.checks))) throw err;
  });
}
