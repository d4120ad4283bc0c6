import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSshProbe, sshProbeSchema } from '../../src/probes/ssh.ts';
import type { SshProbeConfig, SshProbeContext } from '../../src/probes/ssh.ts';
import type { ResolvedCredential } from '../../src/probes/types.ts';
import { generateTestKeyPair } from '../helpers/ssh-server.ts';
import { hasSshd, SSHD_TEST_PASSWORD, SSHD_TEST_USER, startTestSshd } from '../helpers/sshd.ts';
import type { TestSshd } from '../helpers/sshd.ts';

const userKey = generateTestKeyPair();
const passwordCredential: ResolvedCredential = { kind: 'ssh-password', username: SSHD_TEST_USER, password: SSHD_TEST_PASSWORD };
const keyCredential: ResolvedCredential = { kind: 'ssh-key', username: SSHD_TEST_USER, privateKey: userKey.privateKey };

// These run the real OpenSSH daemon; without the openssh-server package there is nothing to run.
describe.skipIf(!hasSshd())('SSH probe against OpenSSH sshd', () => {
  let sshd: TestSshd;

  beforeAll(async () => {
    sshd = await startTestSshd({ authorizedKeys: [userKey.publicKey] });
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  function sshConfig(overrides: Record<string, unknown> = {}): SshProbeConfig {
    return sshProbeSchema.parse({ type: 'ssh', port: sshd.port, credential_id: randomUUID(), ...overrides });
  }

  function probeContext(overrides: Partial<SshProbeContext> = {}): SshProbeContext {
    return { address: '127.0.0.1', timeoutMs: 10_000, signal: AbortSignal.timeout(10_000), credential: passwordCredential, ...overrides };
  }

  it.each([
    ['a password', passwordCredential],
    ['a key', keyCredential],
  ])('logs in to the test user with %s', async (_name, credential) => {
    const result = await runSshProbe(sshConfig(), probeContext({ credential }));
    expect(result, sshd.log()).toMatchObject({ success: true, errorType: null });
    expect(result.detail.connect_auth_ms).toBeTypeOf('number');
  });

  it('reports auth_failed for a wrong password, without echoing it', async () => {
    const credential = { ...passwordCredential, password: 'not-the-password' };
    const result = await runSshProbe(sshConfig(), probeContext({ credential }));
    expect(result.errorType).toBe('auth_failed');
    expect(JSON.stringify(result)).not.toContain('not-the-password');
  });

  it.each([
    ['true', true, null],
    ['false', false, 'command_failed'],
  ])('runs `%s` and judges it by its exit status', async (command, success, errorType) => {
    const result = await runSshProbe(sshConfig({ command }), probeContext());
    expect(result, sshd.log()).toMatchObject({ success, errorType });
    expect(result.detail.command_ms).toBeTypeOf('number');
  });

  it('checks command output against expect_output_regex', async () => {
    const config = sshConfig({ command: 'id -un', expect_output_regex: `^${SSHD_TEST_USER}$` });
    const result = await runSshProbe(config, probeContext());
    expect(result, JSON.stringify(result)).toMatchObject({ success: true, detail: { output: `${SSHD_TEST_USER}\n` } });
  });

  it('reports the host key fingerprint exactly as ssh-keygen -lf prints it', async () => {
    const result = await runSshProbe(sshConfig(), probeContext());
    expect(result.detail.host_key_sha256).toBe(sshd.hostKeySha256);
  });

  it('reports host_key_mismatch for the old pinned fingerprint after sshd gets a new host key', async () => {
    const oldFingerprint = sshd.hostKeySha256;
    await sshd.restartWithNewHostKey();
    expect(sshd.hostKeySha256).not.toBe(oldFingerprint);

    const pinned = await runSshProbe(sshConfig({ host_key_sha256: oldFingerprint }), probeContext());
    expect(pinned.errorType).toBe('host_key_mismatch');
    expect(pinned.errorMessage).toContain(oldFingerprint);
    expect(pinned.detail.host_key_sha256).toBe(sshd.hostKeySha256);

    const firstUse = await runSshProbe(sshConfig(), probeContext({ knownHostKeySha256: oldFingerprint }));
    expect(firstUse.errorType).toBe('host_key_mismatch');
  });
});
