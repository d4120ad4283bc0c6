import { readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
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

/**
 * Lowers the CPU priority of this pool's server processes (PostgreSQL backends) to `nice`, as each
 * connection opens: a worker's queries then yield the CPU to the API's and the scheduler's when
 * PostgreSQL shares the machine with them (the embedded database always does).
 *
 * Only a backend proven to be this connection's own is touched: its process title, read from
 * /proc, must be a PostgreSQL backend's and name this connection's client port. A server on another
 * machine, or in another PID namespace, never matches, so no unrelated local process is ever
 * reniced; a backend of another user that we may not renice is left as it is.
 */
export function lowerBackendPriority(pool: Pool, nice: number): void {
  if (process.platform !== 'linux') return;
  // The backend's pid came with the connection (BackendKeyData): no query needed.
  pool.on('connect', (client) => reniceBackend((client as unknown as { processID?: number }).processID, localPortOf(client), nice));
}

function localPortOf(client: pg.PoolClient): number | undefined {
  const stream = (client as unknown as { connection?: { stream?: { localPort?: number } } }).connection?.stream;
  return stream?.localPort;
}

function reniceBackend(pid: number | undefined, localPort: number | undefined, nice: number): void {
  if (pid === undefined || localPort === undefined) return;
  try {
    // A backend's title: "postgres: user database 127.0.0.1(54321) idle".
    const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!title.startsWith('postgres: ') || !title.includes(`(${localPort})`)) return;
    if (getPriority(pid) < nice) setPriority(pid, nice);
  } catch {
    // Not on this machine, gone, or not ours to renice: it keeps its priority.
  }
}
