/**
 * HTTP(S) probe: one request to a URL (the URL says where to go; the host's address is not
 * used), optionally following redirects, judged by status, then body. Each check opens its own
 * connection so the response time includes a real connect (and TLS handshake).
 */
import { z } from 'zod';
import { classifySocketError, elapsedMs, failed, succeeded } from './errors.ts';
import { conditionsNeedBody, evaluateConditions, httpConditionsSchema } from './http-conditions.ts';
import { digestAuthorization, pickDigestChallenge } from './http-digest.ts';
import { probeTimeoutSchema } from './probe-timeout.ts';
import { HttpExchangeError, sendHttpRequest } from './http-request.ts';
import type { HttpExchange, PeerCertificateInfo } from './http-request.ts';
import { describeConnectError } from './tcp.ts';
import { MAX_PATTERN_CHARS, patternSchema } from './pattern.ts';
import { judgeExchange, parseStatusRange, REDIRECT_STATUSES, STATUS_RANGE, statusMatches } from './http-verdict.ts';
import type { Verdict } from './http-verdict.ts';
import type { ProbeContextWithCredential, ProbeResult, ResolvedCredential } from './types.ts';

/** RFC 9110 token: what Node accepts as a header name. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What Node accepts in a header value: no CR, LF or other control characters but tab. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** True unless a well-formed range runs backwards (a malformed one already failed the regex). */
function isAscendingRange(range: string): boolean {
  const [low, high] = parseStatusRange(range);
  return Number.isNaN(low) || low <= high;
}

const statusExpectationSchema = z.union([
  z.number().int().min(100).max(599),
  z
    .string()
    .regex(STATUS_RANGE, 'a status range is two codes 100-599 joined by "-", e.g. "200-399"')
    .refine(isAscendingRange, 'a status range must run low-high, e.g. "200-399"'),
]);

/** Header checks by hand: a record's key schema reports only "Invalid key in record". */
const headersSchema = z.record(z.string(), z.string()).superRefine((headers, ctx) => {
  for (const [name, value] of Object.entries(headers)) {
    const problem = describeHeaderProblem(name, value);
    if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
  }
});

function describeHeaderProblem(name: string, value: string): string | undefined {
  if (!HEADER_NAME.test(name)) return `header name ${JSON.stringify(name)} is not an HTTP token`;
  if (!HEADER_VALUE.test(value)) return `header ${name} must not contain CR, LF or other control characters`;
  return undefined;
}

function describeUrlIssue(input: unknown): string {
  const scheme = typeof input === 'string' && URL.canParse(input) ? new URL(input).protocol : undefined;
  if (scheme) return `url must use http:// or https://, not ${scheme}//`;
  return 'url must be an absolute http:// or https:// URL';
}

/** True when a URL string carries no user:password@ (an unparseable one is reported by the URL check). */
function hasNoUserinfo(input: string): boolean {
  const parsed = URL.parse(input);
  return !parsed || (parsed.username === '' && parsed.password === '');
}

export const SECRET_PLACES = ['header', 'query', 'body'] as const;

const secretPlacementSchema = z
  .object({
    in: z.enum(SECRET_PLACES).describe('Where the secret goes: a request header, a query parameter of the configured URL, or the body.'),
    name: z
      .string()
      .min(1)
      .max(256)
      .describe('header: the header name; query: the parameter name; body: the placeholder in `body` replaced by the secret, e.g. "{{api_key}}".'),
  })
  .strict()
  .describe("Places the value of credential_id (kind http-secret) in the request, so the secret is not part of the probe's config.");

