import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { coerceError } from '../lib/errors.ts';
import { resolveReceiver, type ReceiverPolicy } from './receiver-address.ts';

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
export async function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  policy: ReceiverPolicy,
): Promise<SendResult> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  const signal = AbortSignal.timeout(timeoutMs);
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  const receiver = await resolveReceiver(target.hostname, policy);
  if ('error' in receiver) return { delivered: false, statusCode: null, error: receiver.error, latencyMs: elapsed() };
  // Connect to the address just checked, not to whatever a second lookup would return.
  const pinned: LookupFunction = (_host, options, callback) =>
    options.all ? callback(null, [receiver]) : callback(null, receiver.address, receiver.family);
  return new Promise((resolve) => {
    const options = { method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, signal, agent: false, lookup: pinned };
    const req = client.request(target, options, (res) => {
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
