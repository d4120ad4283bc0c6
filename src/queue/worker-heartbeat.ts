import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import { deleteWorker, upsertWorkerHeartbeat } from '../db/queries/workers.ts';
import type { Logger } from '../lib/logger.ts';
import { delay } from '../lib/time.ts';
import type { WorkerActivity } from './worker-activity.ts';
import { laneSlots } from './worker.ts';
import { coerceError } from '../lib/errors.ts';

/**
 * Reports this worker process in vigil_workers every heartbeat interval until `signal` aborts,
 * then removes its row. Failures (database down) are logged and retried; never thrown.
 */
export async function runWorkerHeartbeat(
  deps: { pool: Pool; config: Config; logger: Logger; activity: WorkerActivity },
  signal: AbortSignal,
): Promise<void> {
  const id = randomUUID();
  const slots = laneSlots(deps.config);
  const concurrency = slots.normal + slots.failing;
  while (!signal.aborted) {
    try {
      await upsertWorkerHeartbeat(deps.pool, {
        id,
        hostname: os.hostname(),
        pid: process.pid,
        concurrency,
        running: deps.activity.running,
        checksDone: deps.activity.done,
        busyPercent: Math.round(deps.activity.busyPercent(concurrency) * 10) / 10,
      });
    } catch (err) {
      deps.logger.warn('worker heartbeat failed; retrying', { err: coerceError(err).message });
    }
    await delay(deps.config.worker.heartbeatSeconds * 1000, signal).catch(() => {});
  }
  await deleteWorker(deps.pool, id).catch(() => {});
}
