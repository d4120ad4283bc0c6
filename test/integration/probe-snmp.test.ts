/**
 * The SNMP probe against net-snmp's own Agent, in-process on loopback (see test/helpers/snmp-agent.ts),
 * plus raw UDP peers for the misbehaving-agent cases. No mocks: every check crosses a real socket.
 */
import { getCiphers } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSnmpProbe, snmpProbeSchema } from '../../src/probes/snmp.ts';
import type { SnmpProbeConfig } from '../../src/probes/snmp.ts';
import type { ProbeResult, ResolvedCredential } from '../../src/probes/types.ts';
import { SYS_NAME_OID, SYS_UPTIME_OID, freeUdpPort, startSnmpAgent } from '../helpers/snmp-agent.ts';
import type { SnmpTestUser, TestSnmpAgent } from '../helpers/snmp-agent.ts';

const CREDENTIAL_ID = '3f1c8f6e-2b7a-4c1e-9a4e-0c2d5b6a7e81';
const COMMUNITY = 'vigil-community-secret';
const AUTH_KEY = 'auth-key-secret-1';
const PRIV_KEY = 'priv-key-secret-2';
const WRONG_COMMUNITY = 'wrong-community-secret';
const WRONG_KEY = 'wrong-key-secret-3';
const SECRETS = [COMMUNITY, AUTH_KEY, PRIV_KEY, WRONG_COMMUNITY, WRONG_KEY];

const COUNTER64_OID = '1.3.6.1.4.1.99999.1.0';
const BINARY_OID = '1.3.6.1.4.1.99999.2.0';
const MISSING_OID = '1.3.6.1.2.1.1.99.0';

const community: ResolvedCredential = { kind: 'snmp-community', community: COMMUNITY };

const V3_USERS: SnmpTestUser[] = [
  { username: 'plain', level: 'noAuthNoPriv' },
  ...(['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512'] as const).map(
    (authProtocol): SnmpTestUser => ({ username: `auth-${authProtocol}`, level: 'authNoPriv', authProtocol, authKey: AUTH_KEY }),
  ),
  ...(
    [
      ['sha', 'des'],
      ['sha256', 'aes'],
      ['sha512', 'aes256b'],
      ['sha384', 'aes256r'],
    ] as const
  ).map(
    ([authProtocol, privProtocol]): SnmpTestUser => ({
      username: `priv-${authProtocol}-${privProtocol}`,
      level: 'authPriv',
      authProtocol,
      authKey: AUTH_KEY,
      privProtocol,
      privKey: PRIV_KEY,
    }),
  ),
];

function v3(username: string, overrides: Partial<SnmpTestUser> = {}): ResolvedCredential {
  const user = V3_USERS.find((u) => u.username === username);
  if (!user) throw new Error(`no test user ${username}`);
  return { kind: 'snmp-v3', ...user, ...overrides };
}

let agent: TestSnmpAgent;

function config(overrides: Partial<Record<keyof SnmpProbeConfig, unknown>> = {}): SnmpProbeConfig {
  return snmpProbeSchema.parse({ type: 'snmp', credential_id: CREDENTIAL_ID, port: agent.port, ...overrides });
}

function check(
  cfg: SnmpProbeConfig,
  credential: ResolvedCredential | undefined,
  { timeoutMs = 1000, address = '127.0.0.1', signal = AbortSignal.timeout(timeoutMs) } = {},
): Promise<ProbeResult> {
  return runSnmpProbe(cfg, { address, timeoutMs, signal, ...(credential ? { credential } : {}) });
}

function expectNoSecrets(result: ProbeResult): void {
  const json = JSON.stringify(result);
  for (const secret of SECRETS) expect(json).not.toContain(secret);
}

function expectFailure(result: ProbeResult, errorType: ProbeResult['errorType']): void {
  expect(result, result.errorMessage ?? '').toMatchObject({ success: false, errorType });
  expectNoSecrets(result);
}

