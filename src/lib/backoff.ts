import { coerceError } from './errors.ts';
import type { Logger } from './logger.ts';
import { delay } from './time.ts';

export interface Backoff {
  /** Delay after the first failure. */
  baseMs: number;
  /** The delay stops doubling here. */
  maxMs: number;
  /** Spread retries over [0, delay) (full jitter), so processes failing together do not retry together. */
  jitter?: boolean;
}

/** How long to wait after `failures` consecutive failures: doubling from `baseMs`, capped at `maxMs`. */
export function backoffMs(failures: number, b: Backoff): number {
  const ms = Math.min(b.maxMs, b.baseMs * 2 ** Math.max(0, Math.min(failures - 1, 20)));
  return b.jitter ? Math.random() * ms : ms;
}

/** Background loops retry a failing pass after 1 s, 2 s, 4 s … up to 30 s. */
export const LOOP_BACKOFF: Backoff = { baseMs: 1000, maxMs: 30_000 };

export interface BackgroundLoop {
  /** Names the loop in its log lines, e.g. 'producer pass'. */
  name: string;
  logger: Logger;
  signal: AbortSignal;
  /** One pass; returns how long to wait before the next one. */
  pass: () => Promise<number>;
  backoff?: Backoff;
}

/**
 * Runs `pass` until `signal` aborts. A pass that throws is logged and retried with backoff; the
 * loop itself never throws, so a database outage slows a background role down but never ends it.
 */
export async function runBackgroundLoop(loop: BackgroundLoop): Promise<void> {
  let failures = 0;
  while (!loop.signal.aborted) {
    let waitMs: number;
    try {
      waitMs = await loop.pass();
      failures = 0;
    } catch (err) {
      failures++;
      waitMs = backoffMs(failures, loop.backoff ?? LOOP_BACKOFF);
      loop.logger.error(`${loop.name} failed; retrying`, { err: coerceError(err).message, consecutive_failures: failures, retry_in_ms: waitMs });
    }
    await delay(waitMs, loop.signal).catch(() => {});
  }
}
