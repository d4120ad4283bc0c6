import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYS_NAME_OID, startSnmpAgent, type TestSnmpAgent } from '../helpers/snmp-agent.ts';
import { generateTestKeyPair, startTestSshServer, type TestSshServer } from '../helpers/ssh-server.ts';
import { startTcpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { useTestVigil } from '../helpers/vigil.ts';

// Known secrets: at the end, none of them may appear in any response or log line of this file.
const SSH_PASSWORD = 'ssh-pw-Hq73-secret';
const SSH_WRONG_PASSWORD = 'ssh-wrong-Jv19-secret';
const KEY_PASSPHRASE = 'key-phrase-Mw42-secret';
const COMMUNITY = 'community-Bx55-secret';
const AUTH_KEY = 'authkey-Nc28-secret';
const PRIV_KEY = 'privkey-Ke61-secret';
const clientKey = generateTestKeyPair(KEY_PASSPHRASE);
const SECRETS = [SSH_PASSWORD, SSH_WRONG_PASSWORD, KEY_PASSPHRASE, COMMUNITY, AUTH_KEY, PRIV_KEY, clientKey.privateKey.split('\n')[2]!];

let ssh: TestSshServer;
let snmp: TestSnmpAgent;
let tcp: LoopbackTarget;
const creds: Record<string, string> = {};

async function addHost(name: string, probes: unknown[]): Promise<string> {
  const res = await call('post', '/api/hosts', { name, address: '127.0.0.1', probes });
  expect(res.status).toBe(201);
  return res.body.id;
}

const checkNow = (id: string) => call('post', `/api/monitoring/hosts/${id}/check-connectivity?wait=true&timeout=20`);

beforeAll(async () => {
  ssh = await startTestSshServer({
    users: { ops: { password: SSH_PASSWORD, publicKeys: [clientKey.publicKey] } },
    onCommand: (cmd) => (cmd === 'uptime' ? { exitCode: 0, stdout: 'up 3 days\n' } : { exitCode: 1 }),
  });
  snmp = await startSnmpAgent({
    communities: [COMMUNITY],
    users: [{ username: 'mon', level: 'authPriv', authProtocol: 'sha', authKey: AUTH_KEY, privProtocol: 'aes', privKey: PRIV_KEY }],
    sysName: 'olt-7',
  });
  tcp = await startTcpTarget();
});
afterAll(async () => {
  await Promise.all([ssh?.close(), snmp?.close(), tcp?.close()]);
});
// API and workers, no scheduler: every check here is a JIT check this file asked for.
const ctx = useTestVigil({ roles: ['api', 'worker'], env: { VIGIL_SECRET_KEY: randomBytes(32).toString('base64'), VIGIL_CHECK_TIMEOUT_MS: '5000' } });
const { call } = ctx;
beforeAll(async () => {
  const make = async (name: string, body: Record<string, unknown>) => (creds[name] = (await call('post', '/api/credentials', { name, ...body })).body.id);
  await make('ssh-ok', { kind: 'ssh-password', username: 'ops', password: SSH_PASSWORD });
  await make('ssh-bad', { kind: 'ssh-password', username: 'ops', password: SSH_WRONG_PASSWORD });
  await make('ssh-key', { kind: 'ssh-key', username: 'ops', private_key: clientKey.privateKey, passphrase: KEY_PASSPHRASE });
  await make('snmp-v2c', { kind: 'snmp-community', community: COMMUNITY });
  await make('snmp-v3', { kind: 'snmp-v3', username: 'mon', level: 'authPriv', auth_protocol: 'sha', auth_key: AUTH_KEY, priv_protocol: 'aes', priv_key: PRIV_KEY });
});

describe('SSH checks through the worker with shared credentials', () => {
  it('logs in with a password, runs the command, and trusts the host key on first use', async () => {
    const id = await addHost('linux-1', [{ type: 'ssh', port: ssh.port, credential_id: creds['ssh-ok'], command: 'uptime', expect_output_regex: '^up ' }]);
    const res = await checkNow(id);
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ success: true, detail: { host_key_sha256: ssh.hostKeySha256 } });
    expect(res.body.result.detail.command_ms).toBeGreaterThanOrEqual(0);
    expect((await call('get', `/api/hosts/${id}`)).body.ssh_host_key_sha256).toBe(ssh.hostKeySha256);
  });

  it('logs in with an encrypted private key', async () => {
    const id = await addHost('linux-key', [{ type: 'ssh', port: ssh.port, credential_id: creds['ssh-key'] }]);
    expect((await checkNow(id)).body.result).toMatchObject({ success: true, error_type: null });
  });

  it('fails with auth_failed on a wrong password', async () => {
    const id = await addHost('linux-bad', [{ type: 'ssh', port: ssh.port, credential_id: creds['ssh-bad'] }]);
    expect((await checkNow(id)).body.result).toMatchObject({ success: false, error_type: 'auth_failed' });
  });

  it('fails a changed host key with host_key_mismatch before sending the password, until an admin accepts it', async () => {
    const id = await addHost('linux-moved', [{ type: 'ssh', port: ssh.port, credential_id: creds['ssh-ok'] }]);
    // As if the host had been seen before with another key.
    const otherKey = 'SHA256:' + 'A'.repeat(43);
    expect((await call('post', `/api/hosts/${id}/ssh-host-key/accept`, { host_key_sha256: otherKey })).body.ssh_host_key_sha256).toBe(otherKey);
    const attemptsBefore = ssh.authAttempts.length;
    const res = await checkNow(id);
    expect(res.body.result).toMatchObject({ success: false, error_type: 'host_key_mismatch' });
    expect(ssh.authAttempts.length).toBe(attemptsBefore);
    // Accept with no body: trust the key the latest check saw.
    const accepted = await call('post', `/api/hosts/${id}/ssh-host-key/accept`, {});
    expect(accepted.body.ssh_host_key_sha256).toBe(ssh.hostKeySha256);
    expect((await checkNow(id)).body.result.success).toBe(true);
    // Clearing forgets it; the next successful login records it again.
    expect((await call('delete', `/api/hosts/${id}/ssh-host-key`)).body.ssh_host_key_sha256).toBeNull();
    await checkNow(id);
    expect((await call('get', `/api/hosts/${id}`)).body.ssh_host_key_sha256).toBe(ssh.hostKeySha256);
  });
});