/** A raw UDP peer on a free loopback port that answers every datagram with `reply(datagram)`. */
async function udpPeer(reply: (datagram: Buffer) => Buffer | null): Promise<{ port: number; received: Buffer[]; close(): Promise<void> }> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (datagram, rinfo) => {
    received.push(datagram);
    const answer = reply(datagram);
    if (answer) socket.send(answer, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, received, close: () => closeSocket(socket) };
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

beforeAll(async () => {
  agent = await startSnmpAgent({
    communities: [COMMUNITY],
    users: V3_USERS,
    sysName: 'vigil-agent',
    extras: [
      { oid: '1.3.6.1.4.1.99999.1', type: 'Counter64', value: 18_446_744_073_709_551_615n },
      { oid: '1.3.6.1.4.1.99999.2', type: 'OctetString', value: Buffer.from([0x00, 0x01, 0xfe, 0xff]) },
    ],
  });
});

afterAll(async () => {
  await agent?.close();
});

describe('snmpProbeSchema', () => {
  it('fills the defaults', () => {
    expect(snmpProbeSchema.parse({ type: 'snmp', credential_id: CREDENTIAL_ID })).toEqual({
      type: 'snmp',
      version: '2c',
      port: 161,
      credential_id: CREDENTIAL_ID,
      oids: [SYS_UPTIME_OID, SYS_NAME_OID],
      retries: 0,
    });
  });

  it.each([
    ['a non-numeric OID', { oids: ['1.3.6.x'] }],
    ['a leading dot', { oids: ['.1.3.6.1'] }],
    ['a single arc', { oids: ['1'] }],
    ['a first arc above 2', { oids: ['3.1.2'] }],
    ['a leading zero', { oids: ['1.3.06.1'] }],
    ['an arc above 2^32-1', { oids: ['1.3.6.4294967296'] }],
    ['a trailing dot', { oids: ['1.3.6.'] }],
    ['no OIDs', { oids: [] }],
    ['33 OIDs', { oids: Array.from({ length: 33 }, (_, i) => `1.3.6.${i}`) }],
    ['duplicate OIDs', { oids: [SYS_NAME_OID, SYS_NAME_OID] }],
    ["version '4'", { version: '4' }],
    ['numeric version', { version: 2 }],
    ['port 0', { port: 0 }],
    ['port 65536', { port: 65536 }],
    ['retries 6', { retries: 6 }],
    ['fractional retries', { retries: 1.5 }],
    ['an unknown field', { community: 'public' }],
    ['a credential_id that is not a uuid', { credential_id: 'cred-1' }],
    ['no credential_id', { credential_id: undefined }],
  ])('rejects %s', (_name, overrides) => {
    const parsed = snmpProbeSchema.safeParse({ type: 'snmp', credential_id: CREDENTIAL_ID, ...overrides });
    expect(parsed.success).toBe(false);
  });

  it('documents every field', () => {
    for (const [field, schema] of Object.entries(snmpProbeSchema.shape)) {
      expect(schema.description, field).toBeTruthy();
    }
  });
});

describe('runSnmpProbe against net-snmp Agent', () => {
  it.each(['1', '2c'] as const)('reads sysUpTime.0 and sysName.0 with v%s and a community', async (version) => {
    const result = await check(config({ version }), community);
    expect(result, result.errorMessage ?? '').toMatchObject({ success: true, errorType: null, errorMessage: null });
    expect(result.detail).toEqual({
      version,
      values: {
        [SYS_UPTIME_OID]: { type: 'TimeTicks', value: expect.any(Number) },
        [SYS_NAME_OID]: { type: 'OctetString', value: 'vigil-agent' },
      },
    });
    expect(result.responseTimeMs).toBeGreaterThan(0);
  });

  it('renders Counter64 as a decimal string and non-printable octets as hex', async () => {
    const result = await check(config({ oids: [COUNTER64_OID, BINARY_OID] }), community);
    expect(result.detail.values).toEqual({
      [COUNTER64_OID]: { type: 'Counter64', value: '18446744073709551615' },
      [BINARY_OID]: { type: 'OctetString', value: '0001feff' },
    });
  });

  it('times out, blaming the community or the host, when the community is wrong', async () => {
    const errorsBefore = agent.errors.length;
    const result = await check(config(), { kind: 'snmp-community', community: WRONG_COMMUNITY }, { timeoutMs: 300 });
    expectFailure(result, 'timeout');
    expect(result.errorMessage).toBe('no answer within 300 ms (wrong community or host down)');
    expect(result.responseTimeMs).toBeGreaterThanOrEqual(290);
    // The agent did get it, and dropped it without a word.
    expect(agent.errors.slice(errorsBefore)).toEqual([expect.stringContaining('Local community not found')]);
  });

  it('shares the timeout between retries, sending one request per attempt', async () => {
    const errorsBefore = agent.errors.length;
    const result = await check(config({ retries: 2 }), { kind: 'snmp-community', community: WRONG_COMMUNITY }, { timeoutMs: 600 });
    expectFailure(result, 'timeout');
    expect(result.responseTimeMs).toBeLessThan(900);
    expect(agent.errors.length - errorsBefore).toBe(3);
  });

  it.each(['1', '2c'] as const)('fails with snmp_no_such_object naming the missing OID (v%s)', async (version) => {
    const result = await check(config({ version, oids: [SYS_NAME_OID, MISSING_OID] }), community);
    expectFailure(result, 'snmp_no_such_object');
    expect(result.errorMessage).toContain(MISSING_OID);
    expect(result.errorMessage).not.toContain(SYS_NAME_OID);
    // The OIDs that were found are still reported.
    expect(result.detail.values).toEqual({ [SYS_NAME_OID]: { type: 'OctetString', value: 'vigil-agent' } });
  });

  it('fails with snmp_error_status when the agent answers with an error-status', async () => {
    const failing = await startSnmpAgent({
      communities: [COMMUNITY],
      extras: [{ oid: '1.3.6.1.4.1.99999.9', type: 'Integer', value: 1, errorStatus: 'GeneralError' }],
    });
    try {
      const result = await check(config({ port: failing.port, oids: [SYS_NAME_OID, '1.3.6.1.4.1.99999.9.0'] }), community);
      expectFailure(result, 'snmp_error_status');
      expect(result.errorMessage).toContain('GeneralError');
      expect(result.errorMessage).toContain('1.3.6.1.4.1.99999.9.0');
      expect(result.detail).toMatchObject({ errorStatus: 'GeneralError' });
    } finally {
      await failing.close();
    }
  });

  const desAvailable = getCiphers().includes('des-cbc');
  const v3Readable = V3_USERS.filter((user) => desAvailable || user.privProtocol !== 'des');

  it.each(v3Readable.map((user) => [user.level, user.authProtocol ?? '-', user.privProtocol ?? '-', user.username]))(
    'reads sysName.0 with v3 %s (auth %s, priv %s)',
    async (_level, _auth, _priv, username) => {
      const result = await check(config({ version: '3' }), v3(username));
      expect(result, result.errorMessage ?? '').toMatchObject({ success: true, errorType: null });
      expect(result.detail).toMatchObject({ version: '3', values: { [SYS_NAME_OID]: { value: 'vigil-agent' } } });
    },
  );

  // Node 22 runs OpenSSL 3, which has DES only in its legacy provider (not loaded by default):
  // net-snmp would throw ERR_OSSL_EVP_UNSUPPORTED while encrypting.
  it.skipIf(desAvailable)('fails with config_error, sending nothing, for DES privacy without OpenSSL legacy', async () => {
    const result = await check(config({ version: '3' }), v3('priv-sha-des'));
    expectFailure(result, 'config_error');
    expect(result.errorMessage).toContain('--openssl-legacy-provider');
  });

  // net-snmp's Agent answers discovery, then drops a request whose digest does not verify (its
  // callback gets "Authentication digest ... does not match", no Report PDU is sent), so the
  // session only sees a timeout; the probe reads the answered discovery as "the agent is up, it
  // is the keys" (see v3Silence in src/probes/snmp.ts).
  it('reports a wrong v3 auth key as snmp_auth_failed, inferred from the silence after discovery', async () => {
    const errorsBefore = agent.errors.length;
    const result = await check(config({ version: '3' }), v3('auth-sha', { authKey: WRONG_KEY }), { timeoutMs: 300 });
    expectFailure(result, 'snmp_auth_failed');
    expect(result.errorMessage).toContain('answered SNMPv3 discovery but not the authenticated request');
    expect(result.detail).toMatchObject({ engineDiscovered: true });
    expect(agent.errors.slice(errorsBefore)).toEqual([expect.stringContaining('Authentication digest')]);
  });

  it('reports a wrong v3 privacy key as snmp_auth_failed (the agent cannot decrypt and drops it)', async () => {
    const errorsBefore = agent.errors.length;
    const credential = v3('priv-sha256-aes', { privKey: WRONG_KEY });
    const result = await check(config({ version: '3' }), credential, { timeoutMs: 300 });
    expectFailure(result, 'snmp_auth_failed');
    expect(result.detail).toMatchObject({ engineDiscovered: true });
    expect(agent.errors.slice(errorsBefore)).toEqual([expect.stringContaining('Failed to decrypt PDU')]);
  });

  it('reports an unknown v3 user as snmp_auth_failed from the usmStatsUnknownUserNames report', async () => {
    const result = await check(config({ version: '3' }), v3('auth-sha', { username: 'ghost' }));
    expectFailure(result, 'snmp_auth_failed');
    expect(result.errorMessage).toBe('SNMPv3 authentication failed: Unknown User Name');
    expect(result.responseTimeMs).toBeLessThan(500);
  });

  it('reports a security level below the user\'s as snmp_auth_failed from a wrong-digest report', async () => {
    const credential = v3('priv-sha256-aes', { level: 'authNoPriv' });
    const result = await check(config({ version: '3' }), credential);
    expectFailure(result, 'snmp_auth_failed');
    expect(result.errorMessage).toContain('Wrong Digest');
  });

  // The session's UDP socket is never connect()ed, so Linux does not hand it the ICMP
  // port-unreachable that loopback sends back: a closed port is as silent as a down host.
  it.each(['2c', '3'] as const)('times out on a closed loopback port (v%s)', async (version) => {
    const port = await freeUdpPort();
    const credential = version === '3' ? v3('auth-sha') : community;
    const result = await check(config({ version, port }), credential, { timeoutMs: 300 });
    expectFailure(result, 'timeout');
    expect(result.errorMessage).toMatch(/^no answer within 300 ms/);
    expect(result.detail).not.toHaveProperty('engineDiscovered');
  });

  it('fails with dns_failure when the host name does not resolve', async () => {
    // A generous budget: without a reachable resolver getaddrinfo takes seconds to give up (EAI_AGAIN).
    const result = await check(config(), community, { address: 'no-such-host.invalid', timeoutMs: 20_000 });
    expectFailure(result, 'dns_failure');
    expect(result.errorMessage).toContain('no-such-host.invalid');
  });

  it('fails with protocol_error when the peer answers with something that is not SNMP', async () => {
    const peer = await udpPeer(() => Buffer.from('garbage, not BER'));
    try {
      const result = await check(config({ port: peer.port }), community);
      expectFailure(result, 'protocol_error');
      expect(result.errorMessage).toMatch(/^unparseable SNMP message/);
    } finally {
      await peer.close();
    }
  });

  it('fails with protocol_error when the peer echoes the request back', async () => {
    const peer = await udpPeer((datagram) => datagram);
    try {
      const result = await check(config({ port: peer.port }), community);
      expectFailure(result, 'protocol_error');
      expect(result.errorMessage).toBe('invalid SNMP response (EUnknownPduType)');
    } finally {
      await peer.close();
    }
  });

  it.each([
    ['no credential', '2c', undefined],
    ['a v3 credential for v2c', '2c', { kind: 'snmp-v3', username: 'plain', level: 'noAuthNoPriv' }],
    ['a community for v3', '3', community],
    ['an SSH credential', '1', { kind: 'ssh-password', username: 'root', password: COMMUNITY }],
    ['authNoPriv without a key', '3', { kind: 'snmp-v3', username: 'auth-sha', level: 'authNoPriv', authProtocol: 'sha' }],
    [
      'authPriv without a privacy key',
      '3',
      { kind: 'snmp-v3', username: 'priv-sha-des', level: 'authPriv', authProtocol: 'sha', authKey: AUTH_KEY, privProtocol: 'des' },
    ],
  ] as const)('fails with config_error and sends nothing given %s', async (_name, version, credential) => {
    const peer = await udpPeer(() => null);
    try {
      const result = await check(config({ version, port: peer.port }), credential as ResolvedCredential | undefined);
      expectFailure(result, 'config_error');
      // Loopback delivers a datagram during sendto(), so one sent by the probe would be in first.
      const sentinel = createSocket('udp4');
      await new Promise<void>((resolve) => sentinel.send('sentinel', peer.port, '127.0.0.1', () => resolve()));
      await closeSocket(sentinel);
      await expect.poll(() => peer.received.length).toBe(1);
      expect(peer.received[0]?.toString()).toBe('sentinel');
    } finally {
      await peer.close();
    }
  });

  it('answers timeout at once, closing the session, when the hard-timeout signal fires', async () => {
    const controller = new AbortController();
    const running = check(config(), { kind: 'snmp-community', community: WRONG_COMMUNITY }, { timeoutMs: 5000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const result = await running;
    expectFailure(result, 'timeout');
    expect(result.responseTimeMs).toBeLessThan(1000);
  });

  it('answers timeout without sending when the signal has already fired', async () => {
    const result = await check(config(), community, { signal: AbortSignal.abort() });
    expectFailure(result, 'timeout');
  });
});

/** Open UDP sockets of this process, from /proc (counts unref()ed sockets too, unlike Node's lists). */
function openUdpSockets(): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // fd closed while we looked
    }
  }
  let count = 0;
  for (const table of ['/proc/self/net/udp', '/proc/self/net/udp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode && inodes.has(inode)) count++;
    }
  }
  return count;
}

