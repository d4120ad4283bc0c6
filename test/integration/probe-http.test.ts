import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { httpProbeSchema, runHttpProbe } from '../../src/probes/http.ts';
import type { HttpProbeConfig } from '../../src/probes/http.ts';
import { runTcpProbe } from '../../src/probes/tcp.ts';
import type { ProbeResult, ResolvedCredential } from '../../src/probes/types.ts';
import {
  countActiveResources,
  reserveRefusedPort,
  startHttpTarget,
  startHttpsTarget,
  startSilentTarget,
  waitUntil,
  withProbeContext,
} from '../helpers/targets.ts';
import type { HttpTarget, LoopbackTarget, Routes } from '../helpers/targets.ts';

const PASSWORD = 'correct-horse-battery-staple';
const TOKEN = 'tok-5f1c9a7e-never-log-me';
const BASIC = `Basic ${Buffer.from(`vigil:${PASSWORD}`).toString('base64')}`;
const TWO_MIB = 2 * 1024 * 1024;

function query(req: IncomingMessage, name: string): string | null {
  return new URL(req.url ?? '/', 'http://target').searchParams.get(name);
}

function requireHeader(name: string, expected: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.headers[name] === expected) res.writeHead(200).end('welcome');
    else res.writeHead(401, { 'www-authenticate': 'Basic realm="vigil"' }).end('who are you?');
  };
}

const routes: Routes = {
  '/ok': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from vigil-test 42'),
  '/status': (req, res) => res.writeHead(Number(query(req, 'code'))).end(),
  '/echo': (_req, res) => res.writeHead(200).end('echoed'),
  '/basic': requireHeader('authorization', BASIC),
  '/bearer': requireHeader('authorization', `Bearer ${TOKEN}`),
  '/hop': (req, res) => {
    const n = Number(query(req, 'n'));
    if (n > 0) res.writeHead(302, { location: `/hop?n=${n - 1}` }).end();
    else res.writeHead(200).end('landed');
  },
  // A careless login redirect that puts the caller's token in the URL.
  '/leaky': (req, res) => {
    const token = encodeURIComponent(String(req.headers.authorization).split(' ')[1] ?? '');
    res.writeHead(302, { location: `/echo?token=${token}` }).end();
  },
  '/to-ftp': (_req, res) => res.writeHead(302, { location: 'ftp://files.example/' }).end(),
  // 1 MiB of 'a' then 'b': backtracking engines take exponential time on (a+)+$ against this.
  '/aaab': (_req, res) => res.writeHead(200).end(`${'a'.repeat(1024 * 1024 - 1)}b`),
  '/big': (_req, res) => res.writeHead(200).end(`${'x'.repeat(TWO_MIB)}needle-at-the-end`),
  // Headers, then a body that never ends: only a probe that skips the body can pass quickly.
  '/endless': (_req, res) => res.writeHead(200).write('start of a body that never ends'),
};

let web: HttpTarget;
let other: HttpTarget;
let tls: HttpTarget;
let silent: LoopbackTarget;
let refused: LoopbackTarget;

beforeAll(async () => {
  [web, other, tls, silent, refused] = await Promise.all([
    startHttpTarget(routes),
    startHttpTarget({ '/landing': (_req, res) => res.writeHead(200).end('other origin') }),
    startHttpsTarget({ '/ok': (_req, res) => res.writeHead(200).end('secure hello') }),
    startSilentTarget(),
    reserveRefusedPort(),
  ]);
  routes['/to-other'] = (_req, res) => res.writeHead(307, { location: `${other.url}/landing` }).end();
});

afterAll(async () => {
  await Promise.all([web, other, tls, silent, refused].map((target) => target.close()));
});

/** Parse like the API would (so defaults apply) and run with a generous timeout. */
function check(input: Record<string, unknown>, credential?: ResolvedCredential, timeoutMs = 5000): Promise<ProbeResult> {
  const config: HttpProbeConfig = httpProbeSchema.parse({ type: 'http', ...input });
  return withProbeContext(timeoutMs, (ctx) => runHttpProbe(config, ctx), credential ? { credential } : {});
}

