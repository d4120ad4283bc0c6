/**
 * Runs a Debian daemon (apache2, dnsmasq) as a throwaway child process in the foreground, with a
 * config of the test's own in a temp dir: started, awaited until ready, killed and awaited on stop.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const START_DEADLINE_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const POLL_MS = 50;

export interface Daemon {
  pid: number;
  dir: string;
  /** What the daemon printed so far, for assertion messages. */
  output(): string;
  /** Kills the daemon, waits for it to exit and removes its temp dir. */
  stop(): Promise<void>;
}

/** A loopback TCP port free a moment ago (the caller's daemon binds it next). */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function makeDaemonDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `vigil-${prefix}-`));
}

/** Spawns `file args`, then polls `ready()` until true; fails with the daemon's output if it exits first. */
export async function startDaemon(name: string, dir: string, file: string, args: string[], ready: () => Promise<boolean>): Promise<Daemon> {
  const child = spawn(file, args, { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (err) => (log += `spawn failed: ${err.message}`));
  const stop = async (): Promise<void> => {
    await kill(child, exited);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(name, child, ready, () => log);
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: child.pid ?? -1, dir, output: () => log, stop };
}

async function waitUntilReady(name: string, child: ChildProcess, ready: () => Promise<boolean>, log: () => string): Promise<void> {
  const deadline = Date.now() + START_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${log()}`);
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`${name} was not ready within ${START_DEADLINE_MS} ms:\n${log()}`);
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** True when a TCP connection to host:port opens. */
export function acceptsTcp(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
