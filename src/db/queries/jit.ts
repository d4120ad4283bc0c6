import type { Client, Pool } from '../pool.ts';
import { withTransaction } from '../transaction.ts';
import type { HostRow } from './hosts.ts';

export type JitClaim = { host: HostRow; jobId: string; shared: boolean };

/**
 * Finds or creates the one JIT check of a host. The host row is locked while deciding, so two
 * callers arriving together share one job: the first creates it (through `enqueue`, in this
 * transaction), the second sees jit_job_id and, if `isPending` says that job has not finished,
 * joins it. Returns undefined for an unknown host.
 */
export async function claimJitCheck(
  pool: Pool,
  hostId: string,
  isPending: (client: Client, jobId: string) => Promise<boolean>,
  enqueue: (client: Client, host: HostRow) => Promise<string>,
): Promise<JitClaim | undefined> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<HostRow>(`SELECT * FROM hosts WHERE id = $1 FOR UPDATE`, [hostId]);
    const host = rows[0];
    if (!host) return undefined;
    if (host.jit_job_id && (await isPending(client, host.jit_job_id))) return { host, jobId: host.jit_job_id, shared: true };
    const jobId = await enqueue(client, host);
    await client.query(`UPDATE hosts SET jit_job_id = $2 WHERE id = $1`, [hostId, jobId]);
    return { host: { ...host, jit_job_id: jobId }, jobId, shared: false };
  });
}
