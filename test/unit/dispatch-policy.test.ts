import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { nextCheckDelayMs } from '../../src/machine/schedule.ts';
import { groupTier, queueForState, QUEUES } from '../../src/queue/names.ts';
import { TokenBucket } from '../../src/queue/rate-limit.ts';
import { laneSlots } from '../../src/queue/worker.ts';
import { WorkerActivity } from '../../src/queue/worker-activity.ts';

describe('dispatch rate limit (token bucket)', () => {
  it('allows one second of checks at once, then refills at the rate', () => {
    let now = 0;
    const bucket = new TokenBucket(10, () => now);
    expect(bucket.available()).toBe(10);
    bucket.take(10);
    expect(bucket.available()).toBe(0);
    now = 250;
    expect(bucket.available()).toBe(2);
    now = 60_000; // a long idle spell does not bank more than one second's worth
    expect(bucket.available()).toBe(10);
  });

  it('sustains the configured rate over time', () => {
    let now = 0;
    const bucket = new TokenBucket(7, () => now);
    let dispatched = 0;
    for (now = 0; now <= 10_000; now += 100) {
      const n = bucket.available();
      bucket.take(n);
      dispatched += n;
    }
    // 7/s over 10 s, plus the initial second's allowance.
    expect(dispatched).toBeGreaterThanOrEqual(70);
    expect(dispatched).toBeLessThanOrEqual(77);
  });
});

describe('lanes and slots', () => {
  it.each([
    [{}, 'HEALTHY', QUEUES.checks],
    [{}, 'DEGRADED', QUEUES.checks],
    [{}, 'CRITICAL', QUEUES.failingChecks],
    [{}, 'DOWN', QUEUES.failingChecks],
    [{ VIGIL_FAILING_SHARE: '0' }, 'DOWN', QUEUES.checks],
  ] as const)('with %j a %s host goes to %s', (env, state, queue) => {
    expect(queueForState(state, loadConfig(env))).toBe(queue);
  });

  it.each([
    [{ VIGIL_WORKER_CONCURRENCY: '10' }, { normal: 7, failing: 3 }],
    [{ VIGIL_WORKER_CONCURRENCY: '1' }, { normal: 1, failing: 1 }],
    [{ VIGIL_WORKER_CONCURRENCY: '10', VIGIL_FAILING_SHARE: '0' }, { normal: 10, failing: 0 }],
    [{ VIGIL_WORKER_CONCURRENCY: '100', VIGIL_FAILING_SHARE: '0.5' }, { normal: 50, failing: 50 }],
  ])('%j splits slots as %j', (env, slots) => {
    expect(laneSlots(loadConfig(env))).toEqual(slots);
  });

  it.each([[1, '1'], [5, '5'], [64, '64'], [65, '64'], [99, '80'], [1000, '1000'], [999, '800']])('group limit %i uses tier %s (never more)', (limit, tier) => {
    expect(groupTier(limit)).toBe(tier);
  });
});

describe('interval jitter', () => {
  it('keeps each host on a fixed period and spreads hosts over ± the jitter', () => {
    const config = loadConfig({ VIGIL_HEALTHY_INTERVAL_SECONDS: '300', VIGIL_INTERVAL_JITTER: '0.1' });
    const id = randomUUID();
    expect(nextCheckDelayMs(id, 'HEALTHY', config)).toBe(nextCheckDelayMs(id, 'HEALTHY', config));
    const delays = Array.from({ length: 2000 }, () => nextCheckDelayMs(randomUUID(), 'HEALTHY', config));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(270_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(330_000);
    // Spread across the window: every 6 s slice of the ±30 s range is used.
    expect(new Set(delays.map((d) => Math.min(9, Math.floor((d - 270_000) / 6000)))).size).toBe(10);
  });

  it('never varies an interval by more than 60 s', () => {
    const config = loadConfig({ VIGIL_HEALTHY_INTERVAL_SECONDS: '36000', VIGIL_INTERVAL_JITTER: '0.5' });
    for (let i = 0; i < 200; i++) expect(Math.abs(nextCheckDelayMs(randomUUID(), 'HEALTHY', config) - 36_000_000)).toBeLessThanOrEqual(60_000);
  });
});

describe('worker busy %', () => {
  it('is the share of slot time used over the last minute, counting running checks', () => {
    let now = 0;
    const activity = new WorkerActivity(() => now);
    now = 60_000;
    const a = activity.started();
    now = 90_000;
    a();
    const b = activity.started();
    now = 120_000;
    // 30 s finished + 30 s running out of 60 s × 2 slots.
    expect(activity.busyPercent(2)).toBe(50);
    expect(activity.running).toBe(1);
    b();
    now = 300_000;
    expect(activity.busyPercent(2)).toBe(0);
    expect(activity.done).toBe(2);
  });
});