export const httpProbeSchema = z
  .object({
    type: z.literal('http').describe('Probe type: an HTTP(S) request to a URL.'),
    url: z
      .url({ protocol: /^https?$/, error: (issue) => describeUrlIssue(issue.input) })
      .refine(
        hasNoUserinfo,
        'url must not contain user:password@ (probe config is readable by every token): store them in an http-basic credential and set credential_id',
      )
      .describe('Absolute http:// or https:// URL to request. Its host is used as-is; the host address is not.'),
    method: z.enum(['GET', 'HEAD', 'POST']).default('GET').describe('HTTP method.'),
    headers: headersSchema
      .optional()
      .describe('Extra request headers, name to value. Authorization comes from credential_id instead.'),
    body: z.string().optional().describe('Request body; only with method POST.'),
    expect_status: z
      .array(statusExpectationSchema)
      .min(1)
      .default(['200-399'])
      .describe('Accepted status codes: each an integer (e.g. 204) or an inclusive range string (e.g. "200-399").'),
    body_contains: z.string().optional().describe('Text the response body (first 1 MiB) must contain.'),
    body_regex: patternSchema('text')
      .optional()
      .describe(
        `RE2 regular expression (at most ${MAX_PATTERN_CHARS} characters; no lookaround or backreferences) the response body (first 1 MiB) must match; matched in linear time.`,
      ),
    follow_redirects: z
      .boolean()
      .default(false)
      .describe('Follow 3xx Location headers; when false a 3xx is judged by expect_status as it is.'),
    max_redirects: z.number().int().min(0).max(10).default(5).describe('Most redirects to follow before failing.'),
    tls_verify: z
      .boolean()
      .default(true)
      .describe('Verify the server certificate; turn off for self-signed devices (expiry is still reported).'),
    credential_id: z
      .uuid()
      .optional()
      .describe(
        'Credential of kind http-basic or http-bearer to send as the Authorization header, of kind http-digest to answer a Digest challenge (RFC 7616, MD5 or SHA-256, qop=auth), or of kind http-secret placed as secret_placement says.',
      ),
    secret_placement: secretPlacementSchema.optional(),
    conditions: httpConditionsSchema.optional(),
    timeout_ms: probeTimeoutSchema,
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.body !== undefined && config.method !== 'POST') {
      ctx.addIssue({ code: 'custom', path: ['body'], message: 'body is only sent with method POST' });
    }
    describeSecretPlacementIssues(config).forEach((issue) => ctx.addIssue({ code: 'custom', ...issue }));
    if (config.method === 'HEAD' && (config.body_contains !== undefined || config.body_regex !== undefined || conditionsNeedBody(config.conditions))) {
      ctx.addIssue({ code: 'custom', path: ['method'], message: 'a HEAD response has no body to check; use GET' });
    }
  })
  .describe('Succeeds when the response status is expected, the body matches (if asked) and every condition holds.');

export type HttpProbeConfig = z.infer<typeof httpProbeSchema>;

type PlacementIssue = { path: (string | number)[]; message: string };

function describeSecretPlacementIssues(config: {
  secret_placement?: { in: string; name: string } | undefined;
  credential_id?: string | undefined;
  body?: string | undefined;
}): PlacementIssue[] {
  const placement = config.secret_placement;
  if (placement === undefined) return [];
  const path = ['secret_placement', 'name'];
  if (config.credential_id === undefined) {
    return [{ path: ['credential_id'], message: 'secret_placement needs credential_id naming an http-secret credential' }];
  }
  if (placement.in === 'header' && !HEADER_NAME.test(placement.name)) {
    return [{ path, message: `header name ${JSON.stringify(placement.name)} is not an HTTP token` }];
  }
  if (placement.in === 'body' && !(config.body ?? '').includes(placement.name)) {
    return [{ path, message: 'body must contain the placeholder the secret replaces (and method must be POST)' }];
  }
  return [];
}
type HttpMethod = HttpProbeConfig['method'];

/** What the probe has learnt so far; the detail of any result, success or failure. */
interface Trail {
  url: URL;
  method: HttpMethod;
  redirects: { status_code: number; location: string }[];
  /** From the first HTTPS response: normally the configured URL's own certificate. */
  cert?: PeerCertificateInfo;
  /** The Digest algorithm answered with, or why a 401 could not be answered. */
  digest?: string;
}

/** Request config.url and judge the answer; never throws, never leaves a socket open. */
export async function runHttpProbe(config: HttpProbeConfig, ctx: ProbeContextWithCredential): Promise<ProbeResult> {
  const startNs = process.hrtime.bigint();
  const url = URL.parse(config.url);
  if (!url) return failed(startNs, 'config_error', 'url is not a valid URL');
  const trail: Trail = { url, method: config.method, redirects: [] };
  const auth = authorizationFor(config, ctx.credential);
  if ('error' in auth) return failed(startNs, 'config_error', auth.error, trailDetail(trail));
  const result = await checkUrl(config, ctx, auth, trail, startNs);
  return redactResult(result, auth.secrets);
}

