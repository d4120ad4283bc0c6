/**
 * Who runs the embedded PostgreSQL of a data directory. A second Vigil on the same directory must
 * not start (two servers cannot share a cluster), and a Vigil killed with SIGKILL leaves its
 * server running with nobody to stop it. So each Vigil records its PID beside the cluster
 * (`vigil.pid`), and at start: a live owner means "in use" (an error naming the directory and both
 * PIDs); a dead owner whose PostgreSQL still runs means an orphan, which is shut down (SIGINT: a
 * fast shutdown, no data lost) before the new server starts.
 */
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../lib/errors.ts';

const OWNER_FILE = 'vigil.pid';
/** How long an orphaned server gets to shut down before start-up gives up. */
const ORPHAN_STOP_TIMEOUT_MS = 30_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by another user (the `postgres` user, when Vigil runs as root).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's command line, or undefined where /proc cannot tell (then we trust the PID). */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** A live Vigil, not a process that took over its PID (ours run under node). */
function isVigil(pid: number): boolean {
  if (pid === process.pid || !isAlive(pid)) return false;
  const cmd = commandLine(pid);
  return cmd === undefined || /node/.test(cmd);
}

/** A live postmaster of this cluster (its command line names the directory), not a reused PID. */
function isPostmasterOf(pid: number, clusterDir: string): boolean {
  if (!isAlive(pid)) return false;
  const cmd = commandLine(pid);
  return cmd === undefined || (cmd.includes('postgres') && cmd.includes(clusterDir));
}

/**
 * Makes this process the owner of `dataDir`'s embedded server: refuses if another Vigil owns it,
 * stops an orphaned server left by a killed one. `log` says what was done about an orphan.
 */
export async function claimDataDir(dataDir: string, clusterDir: string, log: (message: string, fields: Record<string, unknown>) => void): Promise<void> {
  const dir = path.resolve(dataDir);
  const owner = await readPid(path.join(dir, OWNER_FILE));
  const postmaster = await readPid(path.join(clusterDir, 'postmaster.pid'));
  if (owner !== undefined && isVigil(owner)) {
    const server = postmaster !== undefined && isAlive(postmaster) ? `, whose embedded PostgreSQL is PID ${postmaster}` : '';
    throw new ConfigError(
      `the data directory ${dir} is in use by another Vigil (PID ${owner}${server}): stop that one first, ` +
        'or give this one its own VIGIL_DATA_DIR (or a DATABASE_URL)',
    );
  }
  if (postmaster !== undefined && isPostmasterOf(postmaster, clusterDir)) await stopOrphan(postmaster, dir, log);
  await writeFile(path.join(dir, OWNER_FILE), `${process.pid}\n`);
}

async function stopOrphan(pid: number, dir: string, log: (message: string, fields: Record<string, unknown>) => void): Promise<void> {
  log('stopping the embedded PostgreSQL a killed Vigil left running', { data_dir: dir, pid });
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + ORPHAN_STOP_TIMEOUT_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      throw new ConfigError(`the embedded PostgreSQL (PID ${pid}) left running in ${dir} did not stop within ${ORPHAN_STOP_TIMEOUT_MS / 1000} s: stop it (kill ${pid}) and start again`);
    }
    await sleep(100);
  }
}

/** Gives up ownership (at stop), unless another process has taken it since. */
export async function releaseDataDir(dataDir: string): Promise<void> {
  const file = path.join(path.resolve(dataDir), OWNER_FILE);
  if ((await readPid(file)) === process.pid) await rm(file, { force: true });
}