describe('SNMP checks through the worker', () => {
  it('reads sysName over v2c and shows the values in the state endpoint', async () => {
    const id = await addHost('switch-1', [{ type: 'snmp', port: snmp.port, credential_id: creds['snmp-v2c'] }]);
    const res = await checkNow(id);
    expect(res.body.result).toMatchObject({ success: true });
    const state = await call('get', `/api/monitoring/hosts/${id}/state`);
    expect(state.body.last_result.detail.values[SYS_NAME_OID]).toMatchObject({ value: 'olt-7' });
  });

  it('reads over v3 authPriv (SHA/AES)', async () => {
    const id = await addHost('switch-v3', [{ type: 'snmp', version: '3', port: snmp.port, credential_id: creds['snmp-v3'] }]);
    const res = await checkNow(id);
    expect(res.body.result).toMatchObject({ success: true, detail: { values: { [SYS_NAME_OID]: { value: 'olt-7' } } } });
  });
});

describe('composite checks', () => {
  it('run TCP -> SSH -> SNMP as one check and report the failing middle step', async () => {
    const id = await addHost('olt-chain', [
      { type: 'tcp', port: tcp.port },
      { type: 'ssh', port: ssh.port, credential_id: creds['ssh-bad'] },
      { type: 'snmp', port: snmp.port, credential_id: creds['snmp-v2c'] },
    ]);
    const { body } = await checkNow(id);
    expect(body.result).toMatchObject({ success: false, error_type: 'auth_failed', detail: { failed_step: 2 } });
    expect(body.result.error_message).toMatch(/^step 2 \(ssh\)/);
    expect(body.result.detail.steps.map((s: { type: string; success: boolean }) => [s.type, s.success])).toEqual([['tcp', true], ['ssh', false]]);
    const total = body.result.response_time_ms;
    const parts = body.result.detail.steps.reduce((sum: number, s: { response_time_ms: number }) => sum + s.response_time_ms, 0);
    expect(total).toBeGreaterThanOrEqual(parts - 1);
  });

  it('pass when every step passes', async () => {
    const id = await addHost('olt-ok', [
      { type: 'tcp', port: tcp.port },
      { type: 'ssh', port: ssh.port, credential_id: creds['ssh-ok'] },
      { type: 'snmp', port: snmp.port, credential_id: creds['snmp-v2c'] },
    ]);
    const { body } = await checkNow(id);
    expect(body.result.success).toBe(true);
    expect(body.result.detail.steps).toHaveLength(3);
  });
});

describe('secrets', () => {
  it('appear in no API response and no log line of this whole run', async () => {
    const logs = ctx.vigil.transport.entries.map((e) => JSON.stringify(e));
    expect(logs.length).toBeGreaterThan(5);
    const history = (await ctx.vigil.pool.query('SELECT row_to_json(h)::text AS t FROM host_monitoring_history h')).rows.map((r) => r.t);
    for (const text of [...ctx.vigil.answers,
 ...logs, ...history]) {
      for (const secret of SECRETS) expect(text).not.toContain(secret);
    }
  });
});
