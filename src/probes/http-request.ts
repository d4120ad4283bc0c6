/**
 * One HTTP(S) request/response exchange for the HTTP probe, on its own connection. Rejects with
 * an {@link HttpExchangeError} around the raw error, saying how far the exchange got (the probe
 * classifies it); always releases the request, response and socket, whichever way it ends.
 */
import http from 'node:http';
import https from 'node:https';
import { TLSSocket } from 'node:tls';
import type { ClientRequest, IncomingMessage } from 'node:http';

/** The body is read only to match it; the cap bounds one check's memory whatever the target sends. */
export const MAX_BODY_BYTES = 1024 * 1024;

const DAY_MS = 24 * 60 * 60 * 1000;

export interface HttpRequestSpec {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Verify the server certificate chain and name (https only). */
  tlsVerify: boolean;
  /** Whether the response body is needed; when not, the response is dropped after the headers. */
  wantsBody: (statusCode: number, location: string | undefined) => boolean;
}

/** The peer certificate's expiry, read even when verification is off. */
export interface PeerCertificateInfo {
  /** ISO 8601 time of the certificate's notAfter. */
  expiresAt: string;
  /** Days until expiry, to 0.1 day; negative once expired. */
  daysRemaining: number;
}

export interface HttpExchange {
  statusCode: number;
  /** The raw Location header, if any. */
  location?: string;
  /** Response headers as Node parsed them (names lower-cased). */
  headers: IncomingMessage['headers'];
  /** Every WWW-Authenticate header value, kept apart (Node would join them with commas). */
  wwwAuthenticate: string[];
  cert?: PeerCertificateInfo;
  /** The body as UTF-8 text, when it was read: at most MAX_BODY_BYTES of it. */
  body?: string;
  /** Bytes of body read (not the full length when truncated). */
  bodyBytes?: number;
  /** True when the body was longer than MAX_BODY_BYTES and only its start was read. */
  bodyTruncated?: boolean;
}

/**
 * How far an exchange got. The same socket error means different things at each stage: a reset
 * or close during the TLS handshake is a TLS failure (often a version or cipher the server will
 * not speak), and one after the server began its response leaves an incomplete HTTP response.
 */
export type ExchangeStage = 'connecting' | 'tls_handshake' | 'awaiting_headers' | 'reading_body';

/** Why an exchange failed: the raw error (`cause`) and where it happened. */
export class HttpExchangeError extends Error {
  readonly stage: ExchangeStage;
  /** Response bytes (decrypted, for HTTPS) received before the headers were complete. */
  readonly headerBytes: number;
  constructor(cause: unknown, stage: ExchangeStage, headerBytes: number) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.stage = stage;
    this.headerBytes = headerBytes;
  }
}

export function sendHttpRequest(spec: HttpRequestSpec, signal: AbortSignal): Promise<HttpExchange> {
  if (signal.aborted) return Promise.reject(new HttpExchangeError(signal.reason, 'connecting', 0));
  return new Promise((resolve, reject) => {
    const req = openRequest(spec);
    let res: IncomingMessage | undefined;
    let stage: ExchangeStage = 'connecting';
    let headerBytes = 0;
    const release = (): void => {
      signal.removeEventListener('abort', onAbort);
      res?.destroy();
      req.destroy();
    };
    const fail = (err: unknown): void => {
      release();
      reject(new HttpExchangeError(err, stage, headerBytes));
    };
    const onAbort = (): void => fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    req.once('socket', (socket) => {
      socket.once('connect', () => (stage = spec.url.protocol === 'https:' ? 'tls_handshake' : 'awaiting_headers'));
      socket.once('secureConnect', () => (stage = 'awaiting_headers'));
      socket.on('data', (chunk: Buffer) => {
        if (stage === 'awaiting_headers') headerBytes += chunk.length;
      });
    });
    // `on`, not `once`: an error after settling (e.g. from our own destroy) must not go uncaught.
    req.on('error', fail);
    req.once('response', (response) => {
      res = response;
      stage = 'reading_body';
      readExchange(response, spec).then((exchange) => {
        release();
        resolve(exchange);
      }, fail);
    });
    req.end(spec.body);
  });
}

function openRequest(spec: HttpRequestSpec): ClientRequest {
  const options = { method: spec.method, headers: spec.headers, agent: false as const };
  if (spec.url.protocol === 'https:') {
    return https.request(spec.url, { ...options, rejectUnauthorized: spec.tlsVerify });
  }
  return http.request(spec.url, options);
}

async function readExchange(res: IncomingMessage, spec: HttpRequestSpec): Promise<HttpExchange> {
  res.on('error', () => {}); // reported through readBody or the request; never uncaught
  const statusCode = res.statusCode ?? 0;
  const location = res.headers.location;
  const wwwAuthenticate = res.headersDistinct['www-authenticate'] ?? [];
  const exchange: HttpExchange = { statusCode, location, headers: res.headers, wwwAuthenticate, cert: readPeerCertificate(res) };
  if (!spec.wantsBody(statusCode, location)) return exchange;
  return { ...exchange, ...(await readBody(res)) };
}

function readPeerCertificate(res: IncomingMessage): PeerCertificateInfo | undefined {
  if (!(res.socket instanceof TLSSocket)) return undefined;
  const validTo = res.socket.getPeerCertificate().valid_to;
  const expires = validTo ? new Date(validTo) : undefined;
  if (!expires || Number.isNaN(expires.getTime())) return undefined;
  const daysRemaining = Math.round(((expires.getTime() - Date.now()) / DAY_MS) * 10) / 10;
  return { expiresAt: expires.toISOString(), daysRemaining };
}

type BodyRead = Pick<HttpExchange, 'body' | 'bodyBytes' | 'bodyTruncated'>;

/** Read the body up to MAX_BODY_BYTES, then stop reading (the caller destroys the response). */
function readBody(res: IncomingMessage): Promise<BodyRead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const finish = (truncated: boolean): void =>
      resolve({ body: Buffer.concat(chunks).toString('utf8'), bodyBytes: bytes, bodyTruncated: truncated });
    res.on('data', (chunk: Buffer) => {
      const room = MAX_BODY_BYTES - bytes;
      chunks.push(chunk.subarray(0, room));
      bytes += Math.min(chunk.length, room);
      if (chunk.length > room) {
        res.pause();
        finish(true);
      }
    });
    res.once('end', () => finish(false));
    res.once('error', reject);
    res.once('close', () => reject(new Error('connection closed before the response body ended')));
  });
}
