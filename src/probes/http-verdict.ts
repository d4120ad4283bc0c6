/**
 * Judging an HTTP response against the probe config: status first, then body. Pure functions,
 * shared by the schema (status ranges) and the probe.
 */
import { MAX_BODY_BYTES } from './http-request.ts';
import type { HttpExchange } from './http-request.ts';
import type { HttpProbeConfig } from './http.ts';
import { compilePattern } from './pattern.ts';
import type { ErrorType } from './types.ts';

/** An inclusive status range as written in expect_status, e.g. "200-399". */
export const STATUS_RANGE = /^([1-5]\d\d)-([1-5]\d\d)$/;

/** The statuses that carry a Location to follow. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Why a check failed, before it becomes a ProbeResult. */
export interface Verdict {
  errorType: ErrorType;
  message: string;
}

/** null when the response passes: its status is expected and its body, if checked, matches. */
export function judgeExchange(config: HttpProbeConfig, exchange: HttpExchange): Verdict | null {
  if (!statusMatches(config.expect_status, exchange.statusCode)) {
    return { errorType: 'unexpected_status', message: describeUnexpectedStatus(config, exchange) };
  }
  const mismatch = describeBodyMismatch(config, exchange);
  return mismatch ? { errorType: 'body_mismatch', message: mismatch } : null;
}

/** Low and high of a range string; NaNs (matching nothing) if it is malformed. */
export function parseStatusRange(range: string): [number, number] {
  const match = STATUS_RANGE.exec(range);
  return match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
}

export function statusMatches(expected: readonly (number | string)[], statusCode: number): boolean {
  return expected.some((item) => {
    if (typeof item === 'number') return item === statusCode;
    const [low, high] = parseStatusRange(item);
    return statusCode >= low && statusCode <= high;
  });
}

/** An unfollowed redirect names its target: the usual fix is follow_redirects or the new URL. */
function describeUnexpectedStatus(config: HttpProbeConfig, exchange: HttpExchange): string {
  const message = `expected status ${config.expect_status.join(', ')}, got ${exchange.statusCode}`;
  const unfollowed = !config.follow_redirects && REDIRECT_STATUSES.has(exchange.statusCode);
  if (!unfollowed || !exchange.location) return message;
  return `${message} (redirect to ${exchange.location}; follow_redirects is off)`;
}

function describeBodyMismatch(config: HttpProbeConfig, exchange: HttpExchange): string | null {
  const body = exchange.body ?? '';
  const scope = exchange.bodyTruncated ? `the first ${MAX_BODY_BYTES} bytes of the body` : 'the body';
  if (config.body_contains !== undefined && !body.includes(config.body_contains)) {
    return `${scope} does not contain ${JSON.stringify(config.body_contains)}`;
  }
  if (config.body_regex !== undefined && !compilePattern(config.body_regex).test(body)) {
    return `${scope} does not match /${config.body_regex}/`;
  }
  return null;
}