describe('runHttpProbe: status', () => {
  it('succeeds on 200 and reports status, method and url', async () => {
    const result = await check({ url: `${web.url}/ok` });
    expect(result).toMatchObject({ success: true, errorType: null, errorMessage: null });
    expect(result.detail).toEqual({ status_code: 200, method: 'GET', url: `${web.url}/ok` });
  });

  it('fails on 500 with the expected and actual status in the message', async () => {
    const result = await check({ url: `${web.url}/status?code=500` });
    expect(result).toMatchObject({
      success: false,
      errorType: 'unexpected_status',
      errorMessage: 'expected status 200-399, got 500',
      detail: { status_code: 500 },
    });
  });

  it.each<[(number | string)[], number, boolean]>([
    [['200-299'], 204, true],
    [['200-299'], 302, false],
    [[200, 204], 204, true],
    [[200, 204], 201, false],
    [[404], 404, true],
    [['400-499', 503], 503, true],
    [['400-499', 503], 500, false],
  ])('with expect_status %j, status %i succeeds: %s', async (expectStatus, code, success) => {
    const result = await check({ url: `${web.url}/status?code=${code}`, expect_status: expectStatus });
    expect(result.success).toBe(success);
    if (!success) expect(result.errorType).toBe('unexpected_status');
  });

  it('drops the connection after the headers when no body check is set', async () => {
    const result = await check({ url: `${web.url}/endless` }, undefined, 2000);
    expect(result).toMatchObject({ success: true, detail: { status_code: 200 } });
    expect(result.detail).not.toHaveProperty('body_bytes');
  });
});

describe('runHttpProbe: what it sends', () => {
  it('sends a HEAD request with the configured headers', async () => {
    const result = await check({ url: `${web.url}/echo?via=head`, method: 'HEAD', headers: { 'X-Probe': 'vigil' } });
    expect(result).toMatchObject({ success: true, detail: { method: 'HEAD' } });
    const received = web.requests.find((r) => r.url === '/echo?via=head');
    expect(received).toMatchObject({ method: 'HEAD', headers: { 'x-probe': 'vigil' }, body: '' });
  });

  it('sends a POST body with its headers', async () => {
    const headers = { 'Content-Type': 'application/json', 'X-Request-Id': 'r-1' };
    const result = await check({ url: `${web.url}/echo?via=post`, method: 'POST', headers, body: '{"ping":1}' });
    expect(result.success).toBe(true);
    const received = web.requests.find((r) => r.url === '/echo?via=post');
    expect(received).toMatchObject({ method: 'POST', body: '{"ping":1}' });
    expect(received?.headers).toMatchObject({ 'content-type': 'application/json', 'x-request-id': 'r-1', 'content-length': '10' });
  });

  it('opens a fresh connection for every check', async () => {
    await check({ url: `${web.url}/echo?via=fresh` });
    const received = web.requests.find((r) => r.url === '/echo?via=fresh');
    expect(received?.headers.connection).toBe('close');
  });
});

