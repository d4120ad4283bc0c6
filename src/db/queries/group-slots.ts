import type { Queryable } from '../pool.ts';

/**
 * Takes a free slot of `group` (one of its first `limit`) for `jobId`, or returns null when all
 * are held. A slot whose lease ran out (its worker died) counts as free; the same job retried
 * gets its own slot back.
 */
export async function tryAcquireGroupSlot(db: Queryable, group: string, limit: number, jobId: string, leaseSeconds: number): Promise<number | null> {
  await db.query(
    `INSERT INTO group_check_slots (group_name, slot) SELECT $1, generate_series(0, $2 - 1) ON CONFLICT DO NOTHING`,
    [group, limit],
  );
  const { rows } = await db.query<{ slot: number }>(
    `UPDATE group_check_slots s SET job_id = $3, lease_until = now() + make_interval(secs => $4)
       FROM (SELECT group_name, slot FROM group_check_slots
              WHERE group_name = $1 AND slot < $2 AND (job_id IS NULL OR job_id = $3 OR lease_until < now())
              ORDER BY job_id = $3 DESC NULLS LAST, slot LIMIT 1 FOR UPDATE SKIP LOCKED) free
      WHERE s.group_name = free.group_name AND s.slot = free.slot
      RETURNING s.slot`,
    [group, limit, jobId, leaseSeconds],
  );
  return rows[0]?.slot ?? null;
}

export async function releaseGroupSlot(db: Queryable, group: string, jobId: string): Promise<void> {
  await db.query(`UPDATE group_check_slots SET job_id = NULL, lease_until = NULL WHERE group_name = $1 AND job_id = $2`, [group, jobId]);
}
