import pg from 'pg';

/**
 * SQL lives under src/db only; handlers and roles call query functions, never SQL of their own.
 * Who may open a transaction: src/db/queries/README.md.
 */
export type Pool = pg.Pool;
export type Client = pg.PoolClient;
/** Anything that runs a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

/** How long a query waits for a free pooled connection (or a new one) before failing as "unavailable". */
export const POOL_WAIT_MS = 10_000;

export function createPool(connectionString: string, max: number, applicationName = 'vigil', waitMs = POOL_WAIT_MS): Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: applicationName, connectionTimeoutMillis: waitMs });
  // An idle client losing its connection (database restart) must not crash the process; the pool
  // drops it and the next query reconnects.
  pool.on('error', () => {});
  return pool;
}
