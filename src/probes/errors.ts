import type { ErrorType, ProbeResult } from './types.ts';

/** Node/libuv error codes -> the error type a user can act on. */
const SOCKET_ERROR_TYPES: Record<string, ErrorType> = {
  ECONNREFUSED: 'connection_refused',
  ENOTFOUND: 'dns_failure',
  EAI_AGAIN: 'dns_failure',
  EAI_NONAME: 'dns_failure',
  EAI_FAIL: 'dns_failure',
  ETIMEDOUT: 'timeout',
  ABORT_ERR: 'timeout',
  EHOSTUNREACH: 'host_unreachable',
  ENETUNREACH: 'host_unreachable',
  ECONNRESET: 'network_error',
  EPIPE: 'network_error',
  EADDRNOTAVAIL: 'network_error',
};

const TLS_CODE = /^(ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_SSL_)/;

/** Classify any error thrown by a socket, TLS or DNS operation. */
export function classifySocketError(err: unknown): ErrorType {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (code in SOCKET_ERROR_TYPES) return SOCKET_ERROR_TYPES[code]!;
    if (TLS_CODE.test(code)) return 'tls_error';
  }
  if ((err as { name?: unknown } | null)?.name === 'AbortError') return 'timeout';
  return 'network_error';
}

/** A message safe to store and show: the error's own message, or its string form. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** Milliseconds elapsed since `startNs` (from process.hrtime.bigint()), to 0.1 ms. */
export function elapsedMs(startNs: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - startNs) / 1e5) / 10;
}

export function succeeded(startNs: bigint, detail: Record<string, unknown> = {}): ProbeResult {
  return { success: true, responseTimeMs: elapsedMs(startNs), errorType: null, errorMessage: null, detail };
}

export function failed(
  startNs: bigint,
  errorType: ErrorType,
  errorMessage: string,
  detail: Record<string, unknown> = {},
): ProbeResult {
  return { success: false, responseTimeMs: elapsedMs(startNs), errorType, errorMessage, detail };
}
