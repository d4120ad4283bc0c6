/** The ICMP probe through Debian's fping: loopback over IPv4 and IPv6, blackholed addresses in a namespace of the test's own, batching, unprivileged use. */
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Pinger } from '../../src/probes/fping.ts';
import { icmpProbeSchema, runIcmpProbe } from '../../src/probes/icmp.ts';
import type { ProbeResult } from '../../src/probes/types.ts';
import { BLACKHOLE_V4, BLACKHOLE_V6, FPING, blackholeFping, unprivilegedFping } from '../helpers/fping.ts';
import { withProbeContext } from '../helpers/targets.ts';

function ping(address: string, input: Record<string, unknown>, pinger: Pinger, timeoutMs = 5000): Promise<ProbeResult> {
  const config = icmpProbeSchema.parse({ type: 'icmp', ...input });
  return withProbeContext(timeoutMs, (ctx) => runIcmpProbe(config, { ...ctx, pinger }), { address });
}

describe('ICMP probe through fping', () => {
  const pinger = new Pinger({ command: [FPING] });

  it.each(['127.0.0.1', '::1', 'localhost'])('pings %s and reports sent, lost and round trips', async (address) => {
    const result = await ping(address, { count: 3, interval_ms: 20 }, pinger);
    expect(result).toMatchObject({ success: true, detail: { sent: 3, received: 3, loss_percent: 0 } });
    const { rtt_min_ms: min, rtt_avg_ms: avg, rtt_max_ms: max } = result.detail as Record<string, number>;
    expect(min).toBeGreaterThan(0);
    expect(min).toBeLessThanOrEqual(avg!);
    expect(avg).toBeLessThanOrEqual(max!);
  });

  it('fails an average round trip above max_rtt_ms with condition_failed', async () => {
    const result = await ping('127.0.0.1', { count: 2, interval_ms: 20, max_rtt_ms: 0.000001 }, pinger);
    expect(result).toMatchObject({ success: false, errorType: 'condition_failed' });
    expect(result.errorMessage).toMatch(/^condition rtt_avg <= 0.000001 ms failed: observed [\d.]+ ms$/);
  });

  it('refuses a count and interval that cannot fit in the timeout', async () => {
    const result = await ping('127.0.0.1', { count: 20, interval_ms: 1000 }, pinger, 3000);
    expect(result).toMatchObject({ success: false, errorType: 'config_error' });
  });

  it('runs many hosts due together in one fping process', async () => {
    const spawnsBefore = countSpawns(pinger);
    const addresses = Array.from({ length: 40 }, (_, i) => `127.0.${Math.floor(i / 10)}.${(i % 10) + 1}`);
    const results = await Promise.all(addresses.map((address) => ping(address, { count: 2, interval_ms: 20 }, pinger)));
    expect(results.every((r) => r.success)).toBe(true);
    expect(countSpawns(pinger) - spawnsBefore).toBeLessThanOrEqual(2);
  });

  it('says so when fping cannot be run', async () => {
    const missing = new Pinger({ command: ['/nonexistent/fping'] });
    const result = await ping('127.0.0.1', { count: 1 }, missing);
    expect(result).toMatchObject({ success: false, errorType: 'internal_error' });
    expect(result.errorMessage).toMatch(/^fping reported nothing for this address \(it could not be started: fping: spawn \/nonexistent\/fping ENOENT\)$/);
  });

  it('tells the operator what to do when fping has no privileges (a copy without cap_net_raw, as nobody)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-fping-'));
    try {
      chmodSync(dir, 0o755);
      copyFileSync(FPING, join(dir, 'fping'));
      chmodSync(join(dir, 'fping'), 0o755);
      const unprivileged = new Pinger({ command: [...unprivilegedFping.slice(0, -1), join(dir, 'fping')] });
      const result = await ping('127.0.0.1', { count: 1 }, unprivileged);
      expect(result).toMatchObject({ success: false, errorType: 'internal_error' });
      expect(result.errorMessage).toMatch(/^fping could not open an ICMP socket \(exit 4\): run it as root, or give it cap_net_raw/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('works unprivileged, as user nobody (Debian sets cap_net_raw on fping)', async () => {
    const unprivileged = new Pinger({ command: unprivilegedFping });
    const results = await Promise.all(['127.0.0.1', '::1'].map((address) => ping(address, { count: 2, interval_ms: 20 }, unprivileged)));
    expect(results.map((r) => r.success)).toEqual([true, true]);
  });
});

describe('ICMP probe against blackholed addresses (a network namespace of the test own)', () => {
  const pinger = new Pinger({ command: blackholeFping });

  it.each([BLACKHOLE_V4, BLACKHOLE_V6])('reports %s as unreachable with every request lost', async (address) => {
    const result = await ping(address, { count: 2, interval_ms: 50 }, pinger);
    expect(result).toMatchObject({
      success: false,
      errorType: 'host_unreachable',
      errorMessage: `no echo reply from ${address}: 2 of 2 requests lost`,
      detail: { sent: 2, received: 0, loss_percent: 100, rtt_avg_ms: null },
    });
  });

  it('still answers loopback from inside the namespace, in the same batch', async () => {
    const [lost, answered] = await Promise.all([ping(BLACKHOLE_V4, { count: 2, interval_ms: 50 }, pinger), ping('127.0.0.1', { count: 2, interval_ms: 50 }, pinger)]);
    expect(lost.success).toBe(false);
    expect(answered).toMatchObject({ success: true, detail: { received: 2 } });
  });

  it('times out a probe whose own timeout ends first, leaving no process behind', async () => {
    const result = await ping(BLACKHOLE_V4, { count: 3, interval_ms: 100 }, pinger, 600);
    expect(result.errorType === 'timeout' || result.errorType === 'host_unreachable').toBe(true);
    await expect.poll(() => pinger.runningProcesses, { timeout: 10_000 }).toBe(0);
  });
});

/** Spawned fping processes so far, counted through the pinger's batches. */
function countSpawns(pinger: Pinger): number {
  return pinger.launchedProcesses;
}
