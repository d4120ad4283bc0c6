import type { Queryable } from '../pool.ts';

/**
 * Stores what a host's probes returned as memory (run-check's result.memory), for the next check.
 * One UPDATE outside the check's result transaction: memory is a cache of the last values seen,
 * and a lost write only means the next delta is measured from one check earlier.
 */
export async function saveProbeMemory(db: Queryable, hostId: string, memory: Record<string, unknown>): Promise<void> {
  await db.query(`UPDATE hosts SET probe_memory = $2::jsonb WHERE id = $1`, [hostId, JSON.stringify(memory)]);
}