async function checkUrl(
  config: HttpProbeConfig,
  ctx: ProbeContextWithCredential,
  auth: RequestAuth,
  trail: Trail,
  startNs: bigint,
): Promise<ProbeResult> {
  try {
    const { exchange, redirectFailure } = await exchangeFollowingRedirects(config, ctx.signal, auth, trail);
    const verdict = redirectFailure ?? judgeExchange(config, exchange) ?? judgeConditions(config, exchange, trail, startNs);
    const detail = trailDetail(trail, exchange);
    return verdict ? failed(startNs, verdict.errorType, verdict.message, detail) : succeeded(startNs, detail);
  } catch (err) {
    const verdict = classifyFailure(err, ctx);
    return failed(startNs, verdict.errorType, verdict.message, trailDetail(trail));
  }
}

function judgeConditions(config: HttpProbeConfig, exchange: HttpExchange, trail: Trail, startNs: bigint): Verdict | null {
  const message = evaluateConditions(config.conditions, {
    responseTimeMs: elapsedMs(startNs),
    certDaysRemaining: trail.cert?.daysRemaining,
    headers: exchange.headers,
    body: exchange.body,
    bodyTruncated: exchange.bodyTruncated,
  });
  return message === null ? null : { errorType: 'condition_failed', message };
}

/** What a credential adds to the request: an Authorization header, or a secret placed by secret_placement. */
interface RequestAuth {
  header?: string;
  /** http-digest: answered per hop, after the server's 401 challenge. */
  digest?: { username: string; password: string };
  placed?: { in: (typeof SECRET_PLACES)[number]; name: string; value: string };
  /** Every form of the secret that must not reach a result. */
  secrets: string[];
}
type Authorization = RequestAuth | { error: string };

function authorizationFor(config: HttpProbeConfig, credential: ResolvedCredential | undefined): Authorization {
  if (!credential) {
    return config.credential_id ? { error: `credential ${config.credential_id} was not resolved` } : { secrets: [] };
  }
  if (credential.kind === 'http-secret' && config.secret_placement) {
    const placed = { ...config.secret_placement, value: credential.value };
    return { placed, secrets: [credential.value, new URLSearchParams({ s: credential.value }).toString().slice(2)] };
  }
  if (config.secret_placement) return { error: `secret_placement needs an http-secret credential, not ${credential.kind}` };
  if (credential.kind === 'http-basic') {
    const token = Buffer.from(`${credential.username}:${credential.password}`).toString('base64');
    return { header: `Basic ${token}`, secrets: [credential.password, token] };
  }
  if (credential.kind === 'http-bearer') return { header: `Bearer ${credential.token}`, secrets: [credential.token] };
  if (credential.kind === 'http-digest') return { digest: { username: credential.username, password: credential.password }, secrets: [credential.password] };
  return { error: `a ${credential.kind} credential needs secret_placement in an http probe; or use http-basic or http-bearer` };
}

function isFollowedRedirect(config: HttpProbeConfig, statusCode: number, location: string | undefined): boolean {
  return config.follow_redirects && REDIRECT_STATUSES.has(statusCode) && location !== undefined;
}

/** The last response, and why its redirect was not followed, if it was one that should have been. */
interface RedirectOutcome {
  exchange: HttpExchange;
  redirectFailure: Verdict | null;
}

async function exchangeFollowingRedirects(
  config: HttpProbeConfig,
  signal: AbortSignal,
  auth: RequestAuth,
  trail: Trail,
): Promise<RedirectOutcome> {
  const origin = trail.url.origin;
  for (;;) {
    const sameOrigin = trail.url.origin === origin;
    const send = (digestHeader?: string) =>
      sendHttpRequest(
        {
          url: hopUrl(trail, auth),
          method: trail.method,
          headers: { ...hopHeaders(config, auth, sameOrigin), ...(digestHeader ? { authorization: digestHeader } : {}) },
          body: trail.method === 'POST' ? hopBody(config, auth, sameOrigin) : undefined,
          tlsVerify: config.tls_verify,
          wantsBody: (status, location) => wantsBody(config, status, location),
        },
        signal,
      );
    let exchange = await send();
    trail.cert ??= exchange.cert;
    const digestHeader = sameOrigin ? answerDigest(auth, exchange, trail) : undefined;
    if (digestHeader) exchange = await send(digestHeader);
    if (!isFollowedRedirect(config, exchange.statusCode, exchange.location)) return { exchange, redirectFailure: null };
    const redirectFailure = takeRedirect(config, trail, exchange.statusCode, exchange.location ?? '');
    if (redirectFailure) return { exchange, redirectFailure };
  }
}

