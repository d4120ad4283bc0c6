import { backoffMs, type Backoff } from '../lib/backoff.ts';
import { delay } from '../lib/time.ts';
import type { Client, Pool } from './pool.ts';
import { isRetryable } from './sqlstate.ts';

const MAX_ATTEMPTS = 5;
/** Serialization failures and deadlocks retry after up to 40 ms, 80 ms, … (full jitter). */
const RETRY_BACKOFF: Backoff = { baseMs: 40, maxMs: 1000, jitter: true };

/**
 * Runs `work` in one transaction on one client. Serialization failures and deadlocks retry the
 * whole transaction with jittered backoff; anything else rolls back and rethrows.
 */
export async function withTransaction<T>(pool: Pool, work: (client: Client) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runOnce(pool, work);
    } catch (err) {
      if (!isRetryable(err) || attempt >= MAX_ATTEMPTS) throw err;
      await delay(backoffMs(attempt, RETRY_BACKOFF));
    }
  }
}

async function runOnce<T>(pool: Pool, work: (client: Client) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  // A connection dropped between two statements makes the checked-out client emit 'error'; with
  // no listener that would crash the process. The failing statement rejects anyway.
  const onError = () => (broken = true);
  client.on?.('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => (broken = true));
    throw err;
  } finally {
    // A client whose rollback failed is in an unknown state: destroy it rather than reuse it.
    client.removeListener?.('error', onError);
    client.release(broken);
  }
}
