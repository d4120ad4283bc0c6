import type { Queryable } from '../pool.ts';
import type { HostRow } from './hosts.ts';

/** Locks a host row for the caller's transaction, so two JIT requests for it take turns; undefined for an unknown host. */
export async function lockHostForJit(tx: Queryable, hostId: string): Promise<HostRow | undefined> {
  const { rows } = await tx.query<HostRow>(`SELECT * FROM hosts WHERE id = $1 FOR UPDATE`, [hostId]);
  return rows[0];
}

/** Names the job of the host's one outstanding JIT check. */
export async function setJitJob(tx: Queryable, hostId: string, jobId: string): Promise<void> {
  await tx.query(`UPDATE hosts SET jit_job_id = $2 WHERE id = $1`, [hostId, jobId]);
}

/** A new check job id: ids grow with time, so a group's oldest job is fetched first (migration 0100). */
export async function newCheckJobId(tx: Queryable): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(`SELECT vigil_time_ordered_uuid() AS id`);
  return rows[0]!.id;
}