describe('runHttpProbe: credentials', () => {
  const basic: ResolvedCredential = { kind: 'http-basic', username: 'vigil', password: PASSWORD };
  const wrongBasic: ResolvedCredential = { kind: 'http-basic', username: 'intruder', password: PASSWORD };
  const bearer: ResolvedCredential = { kind: 'http-bearer', token: TOKEN };
  const credentialId = '3f0e8d5a-4b7c-4d2e-9f1a-2b3c4d5e6f70';

  it.each<[string, string, ResolvedCredential, boolean]>([
    ['basic auth', '/basic', basic, true],
    ['bearer auth', '/bearer', bearer, true],
    ['basic auth the server rejects', '/basic', wrongBasic, false],
    ['bearer auth where basic is wanted', '/basic', bearer, false],
  ])('%s reaches the server, and the secret never appears in the result', async (_case, path, credential, success) => {
    const result = await check({ url: `${web.url}${path}`, credential_id: credentialId }, credential);
    expect(result.success).toBe(success);
    if (!success) expect(result).toMatchObject({ errorType: 'unexpected_status', detail: { status_code: 401 } });
    expectNoSecrets(result);
  });

  it('keeps the secret out of the result when the connection fails', async () => {
    const result = await check({ url: `${refused.url}/basic`, credential_id: credentialId }, basic);
    expect(result.errorType).toBe('connection_refused');
    expectNoSecrets(result);
  });

  it.each([false, true])('redacts a secret the target echoes back (follow_redirects %s)', async (follow) => {
    const result = await check({ url: `${web.url}/leaky`, follow_redirects: follow, expect_status: [200], credential_id: credentialId }, bearer);
    expect(JSON.stringify(result)).toContain('[redacted]');
    expectNoSecrets(result);
  });

  it('fails with config_error, secret unseen, when the token cannot be sent as a header', async () => {
    const badToken: ResolvedCredential = { kind: 'http-bearer', token: `${TOKEN}\r\nX-Injected: 1` };
    const result = await check({ url: `${web.url}/bearer`, credential_id: credentialId }, badToken);
    expect(result).toMatchObject({ success: false, errorType: 'config_error' });
    expectNoSecrets(result);
  });

  it('does not send the credential to another origin a redirect points at', async () => {
    const result = await check({ url: `${web.url}/to-other`, follow_redirects: true, credential_id: credentialId }, bearer);
    expect(result).toMatchObject({ success: true, detail: { url: `${other.url}/landing` } });
    const landed = other.requests.find((r) => r.url === '/landing');
    expect(landed?.headers.authorization).toBeUndefined();
  });

  it.each<[string, ResolvedCredential | undefined]>([
    ['a credential of another kind', { kind: 'snmp-community', community: 'public' }],
    ['a credential that was not resolved', undefined],
  ])('fails with config_error on %s', async (_case, credential) => {
    const result = await check({ url: `${web.url}/basic`, credential_id: credentialId }, credential);
    expect(result).toMatchObject({ success: false, errorType: 'config_error' });
  });

  function expectNoSecrets(result: ProbeResult): void {
    const json = JSON.stringify(result);
    for (const secret of [PASSWORD, TOKEN, BASIC.slice('Basic '.length)]) expect(json).not.toContain(secret);
  }
});

describe('runHttpProbe: body', () => {
  it.each<[string, Record<string, unknown>, boolean]>([
    ['body_contains present', { body_contains: 'vigil-test' }, true],
    ['body_contains absent', { body_contains: 'goodbye' }, false],
    ['body_regex matching', { body_regex: 'vigil-test \\d+$' }, true],
    ['body_regex not matching', { body_regex: '^goodbye' }, false],
    ['both, one failing', { body_contains: 'hello', body_regex: '^\\d+$' }, false],
  ])('%s: succeeds %s', async (_case, bodyCheck, success) => {
    const result = await check({ url: `${web.url}/ok`, ...bodyCheck });
    expect(result.success).toBe(success);
    expect(result.errorType).toBe(success ? null : 'body_mismatch');
    expect(result.detail.body_bytes).toBe(Buffer.byteLength('hello from vigil-test 42'));
  });

  it('judges a catastrophic body_regex against a 1 MiB body while other checks keep running', async () => {
    const [catastrophic, ordinary] = await Promise.all([
      check({ url: `${web.url}/aaab`, body_regex: '(a+)+$' }),
      check({ url: `${web.url}/ok`, body_regex: 'vigil-test \\d+$' }),
    ]);
    expect(catastrophic).toMatchObject({ success: false, errorType: 'body_mismatch', detail: { body_bytes: 1024 * 1024 } });
    expect(ordinary).toMatchObject({ success: true, errorType: null });
  });

  it('reads at most 1 MiB of body and says so when the match fails', async () => {
    const result = await check({ url: `${web.url}/big`, body_contains: 'needle-at-the-end' });
    expect(result).toMatchObject({ success: false, errorType: 'body_mismatch', detail: { body_bytes: 1024 * 1024 } });
    expect(result.errorMessage).toContain('first 1048576 bytes');
  });

  it('does not read the body of a response whose status already failed', async () => {
    const result = await check({ url: `${web.url}/status?code=500`, body_contains: 'x' });
    expect(result.errorType).toBe('unexpected_status');
    expect(result.detail).not.toHaveProperty('body_bytes');
  });
});