/**
 * The Authorization answering a 401's Digest challenge, once per hop; undefined when there is
 * nothing to answer (then the 401 is judged by expect_status like any other answer).
 */
function answerDigest(auth: RequestAuth, exchange: HttpExchange, trail: Trail): string | undefined {
  if (!auth.digest || exchange.statusCode !== 401) return undefined;
  const challenge = pickDigestChallenge(exchange.wwwAuthenticate);
  trail.digest = challenge ? challenge.algorithm : 'no usable Digest challenge (MD5 or SHA-256 with qop=auth) in WWW-Authenticate';
  if (!challenge) return undefined;
  // The digest covers the request-target exactly as sent.
  const sent = hopUrl(trail, auth);
  return digestAuthorization(challenge, { method: trail.method, uri: `${sent.pathname}${sent.search}`, ...auth.digest });
}

/** Read the body only when it decides the verdict: a body check is set and the status passed. */
function wantsBody(config: HttpProbeConfig, statusCode: number, location: string | undefined): boolean {
  if (config.body_contains === undefined && config.body_regex === undefined && !conditionsNeedBody(config.conditions)) return false;
  return !isFollowedRedirect(config, statusCode, location) && statusMatches(config.expect_status, statusCode);
}

/** Headers dropped when a redirect leaves the original origin, as browsers and curl do. */
const SAME_ORIGIN_ONLY = new Set(['authorization', 'proxy-authorization', 'cookie', 'host']);

/**
 * A query-parameter secret goes to the configured URL only, never to a redirect target (which
 * the server chose); trail.url stays without it, as it is what results show.
 */
function hopUrl(trail: Trail, auth: RequestAuth): URL {
  if (auth.placed?.in !== 'query' || trail.redirects.length > 0) return trail.url;
  const url = new URL(trail.url);
  url.searchParams.set(auth.placed.name, auth.placed.value);
  return url;
}

/** A body secret replaces its placeholder only for the original origin, like Authorization. */
function hopBody(config: HttpProbeConfig, auth: RequestAuth, sameOrigin: boolean): string | undefined {
  if (config.body === undefined || auth.placed?.in !== 'body' || !sameOrigin) return config.body;
  return config.body.replaceAll(auth.placed.name, auth.placed.value);
}

function hopHeaders(config: HttpProbeConfig, auth: RequestAuth, sameOrigin: boolean): Record<string, string> {
  const authorization = auth.header;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === 'authorization' && authorization !== undefined) continue;
    if (sameOrigin || !SAME_ORIGIN_ONLY.has(lower)) headers[name] = value;
  }
  if (authorization !== undefined && sameOrigin) headers.authorization = authorization;
  if (auth.placed?.in === 'header' && sameOrigin) headers[auth.placed.name] = auth.placed.value;
  return headers;
}

/** Move the trail to the redirect target, or say why it can't be followed. */
function takeRedirect(config: HttpProbeConfig, trail: Trail, statusCode: number, location: string): Verdict | null {
  if (trail.redirects.length >= config.max_redirects) {
    return { errorType: 'http_error', message: `more than ${config.max_redirects} redirects` };
  }
  const next = URL.parse(location, trail.url.href);
  if (!next || (next.protocol !== 'http:' && next.protocol !== 'https:')) {
    return { errorType: 'http_error', message: `redirect to unsupported location ${JSON.stringify(location)}` };
  }
  trail.redirects.push({ status_code: statusCode, location: publicUrl(next) });
  trail.method = methodAfterRedirect(statusCode, trail.method);
  trail.url = next;
  return null;
}

/** 303 always, and 301/302 after POST, continue as GET (what every client does); 307/308 keep the method. */
function methodAfterRedirect(statusCode: number, method: HttpMethod): HttpMethod {
  if (statusCode === 303 && method !== 'HEAD') return 'GET';
  if ((statusCode === 301 || statusCode === 302) && method === 'POST') return 'GET';
  return method;
}