function udpHandles(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'UDPWrap' || name === 'UDPWRAP').length;
}

/** Let sockets closed by earlier tests finish closing: libuv runs close callbacks after the check phase. */
async function closeCallbacksRun(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
}

describe('resource hygiene', () => {
  it('closes every UDP socket: 200 checks of every outcome leave the socket count at its baseline', async () => {
    const garbage = await udpPeer(() => Buffer.from('garbage'));
    await closeCallbacksRun();
    const baselineHandles = udpHandles();
    const baselineSockets = openUdpSockets();
    const kinds = [
      () => check(config(), community),
      () => check(config({ version: '3' }), v3('priv-sha256-aes')),
      () => check(config({ oids: [MISSING_OID] }), community),
      () => check(config(), { kind: 'snmp-community', community: WRONG_COMMUNITY }, { timeoutMs: 100 }),
      () => check(config({ version: '3' }), v3('auth-sha', { authKey: WRONG_KEY }), { timeoutMs: 100 }),
      () => check(config({ port: garbage.port }), community),
      () => check(config(), { kind: 'snmp-community', community: WRONG_COMMUNITY }, { timeoutMs: 5000, signal: AbortSignal.timeout(20) }),
      () => check(config({ version: '3' }), v3('auth-sha', { username: 'ghost' })),
    ];
    const results: ProbeResult[] = [];
    for (let batch = 0; batch < 10; batch++) {
      results.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => kinds[(batch * 20 + i) % kinds.length]!()))));
    }
    await garbage.close();

    expect(results).toHaveLength(200);
    expect(results.filter((r) => r.success)).toHaveLength(50);
    for (const result of results) expectNoSecrets(result);
    await expect.poll(udpHandles, { timeout: 2000, interval: 20 }).toBe(baselineHandles - 1);
    await expect.poll(openUdpSockets, { timeout: 2000, interval: 20 }).toBe(baselineSockets - 1);
  });
});