describe('runHttpProbe: redirects', () => {
  it('judges a 3xx as it is when not following, naming the location', async () => {
    const result = await check({ url: `${web.url}/hop?n=1`, expect_status: [200] });
    expect(result).toMatchObject({ success: false, errorType: 'unexpected_status', detail: { status_code: 302 } });
    expect(result.errorMessage).toContain('/hop?n=0');
    expect(result.detail).not.toHaveProperty('redirects');
  });

  it('accepts a 3xx that expect_status allows when not following', async () => {
    const result = await check({ url: `${web.url}/hop?n=1` });
    expect(result).toMatchObject({ success: true, detail: { status_code: 302 } });
  });

  it('follows relative redirects and lists the hops', async () => {
    const result = await check({ url: `${web.url}/hop?n=2`, follow_redirects: true, expect_status: [200], body_contains: 'landed' });
    expect(result).toMatchObject({ success: true, detail: { status_code: 200, url: `${web.url}/hop?n=0` } });
    expect(result.detail.redirects).toEqual([
      { status_code: 302, location: `${web.url}/hop?n=1` },
      { status_code: 302, location: `${web.url}/hop?n=0` },
    ]);
  });

  it.each<[string, string, number, string]>([
    ['more redirects than allowed', '/hop?n=4', 3, 'more than 3 redirects'],
    ['any redirect when max_redirects is 0', '/hop?n=1', 0, 'more than 0 redirects'],
    ['a redirect to a non-http scheme', '/to-ftp', 5, 'ftp://files.example/'],
  ])('fails with http_error on %s', async (_case, path, maxRedirects, message) => {
    const result = await check({ url: `${web.url}${path}`, follow_redirects: true, max_redirects: maxRedirects });
    expect(result).toMatchObject({ success: false, errorType: 'http_error' });
    expect(result.errorMessage).toContain(message);
  });
});

describe('runHttpProbe: TLS', () => {
  it('fails with tls_error on a self-signed certificate when verifying', async () => {
    const result = await check({ url: `${tls.url}/ok` });
    expect(result).toMatchObject({ success: false, errorType: 'tls_error' });
    expect(result.errorMessage).toMatch(/self[- ]signed/);
  });

  it('succeeds without verification and reports the certificate expiry', async () => {
    const result = await check({ url: `${tls.url}/ok`, tls_verify: false, body_contains: 'secure' });
    expect(result).toMatchObject({ success: true, detail: { status_code: 200 } });
    const { cert_expires_at: expiresAt, cert_days_remaining: daysRemaining } = result.detail;
    expect(new Date(String(expiresAt)).toISOString()).toBe(expiresAt);
    expect(daysRemaining).toBeGreaterThan(28);
    expect(daysRemaining).toBeLessThanOrEqual(30);
  });
});

