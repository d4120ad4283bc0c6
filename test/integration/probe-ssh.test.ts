import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runSshProbe, sshProbeSchema } from '../../src/probes/ssh.ts';
import type { SshProbeConfig, SshProbeContext } from '../../src/probes/ssh.ts';
import type { ProbeResult, ResolvedCredential } from '../../src/probes/types.ts';
import { closedLoopbackPort, generateTestKeyPair, startTestSshServer } from '../helpers/ssh-server.ts';
import type { TestCommandResult, TestSshServer } from '../helpers/ssh-server.ts';

const PASSWORD = 'correct-horse-battery-staple';
const WRONG_PASSWORD = 'wrong-horse-battery-staple';
const PASSPHRASE = 'open sesame, please';
const plainKey = generateTestKeyPair();
const encryptedKey = generateTestKeyPair(PASSPHRASE);
/** Every secret a result must never contain. */
const SECRETS = [PASSWORD, WRONG_PASSWORD, PASSPHRASE, plainKey.privateKey, encryptedKey.privateKey];

const COMMANDS: Record<string, TestCommandResult> = {
  'exit 0': { exitCode: 0, stdout: 'all good\n' },
  'exit 3': { exitCode: 3, stdout: 'disk full\n' },
  'status': { exitCode: 0, stdout: 'load: ok\nqueue: 12\n' },
  'kill': { signal: 'KILL' },
  'big': { exitCode: 1, stdout: 'x'.repeat(100 * 1024) },
  'hang': { hang: true },
  // 32 KiB of 'a' then 'b' (under the 64 KiB output cap): backtracking engines take exponential time on (a+)+$ against this.
  'aaab': { exitCode: 0, stdout: `${'a'.repeat(32 * 1024)}b` },
};

const passwordCredential: ResolvedCredential = { kind: 'ssh-password', username: 'alice', password: PASSWORD };
const keyCredential: ResolvedCredential = { kind: 'ssh-key', username: 'alice', privateKey: plainKey.privateKey };

let server: TestSshServer;

beforeAll(async () => {
  server = await startTestSshServer({
    users: { alice: { password: PASSWORD, publicKeys: [plainKey.publicKey, encryptedKey.publicKey] } },
    onCommand: (command) => COMMANDS[command] ?? { exitCode: 127 },
  });
});
afterAll(() => server.close());

function sshConfig(overrides: Partial<Record<string, unknown>> = {}, port = server.port): SshProbeConfig {
  return sshProbeSchema.parse({ type: 'ssh', port, credential_id: randomUUID(), ...overrides });
}

function probeContext(overrides: Partial<SshProbeContext> = {}): SshProbeContext {
  const timeoutMs = overrides.timeoutMs ?? 5_000;
  return {
    address: '127.0.0.1',
    timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
    credential: passwordCredential,
    ...overrides,
  };
}

function expectNoSecrets(result: ProbeResult): void {
  const json = JSON.stringify(result);
  for (const secret of SECRETS) expect(json).not.toContain(secret);
}

function expectFailure(result: ProbeResult, errorType: string): void {
  expect(result.success).toBe(false);
  expect(result.errorType).toBe(errorType);
  expectNoSecrets(result);
}

describe('login', () => {
  it('succeeds with the right password and reports the host key and login time', async () => {
    const result = await runSshProbe(sshConfig(), probeContext());
    expect(result).toMatchObject({ success: true, errorType: null, errorMessage: null });
    expect(result.detail.host_key_sha256).toBe(server.hostKeySha256);
    expect(result.detail.connect_auth_ms).toBeTypeOf('number');
    expect(result.responseTimeMs).toBeGreaterThanOrEqual(result.detail.connect_auth_ms as number);
    // Shows the attempt record works, which the host key tests rely on to prove a negative.
    expect(server.authAttempts).toContainEqual({ method: 'password', username: 'alice', password: PASSWORD });
  });

  it.each([
    ['an unencrypted key', { kind: 'ssh-key', username: 'alice', privateKey: plainKey.privateKey }],
    [
      'an encrypted key with its passphrase',
      { kind: 'ssh-key', username: 'alice', privateKey: encryptedKey.privateKey, passphrase: PASSPHRASE },
    ],
  ] as const)('succeeds with %s', async (_name, credential) => {
    const result = await runSshProbe(sshConfig(), probeContext({ credential }));
    expect(result.success).toBe(true);
  });

  it.each([
    ['a wrong password', { kind: 'ssh-password', username: 'alice', password: WRONG_PASSWORD }],
    ['an unknown user', { kind: 'ssh-password', username: 'mallory', password: PASSWORD }],
    ['a key the server does not know', { kind: 'ssh-key', username: 'alice', privateKey: generateTestKeyPair().privateKey }],
  ] as const)('reports auth_failed for %s', async (_name, credential) => {
    const result = await runSshProbe(sshConfig(), probeContext({ credential }));
    expectFailure(result, 'auth_failed');
    expect(result.errorMessage).toContain(credential.username);
    expect(result.detail.host_key_sha256).toBe(server.hostKeySha256);
  });
});

