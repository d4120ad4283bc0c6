import type { Queryable } from '../pool.ts';

export interface WorkerRow {
  id: string;
  hostname: string;
  pid: number;
  concurrency: number;
  running: number;
  checks_done: string;
  busy_percent: number;
  started_at: Date;
  last_heartbeat: Date;
}

export async function upsertWorkerHeartbeat(
  db: Queryable,
  w: { id: string; hostname: string; pid: number; concurrency: number; running: number; checksDone: number; busyPercent: number },
): Promise<void> {
  await db.query(
    `INSERT INTO vigil_workers (id, hostname, pid, concurrency, running, checks_done, busy_percent)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (id) DO UPDATE SET running = $5, checks_done = $6, busy_percent = $7, last_heartbeat = now()`,
    [w.id, w.hostname, w.pid, w.concurrency, w.running, w.checksDone, w.busyPercent],
  );
}

export async function deleteWorker(db: Queryable, id: string): Promise<void> {
  await db.query(`DELETE FROM vigil_workers WHERE id = $1`, [id]);
}

/** Workers heard from within `aliveSeconds`; older rows (dead processes) are removed on the way. */
export async function liveWorkers(db: Queryable, aliveSeconds: number): Promise<WorkerRow[]> {
  await db.query(`DELETE FROM vigil_workers WHERE last_heartbeat < now() - make_interval(secs => $1::float8 * 10)`, [aliveSeconds]);
  const { rows } = await db.query<WorkerRow>(
    `SELECT * FROM vigil_workers WHERE last_heartbeat >= now() - make_interval(secs => $1::float8) ORDER BY hostname, pid`,
    [aliveSeconds],
  );
  return rows;
}
