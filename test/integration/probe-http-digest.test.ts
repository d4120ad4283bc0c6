/**
 * HTTP digest auth against Debian's Apache httpd (mod_auth_digest, a server nobody here wrote),
 * HTTP conditions against Apache and Node targets, and the per-probe timeout through runCheck.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpProbeSchema, runHttpProbe } from '../../src/probes/http.ts';
import { runCheck } from '../../src/probes/run-check.ts';
import type { ProbeResult, ResolvedCredential } from '../../src/probes/types.ts';
import { DIGEST_PASSWORD, DIGEST_USER, startApache } from '../helpers/apache.ts';
import type { TestApache } from '../helpers/apache.ts';
import { SHA_PASSWORD, SHA_USER, startLighttpd } from '../helpers/lighttpd.ts';
import type { TestLighttpd } from '../helpers/lighttpd.ts';
import { startHttpsTarget, startHttpTarget, startSilentTarget, withProbeContext } from '../helpers/targets.ts';
import type { HttpTarget, LoopbackTarget } from '../helpers/targets.ts';

const DIGEST: ResolvedCredential = { kind: 'http-digest', username: DIGEST_USER, password: DIGEST_PASSWORD };

let apache: TestApache;
let lighttpd: TestLighttpd;
let https: HttpTarget;
let slow: HttpTarget;
let silent: LoopbackTarget;

beforeAll(async () => {
  // One after another: if one fails to start, the ones before are still assigned and stopped by afterAll.
  apache = await startApache();
  lighttpd = await startLighttpd();
  [https, slow, silent] = await Promise.all([
    startHttpsTarget({ '/': (_req, res) => res.writeHead(200).end('ok') }, 30),
    startHttpTarget({
      '/slow': (_req, res) => void setTimeout(() => res.writeHead(200).end('late'), 300),
      '/huge-json': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(`{"pad":"${'x'.repeat(2 * 1024 * 1024)}"}`),
    }),
    startSilentTarget(),
  ]);
});

afterAll(async () => {
  await Promise.all([apache?.stop(), lighttpd?.stop(), https?.close(), slow?.close(), silent?.close()]);
});

function check(input: Record<string, unknown>, credential?: ResolvedCredential, timeoutMs = 5000): Promise<ProbeResult> {
  const config = httpProbeSchema.parse({ type: 'http', ...input });
  return withProbeContext(timeoutMs, (ctx) => runHttpProbe(config, ctx), credential ? { credential } : {});
}

describe('HTTP digest auth against Apache mod_auth_digest', () => {
  it('answers the MD5 challenge and gets the protected page', async () => {
    const result = await check({ url: `${apache.url}/digest/status.json`, credential_id: crypto.randomUUID() }, DIGEST);
    expect(result, apache.output()).toMatchObject({ success: true, detail: { status_code: 200, digest: 'MD5' } });
  });

  it('is refused with a wrong password, and the password appears nowhere in the result', async () => {
    const wrong: ResolvedCredential = { ...DIGEST, password: 'not-the-camera-password' };
    const result = await check({ url: `${apache.url}/digest/status.json`, credential_id: crypto.randomUUID() }, wrong);
    expect(result).toMatchObject({ success: false, errorType: 'unexpected_status', detail: { status_code: 401, digest: 'MD5' } });
    expect(JSON.stringify(result)).not.toContain('not-the-camera-password');
  });

  it('without a credential the 401 is judged as a status', async () => {
    const result = await check({ url: `${apache.url}/digest/status.json` });
    expect(result).toMatchObject({ success: false, errorType: 'unexpected_status', errorMessage: 'expected status 200-399, got 401' });
  });

  it('checks a JSON value of the digest-protected body', async () => {
    const conditions = [
      { kind: 'json', path: '$.status', op: 'equals', value: 'UP' },
      { kind: 'json', path: '$.camera.temperature', op: 'lt', value: 40 },
    ];
    const result = await check({ url: `${apache.url}/digest/status.json`, credential_id: crypto.randomUUID(), conditions }, DIGEST);
    expect(result).toMatchObject({
      success: false,
      errorType: 'condition_failed',
      errorMessage: 'condition json $.camera.temperature lt 40 failed: observed 41',
    });
  });
});

describe('HTTP digest auth with SHA-256 against lighttpd', () => {
  const SHA: ResolvedCredential = { kind: 'http-digest', username: SHA_USER, password: SHA_PASSWORD };

  it('answers the SHA-256 challenge and gets the protected page', async () => {
    const result = await check({ url: `${lighttpd.url}/digest/status.json`, credential_id: crypto.randomUUID(), conditions: [{ kind: 'json', path: '$.status', op: 'equals', value: 'RECORDING' }] }, SHA);
    expect(result, lighttpd.output()).toMatchObject({ success: true, detail: { status_code: 200, digest: 'SHA-256' } });
  });

  it('is refused with a wrong password', async () => {
    const result = await check({ url: `${lighttpd.url}/digest/status.json`, credential_id: crypto.randomUUID() }, { ...SHA, password: 'wrong-sha-password' });
    expect(result).toMatchObject({ success: false, errorType: 'unexpected_status', detail: { status_code: 401, digest: 'SHA-256' } });
    expect(JSON.stringify(result)).not.toContain('wrong-sha-password');
  });
});

describe('HTTP conditions', () => {
  it('passes when the JSON body and headers hold', async () => {
    const conditions = [
      { kind: 'json', path: "$.checks[0]['name']", op: 'equals', value: 'disk' },
      { kind: 'header', name: 'Content-Type', matches: '^application/json' },
      { kind: 'response_time', max_ms: 4000 },
    ];
    const result = await check({ url: `${apache.url}/open/status.json`, conditions });
    expect(result).toMatchObject({ success: true });
  });

  it('names the condition and the observed value when a JSON value differs', async () => {
    const result = await check({ url: `${apache.url}/open/status.json`, conditions: [{ kind: 'json', path: '$.status', op: 'equals', value: 'UP' }] });
    expect(result).toMatchObject({ success: false, errorType: 'condition_failed', errorMessage: 'condition json $.status equals "UP" failed: observed "DEGRADED"' });
  });

  it('fails a missing header', async () => {
    const result = await check({ url: `${apache.url}/open/status.json`, conditions: [{ kind: 'header', name: 'X-Camera-Firmware' }] });
    expect(result.errorMessage).toBe('condition header X-Camera-Firmware present failed: observed no such header');
  });

  it('fails a response slower than the limit', async () => {
    const result = await check({ url: `${slow.url}/slow`, conditions: [{ kind: 'response_time', max_ms: 100 }] });
    expect(result).toMatchObject({ success: false, errorType: 'condition_failed' });
    expect(result.errorMessage).toMatch(/^condition response_time < 100 ms failed: observed \d+(\.\d)? ms$/);
  });

  it('checks the certificate days remaining', async () => {
    const url = `${https.url}/`;
    expect(await check({ url, tls_verify: false, conditions: [{ kind: 'cert_days_remaining', min_days: 7 }] })).toMatchObject({ success: true });
    const result = await check({ url, tls_verify: false, conditions: [{ kind: 'cert_days_remaining', min_days: 60 }] });
    expect(result.errorMessage).toMatch(/^condition cert_days_remaining >= 60 failed: observed (29|30)(\.\d)? days$/);
    const plain = await check({ url: `${apache.url}/open/status.json`, conditions: [{ kind: 'cert_days_remaining', min_days: 1 }] });
    expect(plain.errorMessage).toBe('condition cert_days_remaining >= 1 failed: observed no TLS certificate');
  });

  it('does not parse a JSON body beyond 1 MiB', async () => {
    const result = await check({ url: `${slow.url}/huge-json`, conditions: [{ kind: 'json', path: '$.pad', op: 'exists' }] });
    expect(result).toMatchObject({ success: false, errorType: 'condition_failed' });
    expect(result.errorMessage).toBe('condition json $.pad exists failed: observed a body longer than 1048576 bytes, not parsed');
  });

  it('refuses a JSON condition on a HEAD probe when saved', () => {
    const parsed = httpProbeSchema.safeParse({ type: 'http', url: apache.url, method: 'HEAD', conditions: [{ kind: 'json', path: '$.a', op: 'exists' }] });
    expect(parsed.error?.issues[0]).toMatchObject({ path: ['method'] });
  });
});

describe('per-probe timeout', () => {
  it("ends a probe at its own timeout_ms, well inside the host's check timeout", async () => {
    const started = Date.now();
    const result = await runCheck(
      { address: '127.0.0.1', probes: [{ type: 'http', url: silent.url, timeout_ms: 300 }] },
      { timeoutMs: 20_000 },
    );
    expect(result).toMatchObject({ success: false, errorType: 'timeout', errorMessage: 'no response within 300 ms' });
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("is bounded by the host's check timeout when larger", async () => {
    const result = await runCheck(
      { address: '127.0.0.1', probes: [{ type: 'http', url: silent.url, timeout_ms: 60_000 }] },
      { timeoutMs: 400 },
    );
    expect(result).toMatchObject({ success: false, errorType: 'timeout' });
    expect(result.errorMessage).toMatch(/^no response within (39\d|400) ms$/);
  });

  it('gives the next probe the time the first one left', async () => {
    const result = await runCheck(
      { address: '127.0.0.1', probes: [{ type: 'tcp', port: slow.port, timeout_ms: 1000 }, { type: 'http', url: silent.url, timeout_ms: 300 }] },
      { timeoutMs: 20_000 },
    );
    expect(result).toMatchObject({ success: false, errorType: 'timeout', errorMessage: 'step 2 (http): no response within 300 ms' });
  });
});
