import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
import { readStat } from './measure.ts';

/**
 * The PostgreSQL server the benchmark runs against: the one in DATABASE_URL (we create and drop
 * our own databases on it, never touching others), or an embedded one in a temporary directory.
 * The benchmark's own connections are named `vigil-bench`, so they are told apart from Vigil's.
 */

export const BENCH_APPLICATION_NAME = 'vigil-bench';

export interface BenchServer {
  kind: 'external' | 'embedded';
  /** A maintenance database URL on the server (to create and drop databases). */
  adminUrl: string;
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  /** Drops every database this run created and stops an embedded server. */
  close(): Promise<void>;
}

export async function openBenchServer(databaseUrl: string | undefined): Promise<BenchServer> {
  let adminUrl = databaseUrl;
  let stopEmbedded = async () => {};
  if (!adminUrl) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-bench-pg-'));
    const embedded = await startEmbeddedPostgres(dir);
    adminUrl = embedded.adminUrl;
    stopEmbedded = async () => {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const url = adminUrl;
  const created = new Set<string>();
  const server: BenchServer = {
    kind: databaseUrl ? 'external' : 'embedded',
    adminUrl: url,
    async createDatabase(name) {
      await withClient(url, async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
        await c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      });
      created.add(name);
      return withDatabase(url, name);
    },
    async dropDatabase(name) {
      await withClient(url, (c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
      created.delete(name);
    },
    async close() {
      for (const name of [...created]) await server.dropDatabase(name).catch((err) => console.error(`could not drop ${name}: ${(err as Error).message}`));
      await stopEmbedded();
    },
  };
  return server;
}

export async function withClient<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: BENCH_APPLICATION_NAME });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export function benchPool(url: string, max = 3): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: BENCH_APPLICATION_NAME });
  pool.on('error', () => {});
  return pool;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface ServerFacts {
  version: string;
  maxConnections: number;
  sharedBuffers: string;
  synchronousCommit: string;
  fsync: string;
  /** Off on some shared servers: hot tables then bloat over a long run (the report says so). */
  autovacuum: string;
  /** The postmaster's pid: the parent of our own backend. */
  postmasterPid: number;
  backendPid: number;
}

export async function serverFacts(pool: pg.Pool): Promise<ServerFacts> {
  const { rows } = await pool.query<{ version: string; max_connections: string; shared_buffers: string; synchronous_commit: string; fsync: string; autovacuum: string; pid: number }>(
    `SELECT current_setting('server_version') AS version, current_setting('max_connections') AS max_connections,
            current_setting('shared_buffers') AS shared_buffers, current_setting('synchronous_commit') AS synchronous_commit,
            current_setting('fsync') AS fsync, current_setting('autovacuum') AS autovacuum, pg_backend_pid() AS pid`,
  );
  const row = rows[0]!;
  return {
    version: row.version,
    maxConnections: Number(row.max_connections),
    sharedBuffers: row.shared_buffers,
    synchronousCommit: row.synchronous_commit,
    fsync: row.fsync,
    autovacuum: row.autovacuum,
    backendPid: row.pid,
    postmasterPid: readStat(row.pid)?.ppid ?? 0,
  };
}