describe('runHttpProbe: failures of the target', () => {
  it('times out on a server that accepts and never answers', async () => {
    const started = Date.now();
    const result = await check({ url: `${silent.url}/` }, undefined, 300);
    expect(result).toMatchObject({ success: false, errorType: 'timeout', errorMessage: 'no response within 300 ms' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it.each<[string, () => string, string]>([
    ['a closed port', () => `${refused.url}/`, 'connection_refused'],
    ['a name that does not resolve', () => 'http://nohost.invalid/', 'dns_failure'],
  ])('fails on %s as %s', async (_case, url, errorType) => {
    const result = await check({ url: url() });
    expect(result).toMatchObject({ success: false, errorType, detail: { method: 'GET', url: url() } });
  });

  it('refuses userinfo in the url, pointing to credentials (probe config is public)', () => {
    const parsed = httpProbeSchema.safeParse({ type: 'http', url: `http://someone:${PASSWORD}@127.0.0.1/ok` });
    expect(parsed.error?.issues).toEqual([expect.objectContaining({ path: ['url'], message: expect.stringMatching(/http-basic credential/) })]);
  });
});

describe('httpProbeSchema', () => {
  const url = 'https://device.example/health';

  it('fills in the defaults', () => {
    expect(httpProbeSchema.parse({ type: 'http', url })).toEqual({
      type: 'http',
      url,
      method: 'GET',
      expect_status: ['200-399'],
      follow_redirects: false,
      max_redirects: 5,
      tls_verify: true,
    });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['an ftp:// url', { url: 'ftp://device.example/' }, /http:\/\/ or https:\/\/, not ftp:/],
    ['a relative url', { url: '/health' }, /absolute http/],
    ['an invalid body_regex', { url, body_regex: '(unclosed' }, /not a valid RE2 regular expression/],
    ['a body_regex with a backreference', { url, body_regex: '(a)\\1' }, /backreferences are not supported/],
    ['a body_regex longer than 1024 characters', { url, body_regex: 'a'.repeat(1025) }, /1024/],
    ['an unknown field', { url, timeoutMs: 5 }, /unrecognized key/i],
    ['CR/LF in a header value', { url, headers: { 'X-A': 'one\r\nX-Injected: two' } }, /CR, LF/],
    ['a space in a header name', { url, headers: { 'X A': 'one' } }, /not an HTTP token/],
    ['a body without POST', { url, body: 'x' }, /only sent with method POST/],
    ['a body check on HEAD', { url, method: 'HEAD', body_contains: 'ok' }, /HEAD response has no body/],
    ['an unknown method', { url, method: 'DELETE' }, /./],
    ['a status out of range', { url, expect_status: [600] }, /./],
    ['a malformed status range', { url, expect_status: ['200-'] }, /"200-399"/],
    ['a backwards status range', { url, expect_status: ['399-200'] }, /low-high/],
    ['an empty expect_status', { url, expect_status: [] }, /./],
    ['max_redirects above 10', { url, max_redirects: 11 }, /./],
    ['a credential_id that is not a uuid', { url, credential_id: 'db-password' }, /./],
  ])('rejects %s', (_case, input, message) => {
    const parsed = httpProbeSchema.safeParse({ type: 'http', ...input });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.message).join('\n')).toMatch(message);
  });
});

describe('runHttpProbe and runTcpProbe: resources', () => {
  it('leave no sockets or timers behind after 200 mixed checks', async () => {
    const before = { sockets: countActiveResources('TCPSocketWrap'), timers: countActiveResources('Timeout') };
    const kinds: [() => Promise<ProbeResult>, string | null][] = [
      [() => check({ url: `${web.url}/ok`, body_contains: 'hello' }), null],
      [() => check({ url: `${web.url}/endless` }), null],
      [() => check({ url: `${refused.url}/` }), 'connection_refused'],
      [() => check({ url: `${silent.url}/` }, undefined, 100), 'timeout'],
      [() => check({ url: `${tls.url}/ok`, tls_verify: false }), null],
      [() => withProbeContext(1000, (ctx) => runTcpProbe({ type: 'tcp', port: web.port }, ctx)), null],
      [() => withProbeContext(1000, (ctx) => runTcpProbe({ type: 'tcp', port: refused.port }, ctx)), 'connection_refused'],
    ];
    const pick = (n: number) => kinds[n % kinds.length]!;
    for (let first = 0; first < 200; first += 20) {
      const batch = Array.from({ length: 20 }, (_, i) => pick(first + i));
      const results = await Promise.all(batch.map(([run]) => run()));
      expect(results.map((r) => r.errorType)).toEqual(batch.map(([, errorType]) => errorType));
    }
    const settled = () =>
      countActiveResources('TCPSocketWrap') <= before.sockets && countActiveResources('Timeout') <= before.timers;
    expect(await waitUntil(settled, 1000), JSON.stringify(process.getActiveResourcesInfo())).toBe(true);
  });
});
