/**
 * A throwaway OpenSSH sshd on 127.0.0.1 for probe tests: its own config, host key and
 * authorized_keys in a temp dir, and a system user `vigiltest` with a known password.
 * Needs root (it creates the user and runs sshd) and the openssh-server package.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SSHD_PATH = '/usr/sbin/sshd';
/** sshd's privilege-separation chroot; it refuses to start without it. */
const PRIVSEP_DIR = '/run/sshd';
const START_TIMEOUT_MS = 10_000;

export const SSHD_TEST_USER = 'vigiltest';
export const SSHD_TEST_PASSWORD = 'vigil-sshd-test-password';

/** Whether OpenSSH's server is installed (Debian: openssh-server). */
export function hasSshd(): boolean {
  return existsSync(SSHD_PATH);
}

export interface TestSshd {
  port: number;
  /** Current host key fingerprint, as `ssh-keygen -lf <hostkey>.pub` prints it. */
  hostKeySha256: string;
  /** Stops sshd, generates a new host key and starts it again on the same port. */
  restartWithNewHostKey(): Promise<void>;
  /** What sshd wrote to stderr (-e), for diagnosing a failing test. */
  log(): string;
  /** Stops sshd and removes its temp dir. */
  stop(): Promise<void>;
}

export interface TestSshdOptions {
  /** Public keys (`ssh-ed25519 AAAA…`) allowed to log in as the test user. */
  authorizedKeys?: string[];
}

export async function startTestSshd(options: TestSshdOptions = {}): Promise<TestSshd> {
  if (process.getuid?.() !== 0) throw new Error('startTestSshd needs root: it creates a system user and runs sshd');
  ensureTestUser();
  mkdirSync(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sshd-'));
  // sshd reads authorized_keys as the logging-in user, who must be able to reach the file.
  chmodSync(dir, 0o755);
  writeAuthorizedKeys(dir, options.authorizedKeys ?? []);
  const port = await freeLoopbackPort();
  const configPath = writeSshdConfig(dir, port);
  let logText = '';
  const appendLog = (chunk: Buffer) => (logText = (logText + chunk.toString()).slice(-64 * 1024));

  let hostKeySha256 = generateHostKey(dir);
  let child = await spawnSshd(configPath, port, appendLog, () => logText);
  return {
    port,
    get hostKeySha256() {
      return hostKeySha256;
    },
    async restartWithNewHostKey() {
      await stopProcess(child);
      hostKeySha256 = generateHostKey(dir);
      child = await spawnSshd(configPath, port, appendLog, () => logText);
    },
    log: () => logText,
    async stop() {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function ensureTestUser(): void {
  try {
    execFileSync('id', ['-u', SSHD_TEST_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['-m', '-s', '/bin/sh', SSHD_TEST_USER], { stdio: 'pipe' });
  }
  // Set every time: the user may predate this helper with another password.
  execFileSync('chpasswd', [], { input: `${SSHD_TEST_USER}:${SSHD_TEST_PASSWORD}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
}

function writeAuthorizedKeys(dir: string, keys: string[]): void {
  const keysDir = join(dir, 'authorized_keys');
  mkdirSync(keysDir, { mode: 0o755 });
  writeFileSync(join(keysDir, SSHD_TEST_USER), keys.map((k) => k.trim() + '\n').join(''), { mode: 0o644 });
}

function writeSshdConfig(dir: string, port: number): string {
  const configPath = join(dir, 'sshd_config');
  const lines = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_ed25519_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys', '%u')}`,
    // The temp dir lives under /tmp, which StrictModes would reject as group/world-writable.
    'StrictModes no',
    // Without PAM, sshd checks the password against /etc/shadow itself: no PAM stack to configure.
    'UsePAM no',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin no',
    `AllowUsers ${SSHD_TEST_USER}`,
    'UseDNS no',
    'PrintMotd no',
    'LogLevel VERBOSE',
  ];
  writeFileSync(configPath, lines.join('\n') + '\n');
  return configPath;
}

/** Replaces the host key and returns its fingerprint as `ssh-keygen -lf` prints it. */
function generateHostKey(dir: string): string {
  const keyPath = join(dir, 'host_ed25519_key');
  rmSync(keyPath, { force: true });
  rmSync(`${keyPath}.pub`, { force: true });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', keyPath], { stdio: 'pipe' });
  return fingerprintOf(`${keyPath}.pub`);
}

/** `ssh-keygen -lf` prints "256 SHA256:… comment (ED25519)"; the fingerprint is the second field. */
export function fingerprintOf(publicKeyPath: string): string {
  const line = execFileSync('ssh-keygen', ['-lf', publicKeyPath], { encoding: 'utf8' });
  const fingerprint = line.split(' ')[1];
  if (fingerprint === undefined || !fingerprint.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -lf output: ${line}`);
  return fingerprint;
}

async function spawnSshd(
  configPath: string,
  port: number,
  appendLog: (chunk: Buffer) => void,
  log: () => string,
): Promise<ChildProcess> {
  const child = spawn(SSHD_PATH, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', appendLog);
  child.stderr!.on('data', appendLog);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`sshd exited (code ${code}, signal ${signal}) before listening:\n${log()}`))),
  );
  exited.catch(() => {}); // only interesting while starting
  try {
    await Promise.race([waitForPort(port), exited]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return child;
}

/** Retries a TCP connect until it succeeds: sshd is ready once it accepts. */
async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await acceptsConnections(port))) {
    if (Date.now() > deadline) throw new Error(`sshd did not listen on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
