import type { Api } from './api-client.ts';
import { summarise, type Summary } from './stats.ts';

/**
 * The API clients that run beside the scheduled load: JIT checks with wait=true and host state
 * reads. Both are open loops (a request every 1/rate seconds whether or not earlier ones
 * answered — a closed loop would slow down with the system and hide its latency), bounded in
 * time, in count and in requests in flight (beyond that a tick is dropped and counted).
 */

/** How one request went: answered in full, answered "not done yet" (JIT 202), or failed. */
export type Outcome = 'ok' | 'pending' | 'error';

export interface LoadResult {
  sent: number;
  ok: number;
  pending: number;
  errors: number;
  dropped: number;
  /** Latency of the 'ok' answers, ms. */
  latencyMs: Summary;
  /** First few error messages, for the report. */
  errorSamples: string[];
}

export interface OpenLoop {
  ratePerSecond: number;
  durationMs: number;
  maxInFlight: number;
  request: () => Promise<Outcome>;
}

export async function runOpenLoop(loop: OpenLoop, signal?: AbortSignal): Promise<LoadResult> {
  const latencies: number[] = [];
  const result = { sent: 0, ok: 0, pending: 0, errors: 0, dropped: 0, errorSamples: [] as string[] };
  if (loop.ratePerSecond <= 0) return { ...result, latencyMs: summarise([]) };
  const periodMs = 1000 / loop.ratePerSecond;
  const maxTicks = Math.ceil(loop.durationMs / periodMs);
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (let tick = 0; tick < maxTicks && !signal?.aborted; tick++) {
    const wait = start + tick * periodMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (inFlight.size >= loop.maxInFlight) {
      result.dropped++;
      continue;
    }
    result.sent++;
    const t0 = performance.now();
    const p: Promise<void> = loop.request().then(
      (outcome) => {
        result[outcome === 'ok' ? 'ok' : outcome === 'pending' ? 'pending' : 'errors']++;
        if (outcome === 'ok') latencies.push(performance.now() - t0);
      },
      (err) => {
        result.errors++;
        if (result.errorSamples.length < 5) result.errorSamples.push((err as Error).message);
      },
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }
  await Promise.all(inFlight);
  return { ...result, latencyMs: summarise(latencies) };
}

/** Seconds a JIT request waits server-side before answering 202. */
export const JIT_WAIT_SECONDS = 10;

export function jitRequest(api: Api, hostIds: readonly string[]): () => Promise<Outcome> {
  let next = 0;
  return async () => {
    const id = hostIds[next++ % hostIds.length]!;
    const res = await fetch(`${api.url}/api/monitoring/hosts/${id}/check-connectivity?wait=true&timeout=${JIT_WAIT_SECONDS}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}` },
      signal: AbortSignal.timeout((JIT_WAIT_SECONDS + 5) * 1000),
    });
    await res.arrayBuffer();
    if (res.status === 200) return 'ok';
    if (res.status === 202) return 'pending';
    throw new Error(`JIT check answered ${res.status}`);
  };
}

export function stateRequest(api: Api, hostIds: readonly string[]): () => Promise<Outcome> {
  let next = 0;
  return async () => {
    const id = hostIds[next++ % hostIds.length]!;
    const res = await fetch(`${api.url}/api/monitoring/hosts/${id}/state`, {
      headers: { authorization: `Bearer ${api.token}` },
      signal: AbortSignal.timeout(15_000),
    });
    await res.arrayBuffer();
    if (res.status === 200) return 'ok';
    throw new Error(`state read answered ${res.status}`);
  };
}

/** JIT latency with nothing else going on: `count` requests one after another (after `warmup` unmeasured ones). */
export async function measureIdleJit(api: Api, hostIds: readonly string[], count: number, warmup = 3): Promise<LoadResult> {
  const request = jitRequest(api, hostIds);
  for (let i = 0; i < warmup; i++) await request().catch(() => 'error');
  const latencies: number[] = [];
  const result = { sent: 0, ok: 0, pending: 0, errors: 0, dropped: 0, errorSamples: [] as string[] };
  for (let i = 0; i < count; i++) {
    result.sent++;
    const t0 = performance.now();
    const outcome = await request().catch((err: Error) => {
      if (result.errorSamples.length < 5) result.errorSamples.push(err.message);
      return 'error' as const;
    });
    result[outcome === 'ok' ? 'ok' : outcome === 'pending' ? 'pending' : 'errors']++;
    if (outcome === 'ok') latencies.push(performance.now() - t0);
  }
  return { ...result, latencyMs: summarise(latencies) };
}
