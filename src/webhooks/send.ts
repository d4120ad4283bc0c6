import http from 'node:http';
import https from 'node:https';
import { coerceError } from '../lib/errors.ts';

/** What one POST to a receiver came to. A receiver failing is a result, never a throw. */
export interface SendResult {
  /** 2xx: the receiver took it. */
  delivered: boolean;
  /** The answer's status; null when none came (refused, timed out, TLS error). */
  statusCode: number | null;
  /** Why it was not delivered; null when it was. */
  error: string | null;
  /** Until the answer's headers (or the failure). */
  latencyMs: number;
}

const MAX_ERROR_LENGTH = 500;

/**
 * POSTs `body` to `url` and resolves on the answer's status line; the answer's body is not read.
 * Redirects are not followed (a 3xx is a failure: the subscription should name the final URL, and
 * following one would send the event somewhere nobody subscribed). `timeoutMs` bounds the whole
 * exchange up to the answer's headers. A fresh connection per attempt (no keep-alive pool), so a
 * dead receiver never holds sockets between attempts.
 */
export function postWebhook(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<SendResult> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  const signal = AbortSignal.timeout(timeoutMs);
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  return new Promise((resolve) => {
    const req = client.request(target, { method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, signal, agent: false }, (res) => {
      const statusCode = res.statusCode ?? 0;
      res.destroy();
      resolve({ delivered: statusCode >= 200 && statusCode < 300, statusCode, error: statusError(statusCode), latencyMs: elapsed() });
    });
    req.on('error', (err) => {
      const error = signal.aborted ? `no answer within ${timeoutMs} ms` : coerceError(err).message.slice(0, MAX_ERROR_LENGTH);
      resolve({ delivered: false, statusCode: null, error, latencyMs: elapsed() });
    });
    req.end(body);
  });
}

function statusError(statusCode: number): string | null {
  if (statusCode >= 200 && statusCode < 300) return null;
  if (statusCode >= 300 && statusCode < 400) return `HTTP ${statusCode}: redirects are not followed; subscribe the final URL`;
  return `HTTP ${statusCode}`;
}