function classifyFailure(failure: unknown, ctx: ProbeContextWithCredential): Verdict {
  if (ctx.signal.aborted) return { errorType: 'timeout', message: `no response within ${ctx.timeoutMs} ms` };
  // openRequest can also throw before any exchange starts (a header Node refuses): a raw error.
  const err = failure instanceof HttpExchangeError ? failure.cause : failure;
  const code = (err as { code?: unknown } | null)?.code;
  const message = describeConnectError(err);
  if (typeof code === 'string' && code.startsWith('HPE_')) {
    return { errorType: 'http_error', message: `malformed HTTP response: ${message}` };
  }
  // A header or URL Node refuses to send: the configuration's fault (or the credential's), not the target's.
  if (typeof code === 'string' && /^ERR_(HTTP_)?INVALID_/.test(code)) return { errorType: 'config_error', message };
  if (failure instanceof HttpExchangeError) {
    const verdict = classifyByStage(failure, message);
    if (verdict) return verdict;
  }
  const errorType = classifySocketError(err);
  return { errorType, message: errorType === 'tls_error' ? `TLS handshake failed: ${message}` : message };
}

/**
 * Failures whose socket error alone would say network_error but whose stage says more: OpenSSL's
 * EPROTO on a non-TLS answer, or a close or reset mid-handshake, is a TLS failure; a close or
 * reset after the server began its response leaves it incomplete.
 */
function classifyByStage(failure: HttpExchangeError, message: string): Verdict | null {
  if (failure.stage === 'tls_handshake') return { errorType: 'tls_error', message: `TLS handshake failed: ${message}` };
  if (failure.stage === 'reading_body') {
    return { errorType: 'http_error', message: `incomplete HTTP response: the body was cut short (${message})` };
  }
  if (failure.stage !== 'awaiting_headers') return null;
  if (failure.headerBytes > 0) {
    return {
      errorType: 'http_error',
      message: `incomplete HTTP response: the connection ended after ${failure.headerBytes} bytes, before the headers were complete (${message})`,
    };
  }
  // Node's words for a connection closed before any response: "socket hang up".
  if (message === 'socket hang up') return { errorType: 'network_error', message: 'server closed the connection without sending a response' };
  return null;
}

/**
 * Belt and braces: the probe never puts a secret in a result itself, but a target can echo one
 * (a Location carrying the token, say) and a secret must never reach stored history. Strings
 * under 4 characters are skipped, or redacting them would mangle every message.
 */
function redactResult(result: ProbeResult, secrets: readonly string[]): ProbeResult {
  // In a Location (stored in detail.redirects and url) a token is percent-encoded as soon as it
  // holds a character such as + / = or a space, so that form is redacted too.
  const forms = secrets.flatMap((secret) => [secret, encodeURIComponent(secret)]);
  const redactable = [...new Set(forms)].filter((secret) => secret.length >= 4).sort((a, b) => b.length - a.length);
  if (redactable.length === 0) return result;
  const redact = (value: unknown): unknown => {
    if (typeof value === 'string') return redactable.reduce((text, secret) => text.replaceAll(secret, '[redacted]'), value);
    if (Array.isArray(value)) return value.map(redact);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, redact(inner)]));
  };
  return redact(result) as ProbeResult;
}

/** The URL as safe to store: without userinfo. */
function publicUrl(url: URL): string {
  const copy = new URL(url);
  copy.username = '';
  copy.password = '';
  return copy.toString();
}

function trailDetail(trail: Trail, exchange?: HttpExchange): Record<string, unknown> {
  return {
    ...(exchange ? { status_code: exchange.statusCode } : {}),
    method: trail.method,
    url: publicUrl(trail.url),
    ...(trail.redirects.length > 0 ? { redirects: trail.redirects } : {}),
    ...(trail.cert ? { cert_expires_at: trail.cert.expiresAt, cert_days_remaining: trail.cert.daysRemaining } : {}),
    ...(exchange?.bodyBytes !== undefined ? { body_bytes: exchange.bodyBytes } : {}),
    ...(trail.digest !== undefined ? { digest: trail.digest } : {}),
  };
}
