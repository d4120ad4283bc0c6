/**
 * ICMP probe: echo requests to the host's address through fping (batched across hosts, see
 * fping.ts), reporting packets sent and lost and round-trip min/avg/max; fails when the loss or
 * the average round trip is above its limit. IPv4 and IPv6 alike: the address decides.
 */
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { z } from 'zod';
import { classifySocketError, describeError, failed, succeeded } from './errors.ts';
import { BATCH_SPREAD_MS, Pinger } from './fping.ts';
import type { PingStats } from './fping.ts';
import { probeTimeoutSchema } from './probe-timeout.ts';
import type { ProbeContextWithCredential, ProbeResult } from './types.ts';

export const icmpProbeSchema = z
  .object({
    type: z.literal('icmp').describe('Probe type: ICMP echo (ping) to the host address, through fping.'),
    count: z.int().min(1).max(20).default(3).describe('Echo requests to send.'),
    interval_ms: z.int().min(20).max(1000).default(100).describe('Milliseconds between two requests to this host.'),
    max_loss_percent: z.number().min(0).max(100).default(0).describe('Highest packet loss, in percent, that still passes; 0 = every request must be answered. 100% loss always fails.'),
    max_rtt_ms: z.number().positive().max(60_000).optional().describe('Highest average round-trip time that passes, in milliseconds.'),
    family: z.enum(['auto', 'ipv4', 'ipv6']).default('auto').describe("Address family used when the host address is a name; an IP address decides for itself."),
    timeout_ms: probeTimeoutSchema,
  })
  .strict()
  .describe('Succeeds when enough echo requests are answered, fast enough.');

export type IcmpProbeConfig = z.infer<typeof icmpProbeSchema>;

/** Longest wait for one reply: a reply later than this is lost whatever the probe's timeout. */
const MAX_REPLY_WAIT_MS = 2000;
/** Kept back from the budget for starting fping and reading its output. */
const MARGIN_MS = 100;

const pingers = new Map<string, Pinger>();

/**
 * The process-wide pinger for an fping executable: one per process, so every check of every lane
 * lands in the same batches.
 */
export function pingerFor(fpingPath: string): Pinger {
  let pinger = pingers.get(fpingPath);
  if (!pinger) pingers.set(fpingPath, (pinger = new Pinger({ command: [fpingPath] })));
  return pinger;
}

function defaultPinger(): Pinger {
  return pingerFor('/usr/bin/fping');
}

export async function runIcmpProbe(config: IcmpProbeConfig, ctx: ProbeContextWithCredential & { pinger?: Pinger }): Promise<ProbeResult> {
  const startNs = process.hrtime.bigint();
  const spreadMs = (config.count - 1) * config.interval_ms + BATCH_SPREAD_MS;
  const replyTimeoutMs = Math.min(MAX_REPLY_WAIT_MS, ctx.timeoutMs - spreadMs - MARGIN_MS);
  if (replyTimeoutMs < 50) {
    return failed(startNs, 'config_error', `${config.count} requests ${config.interval_ms} ms apart do not fit in the probe's ${ctx.timeoutMs} ms timeout; lower count or interval_ms`);
  }
  let ip: string;
  try {
    ip = await resolveAddress(ctx.address, config.family);
  } catch (err) {
    return failed(startNs, classifySocketError(err), `cannot resolve ${ctx.address}: ${describeError(err)}`);
  }
  // Batches group on equal settings: round the reply wait down to 100 ms so they do.
  const settings = { count: config.count, intervalMs: config.interval_ms, replyTimeoutMs: Math.max(50, Math.floor(replyTimeoutMs / 100) * 100) };
  const outcome = await (ctx.pinger ?? defaultPinger()).ping(ip, settings, ctx.signal);
  if ('error' in outcome) {
    if (ctx.signal.aborted) return failed(startNs, 'timeout', `no ping result within ${ctx.timeoutMs} ms`, { address: ip });
    return failed(startNs, 'internal_error', outcome.error, { address: ip });
  }
  return judge(config, ip, outcome, startNs);
}

async function resolveAddress(address: string, family: IcmpProbeConfig['family']): Promise<string> {
  const literal = net.isIP(address);
  if (literal === 6) return new URL(`http://[${address}]`).hostname.slice(1, -1);
  if (literal === 4) return address;
  const found = await lookup(address, family === 'auto' ? { order: 'ipv4first' } : { family: family === 'ipv4' ? 4 : 6 });
  return found.address;
}

function judge(config: IcmpProbeConfig, ip: string, stats: PingStats, startNs: bigint): ProbeResult {
  const rtts = stats.rttsMs.filter((v): v is number => v !== null);
  const lossPercent = Math.round(((stats.sent - stats.received) / stats.sent) * 1000) / 10;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  const avg = rtts.length ? round(rtts.reduce((a, b) => a + b, 0) / rtts.length) : null;
  const detail = {
    address: ip,
    sent: stats.sent,
    received: stats.received,
    loss_percent: lossPercent,
    rtt_min_ms: rtts.length ? round(Math.min(...rtts)) : null,
    rtt_avg_ms: avg,
    rtt_max_ms: rtts.length ? round(Math.max(...rtts)) : null,
  };
  if (stats.received === 0) return failed(startNs, 'host_unreachable', `no echo reply from ${ip}: ${stats.sent} of ${stats.sent} requests lost`, detail);
  if (lossPercent > config.max_loss_percent) {
    return failed(startNs, 'condition_failed', `condition loss <= ${config.max_loss_percent}% failed: observed ${lossPercent}% (${stats.sent - stats.received} of ${stats.sent} lost)`, detail);
  }
  if (config.max_rtt_ms !== undefined && avg !== null && avg > config.max_rtt_ms) {
    return failed(startNs, 'condition_failed', `condition rtt_avg <= ${config.max_rtt_ms} ms failed: observed ${avg} ms`, detail);
  }
  return succeeded(startNs, detail);
}
