/**
 * The SNMP probe against a real Net-SNMP snmpd (Debian package `snmpd`), started per file on a free
 * loopback port with its own config and state dir (see test/helpers/snmpd.ts). net-snmp's own Agent
 * (probe-snmp.test.ts) is lenient in places; snmpd is what the probe meets in the field.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSnmpProbe, snmpProbeSchema } from '../../src/probes/snmp.ts';
import type { SnmpProbeConfig } from '../../src/probes/snmp.ts';
import type { ProbeResult, ResolvedCredential } from '../../src/probes/types.ts';
import { SYS_NAME_OID } from '../helpers/snmp-agent.ts';
import { hasSnmpd, startSnmpd } from '../helpers/snmpd.ts';
import type { TestSnmpd } from '../helpers/snmpd.ts';

const CREDENTIAL_ID = '0d5e2c1a-7b3f-4e8a-9c6d-1f2e3a4b5c6d';
const SYS_OBJECT_ID_OID = '1.3.6.1.2.1.1.2.0';
const IF_HC_IN_OCTETS_LO = '1.3.6.1.2.1.31.1.1.1.6.1';
const WRONG_KEY = 'wrong-key-secret-9';

// snmpd is a system package, not an npm dependency: CI installs it (`apt-get install -y snmpd`);
// on a machine without it these tests are skipped rather than failed.
describe.skipIf(!hasSnmpd())('runSnmpProbe against Net-SNMP snmpd', () => {
  let snmpd: TestSnmpd;

  beforeAll(async () => {
    snmpd = await startSnmpd();
  });

  afterAll(async () => {
    if (!snmpd) return;
    await snmpd.stop();
    expect(existsSync(snmpd.dir)).toBe(false);
    expect(() => process.kill(snmpd.pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  const config = (overrides: Partial<Record<keyof SnmpProbeConfig, unknown>> = {}): SnmpProbeConfig =>
    snmpProbeSchema.parse({ type: 'snmp', credential_id: CREDENTIAL_ID, port: snmpd.port, ...overrides });
  const community = (): ResolvedCredential => ({ kind: 'snmp-community', community: snmpd.community });
  const v3 = (overrides: Partial<TestSnmpd['user']> = {}): ResolvedCredential => ({ kind: 'snmp-v3', ...snmpd.user, ...overrides });
  const check = (cfg: SnmpProbeConfig, credential: ResolvedCredential, timeoutMs = 2000): Promise<ProbeResult> =>
    runSnmpProbe(cfg, { address: '127.0.0.1', timeoutMs, signal: AbortSignal.timeout(timeoutMs), credential });

  function expectFailure(result: ProbeResult, errorType: ProbeResult['errorType']): void {
    expect(result, `${result.errorMessage}\nsnmpd log:\n${snmpd.output()}`).toMatchObject({ success: false, errorType });
    const json = JSON.stringify(result);
    for (const secret of [snmpd.community, snmpd.user.authKey, snmpd.user.privKey, WRONG_KEY]) {
      expect(json).not.toContain(secret);
    }
  }

  it.each(['1', '2c'] as const)("reads sysName.0 = 'vigil-test' with v%s and the community", async (version) => {
    const result = await check(config({ version }), community());
    expect(result, result.errorMessage ?? '').toMatchObject({ success: true, errorType: null });
    expect(result.detail).toMatchObject({
      version,
      values: { [SYS_NAME_OID]: { type: 'OctetString', value: 'vigil-test' } },
    });
  });

  it('reads sysName.0 with v3 authPriv (SHA + AES)', async () => {
    const result = await check(config({ version: '3' }), v3());
    expect(result, result.errorMessage ?? '').toMatchObject({ success: true, errorType: null });
    expect(result.detail).toMatchObject({ version: '3', values: { [SYS_NAME_OID]: { value: 'vigil-test' } } });
  });

  it('renders an OID value as dotted text and a Counter64 as a decimal string', async () => {
    const result = await check(config({ oids: [SYS_OBJECT_ID_OID, IF_HC_IN_OCTETS_LO] }), community());
    expect(result, result.errorMessage ?? '').toMatchObject({ success: true });
    expect(result.detail.values).toEqual({
      [SYS_OBJECT_ID_OID]: { type: 'OID', value: expect.stringMatching(/^1\.3\.6\.1\.4\.1\.8072\./) },
      [IF_HC_IN_OCTETS_LO]: { type: 'Counter64', value: expect.stringMatching(/^\d+$/) },
    });
  });

  it('times out when the community is wrong: snmpd drops the request without a word', async () => {
    const result = await check(config(), { kind: 'snmp-community', community: WRONG_KEY }, 300);
    expectFailure(result, 'timeout');
    expect(result.errorMessage).toBe('no answer within 300 ms (wrong community or host down)');
  });

  it('reports a wrong v3 auth key as snmp_auth_failed from snmpd\'s usmStatsWrongDigests report', async () => {
    const result = await check(config({ version: '3' }), v3({ authKey: WRONG_KEY }));
    expectFailure(result, 'snmp_auth_failed');
    expect(result.errorMessage).toBe('SNMPv3 authentication failed: Wrong Digest (incorrect password, community or key)');
    expect(result.responseTimeMs).toBeLessThan(1000);
  });

  it('reports a wrong v3 auth protocol (MD5 for a SHA user) as snmp_auth_failed', async () => {
    const result = await check(config({ version: '3' }), v3({ authProtocol: 'md5' }));
    expectFailure(result, 'snmp_auth_failed');
    expect(result.errorMessage).toContain('Wrong Digest');
  });

  // snmpd cannot parse the scoped PDU it decrypted with the wrong key ("security service 3 error
  // parsing ScopedPDU" in its log) and sends nothing back; the probe infers the key from the
  // discovery snmpd did answer.
  it('reports a wrong v3 privacy key as snmp_auth_failed, inferred from the silence after discovery', async () => {
    const result = await check(config({ version: '3' }), v3({ privKey: WRONG_KEY }), 300);
    expectFailure(result, 'snmp_auth_failed');
    expect(result.detail).toMatchObject({ engineDiscovered: true });
  });

  it('reports an unknown v3 user as snmp_auth_failed from snmpd\'s usmStatsUnknownUserNames report', async () => {
    const result = await check(config({ version: '3' }), v3({ username: 'ghost' }));
    expectFailure(result, 'snmp_auth_failed');
    expect(result.errorMessage).toBe('SNMPv3 authentication failed: Unknown User Name');
  });

  it('fails with snmp_error_status authorizationError below the level `rouser ... priv` demands', async () => {
    const result = await check(config({ version: '3' }), v3({ level: 'authNoPriv' }));
    expectFailure(result, 'snmp_error_status');
    expect(result.detail).toMatchObject({ errorStatus: 'AuthorizationError' });
  });

  it('names the missing OIDs: v2c noSuchObject / noSuchInstance varbinds', async () => {
    const result = await check(config({ oids: [SYS_NAME_OID, '1.3.6.1.2.1.1.99.0', '1.3.6.1.2.1.1.5.1'] }), community());
    expectFailure(result, 'snmp_no_such_object');
    expect(result.errorMessage).toBe(
      'agent has no value for 1.3.6.1.2.1.1.99.0 (NoSuchObject), 1.3.6.1.2.1.1.5.1 (NoSuchInstance)',
    );
  });

  it('names the missing OID: v1 noSuchName error-status', async () => {
    const result = await check(config({ version: '1', oids: [SYS_NAME_OID, '1.3.6.1.2.1.1.99.0'] }), community());
    expectFailure(result, 'snmp_no_such_object');
    expect(result.errorMessage).toContain('NoSuchName: 1.3.6.1.2.1.1.99.0');
    expect(result.detail).toMatchObject({ errorStatus: 'NoSuchName' });
  });
});