describe('unusable credentials', () => {
  // The port is closed: a probe that connected would say connection_refused, so config_error
  // also proves no connection was attempted.
  it.each([
    ['no credential', undefined, /needs a credential/],
    ['a credential of the wrong kind', { kind: 'snmp-community', community: 'public' }, /kind 'snmp-community'/],
    [
      'an encrypted key without a passphrase',
      { kind: 'ssh-key', username: 'alice', privateKey: encryptedKey.privateKey },
      /passphrase is missing or wrong/,
    ],
    ['text that is not a key', { kind: 'ssh-key', username: 'alice', privateKey: 'hunter2hunter2' }, /could not be parsed/],
    ['a public key', { kind: 'ssh-key', username: 'alice', privateKey: plainKey.publicKey }, /public key/],
  ] as const)('reports config_error without connecting for %s', async (_name, credential, message) => {
    const port = await closedLoopbackPort();
    const result = await runSshProbe(sshConfig({}, port), probeContext({ credential }));
    expectFailure(result, 'config_error');
    expect(result.errorMessage).toMatch(message);
    expect(result.errorMessage).not.toContain('hunter2');
    expect(result.errorMessage).not.toContain('BEGIN');
  });

  // The key is decrypted once, by ssh2 as it connects (bcrypt is too slow to do twice), so this
  // one opens a socket — but must still send no login.
  it('reports config_error for an encrypted key with a wrong passphrase, sending no login', async () => {
    const fresh = await startTestSshServer({ users: { alice: { publicKeys: [encryptedKey.publicKey] } } });
    try {
      const credential = { kind: 'ssh-key', username: 'alice', privateKey: encryptedKey.privateKey, passphrase: 'not it' } as const;
      const result = await runSshProbe(sshConfig({}, fresh.port), probeContext({ credential }));
      expectFailure(result, 'config_error');
      expect(result.errorMessage).toMatch(/passphrase is missing or wrong/);
      expect(result.errorMessage).not.toContain('BEGIN');
      expect(fresh.authAttempts).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});

describe('command', () => {
  it('succeeds when the command exits 0, and reports its timing, status and output', async () => {
    const result = await runSshProbe(sshConfig({ command: 'exit 0' }), probeContext());
    expect(result.success).toBe(true);
    expect(result.detail).toMatchObject({ exit_code: 0, output: 'all good\n' });
    expect(result.detail.command_ms).toBeTypeOf('number');
    expect(result.detail.connect_auth_ms).toBeTypeOf('number');
    expect(server.commands).toContain('exit 0');
  });

  it.each([
    ['exits non-zero', { command: 'exit 3' }, /exited with status 3/, { exit_code: 3 }],
    ['is killed by a signal', { command: 'kill' }, /killed by SIGKILL/, { exit_code: null, exit_signal: 'SIGKILL' }],
    ['output does not match', { command: 'status', expect_output_regex: '^load: (high|critical)' }, /did not match/, {}],
  ])('reports command_failed when the command %s', async (_name, config, message, detail) => {
    const result = await runSshProbe(sshConfig(config), probeContext());
    expectFailure(result, 'command_failed');
    expect(result.errorMessage).toMatch(message);
    expect(result.detail).toMatchObject(detail);
    expect(result.detail.command_ms).toBeTypeOf('number');
  });

  it('succeeds when a line of the output matches expect_output_regex', async () => {
    const result = await runSshProbe(sshConfig({ command: 'status', expect_output_regex: '^queue: \\d+$' }), probeContext());
    expect(result.success).toBe(true);
  });

  it('judges a catastrophic expect_output_regex against 32 KiB of output without stalling', async () => {
    const slow = runSshProbe(sshConfig({ command: 'aaab', expect_output_regex: '(a+)+$' }), probeContext());
    const other = runSshProbe(sshConfig({ command: 'status', expect_output_regex: '^load: ok$' }), probeContext());
    const [catastrophic, ordinary] = await Promise.all([slow, other]);
    expect(catastrophic).toMatchObject({ success: false, errorType: 'command_failed' });
    expect(catastrophic.errorMessage).toMatch(/did not match/);
    expect(ordinary).toMatchObject({ success: true, errorType: null });
  });

  it('keeps big output out of the message and only its first 1 KiB in detail', async () => {
    const result = await runSshProbe(sshConfig({ command: 'big' }), probeContext());
    expectFailure(result, 'command_failed');
    expect(result.errorMessage!.length).toBeLessThan(200);
    expect(result.detail.output).toBe('x'.repeat(1024));
  });

  it('times out when the command never finishes, at the hard timeout', async () => {
    const result = await runSshProbe(sshConfig({ command: 'hang' }), probeContext({ timeoutMs: 300 }));
    expectFailure(result, 'timeout');
    expect(result.responseTimeMs).toBeLessThan(2_000);
  });
});

describe('host key', () => {
  it('trusts a pinned fingerprint that matches', async () => {
    const result = await runSshProbe(sshConfig({ host_key_sha256: server.hostKeySha256 }), probeContext());
    expect(result.success).toBe(true);
  });

  it('treats the fingerprint recorded on first use like a pin', async () => {
    const result = await runSshProbe(sshConfig(), probeContext({ knownHostKeySha256: server.hostKeySha256 }));
    expect(result.success).toBe(true);
  });

  it.each([
    ['a pinned fingerprint', (fp: string) => ({ config: { host_key_sha256: fp }, ctx: {} })],
    ['the fingerprint recorded on first use', (fp: string) => ({ config: {}, ctx: { knownHostKeySha256: fp } })],
    [
      'a pin that overrides a matching first-use record',
      (fp: string, real: string) => ({ config: { host_key_sha256: fp }, ctx: { knownHostKeySha256: real } }),
    ],
  ])('reports host_key_mismatch against %s before sending the credential', async (_name, setup) => {
    const fresh = await startTestSshServer({ users: { alice: { password: PASSWORD } } });
    try {
      const otherFingerprint = 'SHA256:' + 'A'.repeat(43);
      const { config, ctx } = setup(otherFingerprint, fresh.hostKeySha256);
      const result = await runSshProbe(sshConfig(config, fresh.port), probeContext(ctx));
      expectFailure(result, 'host_key_mismatch');
      expect(result.errorMessage).toContain(otherFingerprint);
      expect(result.errorMessage).toContain(fresh.hostKeySha256);
      expect(result.detail.host_key_sha256).toBe(fresh.hostKeySha256);
      expect(fresh.authAttempts).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});

interface RawServer {
  port: number;
  /** Server-side sockets still open. */
  openSockets(): number;
  close(): Promise<void>;
}

/**
 * A TCP server that is not an SSH server; `onSocket` decides how it misbehaves. With
 * `allowHalfOpen` it ignores the client's FIN too, like a peer that has stopped responding.
 */
async function startRawServer(onSocket: (socket: Socket) => void, allowHalfOpen = false): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const raw: NetServer = createServer({ allowHalfOpen }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
  return {
    port: (raw.address() as AddressInfo).port,
    openSockets: () => sockets.size,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => raw.close(() => resolve()));
    },
  };
}

describe('network and protocol failures', () => {
  it('reports connection_refused for a closed port', async () => {
    const result = await runSshProbe(sshConfig({}, await closedLoopbackPort()), probeContext());
    expectFailure(result, 'connection_refused');
  });

  it('reports dns_failure for a name that does not resolve', async () => {
    const result = await runSshProbe(sshConfig(), probeContext({ address: 'no-such-host.invalid' }));
    expectFailure(result, 'dns_failure');
  });

  it.each([
    ['an HTTP server', (s: Socket) => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')],
    ['binary garbage', (s: Socket) => s.write(Buffer.from([0x16, 0x03, 0x01, 0x0d, 0xff, 0x00, 0x42]))],
    ['a malformed SSH identification', (s: Socket) => s.write('SSH-9.9\r\n')],
    ['a server that closes mid-handshake', (s: Socket) => s.end('SSH-2.0-OpenSSH_9.2\r\n')],
  ])('reports protocol_error for %s', async (_name, misbehave) => {
    const raw = await startRawServer(misbehave);
    try {
      const result = await runSshProbe(sshConfig({}, raw.port), probeContext({ timeoutMs: 2_000 }));
      expectFailure(result, 'protocol_error');
    } finally {
      await raw.close();
    }
  });

  it('reports timeout for a peer that accepts and never answers', async () => {
    const raw = await startRawServer(() => {});
    try {
      const result = await runSshProbe(sshConfig({}, raw.port), probeContext({ timeoutMs: 300 }));
      expectFailure(result, 'timeout');
      expect(result.responseTimeMs).toBeGreaterThanOrEqual(250);
      expect(result.responseTimeMs).toBeLessThan(2_000);
    } finally {
      await raw.close();
    }
  });

  it('reports timeout at once when the signal has already fired', async () => {
    const result = await runSshProbe(sshConfig(), probeContext({ signal: AbortSignal.abort() }));
    expectFailure(result, 'timeout');
  });
});

describe('sshProbeSchema', () => {
  const valid = { type: 'ssh', credential_id: randomUUID() };

  it('defaults the port to 22', () => {
    expect(sshProbeSchema.parse(valid).port).toBe(22);
  });

  it.each([
    ['a fingerprint without the SHA256: prefix', { host_key_sha256: 'A'.repeat(43) }, /SHA256:/],
    ['a padded fingerprint', { host_key_sha256: 'SHA256:' + 'A'.repeat(42) + '=' }, /SHA256:/],
    ['a hex fingerprint', { host_key_sha256: 'SHA256:' + 'ab'.repeat(32) }, /SHA256:/],
    ['a regex that does not compile', { command: 'uptime', expect_output_regex: '(unclosed' }, /not a valid RE2 regular expression/],
    ['a regex with a lookahead', { command: 'uptime', expect_output_regex: 'ok(?=!)' }, /lookaround .* not supported/],
    ['a regex longer than 1024 characters', { command: 'uptime', expect_output_regex: 'a'.repeat(1025) }, /1024/],
    ['a regex without a command', { expect_output_regex: 'ok' }, /needs a command/],
    ['a missing credential_id', { credential_id: undefined }, /credential_id/],
    ['a credential_id that is not a uuid', { credential_id: 'prod-root' }, /credential_id|UUID/i],
    ['an unknown field', { hostname: 'db1' }, /hostname/],
    ['port 0', { port: 0 }, /port|>=1/],
    ['a command over 4096 characters', { command: 'x'.repeat(4097) }, /command|4096/],
  ])('rejects %s', (_name, overrides, message) => {
    const parsed = sshProbeSchema.safeParse({ ...valid, ...overrides });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error!.issues)).toMatch(message);
  });

  it('documents every field', () => {
    for (const field of Object.values(sshProbeSchema.shape)) expect(field.description).toBeTruthy();
  });
});

describe('resource use', () => {
  const tcpSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

  // The unresponsive peer matters most: client.end() alone would leave our socket half-closed,
  // waiting forever for a FIN it never sends. Its server-side sockets stay open on purpose and are
  // subtracted, so only the probe's own sockets are counted.
  it('leaves no sockets behind after 100 checks', async () => {
    const refusedPort = await closedLoopbackPort();
    const unresponsive = await startRawServer(() => {}, true);
    const baseline = tcpSockets();
    const probeSockets = () => tcpSockets() - unresponsive.openSockets();
    const scenarios = [
      () => runSshProbe(sshConfig({ command: 'exit 0' }), probeContext()),
      () => runSshProbe(sshConfig(), probeContext({ credential: { ...passwordCredential, password: WRONG_PASSWORD } })),
      () => runSshProbe(sshConfig({}, refusedPort), probeContext()),
      () => runSshProbe(sshConfig(), probeContext({ credential: keyCredential })),
      () => runSshProbe(sshConfig({}, unresponsive.port), probeContext({ timeoutMs: 100 })),
      // The hard-timeout signal firing before ssh2's own readyTimeout: only the probe can destroy.
      () => runSshProbe(sshConfig({}, unresponsive.port), probeContext({ timeoutMs: 5_000, signal: AbortSignal.timeout(100) })),
    ];
    try {
      for (let batch = 0; batch < 10; batch++) {
        const checks = Array.from({ length: 10 }, (_, i) => scenarios[(batch * 10 + i) % scenarios.length]!());
        for (const result of await Promise.all(checks)) expectNoSecrets(result);
      }
      await vi.waitFor(() => expect(probeSockets()).toBeLessThanOrEqual(baseline), { timeout: 2_000, interval: 20 });
    } finally {
      await unresponsive.close();
    }
  });
});
