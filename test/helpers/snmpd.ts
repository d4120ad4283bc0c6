/**
 * A throwaway Debian snmpd (Net-SNMP 5.9, package `snmpd`) on 127.0.0.1 at a free UDP port, with its
 * own config and persistent dir in a temp dir, so it never reads /etc/snmp or writes /var/lib/snmp.
 * Serves sysName.0 = 'vigil-test' to one v2c community and one v3 authPriv user (SHA + AES).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Version, createSession } from 'net-snmp';
import { SYS_NAME_OID, freeUdpPort } from './snmp-agent.ts';
import type { SnmpTestUser } from './snmp-agent.ts';

const SNMPD = '/usr/sbin/snmpd';
const START_DEADLINE_MS = 15_000;
const STOP_GRACE_MS = 5_000;

/** True when Debian's snmpd is installed (`apt-get install snmpd`). */
export function hasSnmpd(): boolean {
  return existsSync(SNMPD);
}

export interface TestSnmpd {
  address: '127.0.0.1';
  port: number;
  /** snmpd's process id and temp dir (config, pid file, persistent state). */
  pid: number;
  dir: string;
  community: string;
  /** The authPriv user snmpd knows, in the probe's credential shape. */
  user: SnmpTestUser;
  /** snmpd's log so far (-Lo), for assertion messages. */
  output(): string;
  /** Kills snmpd, waits for it to exit and removes its temp dir. */
  stop(): Promise<void>;
}

const COMMUNITY = 'vigil-ro-community';
const USER: SnmpTestUser = {
  username: 'vigiluser',
  level: 'authPriv',
  authProtocol: 'sha',
  authKey: 'vigil-auth-pass',
  privProtocol: 'aes',
  privKey: 'vigil-priv-pass',
};

function snmpdConf(port: number): string {
  return [
    `agentAddress udp:127.0.0.1:${port}`,
    `rocommunity ${COMMUNITY} 127.0.0.1`,
    `createUser ${USER.username} SHA "${USER.authKey}" AES "${USER.privKey}"`,
    `rouser ${USER.username} priv`,
    'sysName vigil-test',
    '',
  ].join('\n');
}

export async function startSnmpd(): Promise<TestSnmpd> {
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-snmpd-'));
    try {
      return await launch(dir, await freeUdpPort());
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      // The free port may be taken between our probe and snmpd's bind; try another.
      if (!String(err).includes('Error opening specified endpoint') || attempt >= 3) throw err;
    }
  }
}

async function launch(dir: string, port: number): Promise<TestSnmpd> {
  const conf = join(dir, 'snmpd.conf');
  await writeFile(conf, snmpdConf(port), { mode: 0o600 });
  // -C: read no config but ours; -f: stay in the foreground; -Lo: log to stdout; -I -smux: no
  // SMUX listener (TCP 199, which a second snmpd or a non-root user cannot bind).
  // The listening address comes from agentAddress only: naming it on the command line too makes
  // snmpd open it twice and exit with "Error opening specified endpoint".
  const child = spawn(SNMPD, ['-f', '-Lo', '-I', '-smux', '-C', '-c', conf, '-p', join(dir, 'snmpd.pid')], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SNMP_PERSISTENT_DIR: join(dir, 'persist'), MIBS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    await kill(child, exited);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilAnswering(port, child, () => log);
  } catch (err) {
    await kill(child, exited);
    throw err;
  }
  const pid = child.pid ?? -1;
  return { address: '127.0.0.1', port, pid, dir, community: COMMUNITY, user: USER, output: () => log, stop };
}

/** Polls sysName.0 until snmpd answers; fails early with its log if it exits. */
async function waitUntilAnswering(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + START_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`snmpd exited (${child.exitCode ?? child.signalCode}) before answering:\n${log()}`);
    }
    if (await answersGet(port)) return;
  }
  throw new Error(`snmpd did not answer a GET on udp 127.0.0.1:${port} within ${START_DEADLINE_MS} ms:\n${log()}`);
}

function answersGet(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const session = createSession('127.0.0.1', COMMUNITY, { port, timeout: 200, retries: 0, version: Version['2c'] });
    session.on('error', () => undefined);
    session.get([SYS_NAME_OID], (error) => {
      session.close();
      resolve(!error);
    });
  });
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
