import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';
import { coerceError } from '../../src/lib/errors.ts';
import { waitFor } from '../helpers/vigil.ts';

const MAIN = path.resolve('src/main.ts');

interface Running {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

const running: Running[] = [];
/** Worker children of `vigil start` (src/worker-child.ts): they outlive a SIGKILLed parent for a moment. */
const workerChildren: number[] = [];
let dataDir: string | undefined;
afterAll(async () => {
  for (const r of running) r.child.kill('SIGKILL');
  for (const pid of workerChildren) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await waitFor('the worker children to exit', async () => workerChildren.every((pid) => !isAlive(pid)), 10_000, 50).catch(() => {});
  const orphan = dataDir && postmasterPid(dataDir);
  if (orphan && isAlive(orphan)) process.kill(orphan, 'SIGINT');
  if (orphan) await waitFor('the test server to stop', async () => !isAlive(orphan), 30_000, 100).catch(() => {});
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** `node src/main.ts start` on the shared data directory, embedded PostgreSQL, as a user runs it. */
async function startVigil(): Promise<Running & { port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, 'start'], {
    env: { PATH: process.env.PATH!, VIGIL_DATA_DIR: dataDir!, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const run = { child, output: () => out, exit, port };
  running.push(run);
  return run;
}

const listening = (run: Running & { port: number }) =>
  waitFor('the API to listen', async () => run.output().includes(`listening on http://127.0.0.1:${run.port}`), 120_000, 100);

function postmasterPid(dir: string): number | undefined {
  const file = path.join(dir, 'pg', 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
}

/** The worker child a `vigil start` forked, once there is exactly one (its only child process). */
function workerChildOf(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    const workers = children.filter((c) => readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(-2).join(' ').endsWith('main.ts worker'));
    if (workers.length !== 1) return undefined;
    if (!workerChildren.includes(workers[0]!)) workerChildren.push(workers[0]!);
    return workers[0];
  } catch {
    return undefined;
  }
}

/** Exited, and not yet reaped by its new parent. */
function zombie(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

describe('the embedded PostgreSQL of a data directory', () => {
  it('refuses a second Vigil on the same data directory, naming the directory and the PIDs; its worker child stops with it and is restarted when it dies', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-embedded-'));
    const first = await startVigil();
    await listening(first);
    // The worker role runs in a child process of its own, at a lower CPU priority than the API's.
    const worker = await waitFor('the worker child', async () => workerChildOf(first.child.pid!), 30_000, 100);
    // (It lowers itself as it starts.)
    await waitFor('the worker child to lower its priority', async () => os.getPriority(worker) === 10, 30_000, 50);
    expect(os.getPriority(first.child.pid!)).toBe(os.getPriority(process.pid));
    const second = await startVigil();
    expect(await second.exit).toBe(1);
    const pg = postmasterPid(dataDir);
    expect(second.output()).toContain(
      `the data directory ${dataDir} is in use by another Vigil (PID ${first.child.pid}, whose embedded PostgreSQL is PID ${pg})`,
    );
    expect(second.output()).not.toMatch(/undefined/);
    expect(first.child.exitCode).toBeNull();

    // Killed without a chance to stop its server: the server runs on, orphaned.
    first.child.kill('SIGKILL');
    await first.exit;
    expect(isAlive(pg!)).toBe(true);
    // Its worker child does not check on, unsupervised: it stops once its parent is gone.
    await waitFor('the orphaned worker child to stop', async () => !isAlive(worker) || zombie(worker), 30_000, 100);

    const third = await startVigil();
    await listening(third);
    expect(third.output()).toContain('stopping the embedded PostgreSQL a killed Vigil left running');
    expect(isAlive(pg!)).toBe(false);
    // A worker child that dies is started again, at the same priority.
    const before = await waitFor('the worker child of the third Vigil', async () => workerChildOf(third.child.pid!), 30_000, 100);
    process.kill(before, 'SIGKILL');
    const after = await waitFor('a new worker child', async () => {
      const now = workerChildOf(third.child.pid!);
      return now !== undefined && now !== before ? now : undefined;
    }, 30_000, 100);
    expect(third.output()).toContain('the worker process exited; restarting it');
    await waitFor('the new worker child to lower its priority', async () => os.getPriority(after) === 10, 30_000, 50);
    expect(postmasterPid(dataDir)).not.toBe(pg);
    third.child.kill('SIGINT');
    expect(await third.exit).toBe(0);
    expect(postmasterPid(dataDir)).toBeUndefined();
  }, 300_000);

  it('gives an error without a value words', () => {
    expect(coerceError(undefined).message).toBe('an error without a message (undefined)');
  });
});
