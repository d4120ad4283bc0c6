/**
 * The raw probe baseline, in its own process: Vigil's probe functions (src/probes) fired from a
 * plain concurrency-limited loop over the same targets — no queue, no database, no state machine.
 * What this reaches is the physical limit of the probes on this machine for that many slots.
 *
 * Protocol: parent sends `run` → we probe until the deadline (and at most MAX_CHECKS), send
 * `result`, and exit. We also exit when the parent goes away.
 */
import { credentialIdOf, leafProbeSchema, runProbe, type LeafProbeConfig } from '../src/probes/index.ts';
import type { ProbeResult, ResolvedCredential } from '../src/probes/types.ts';
import { exitWithParent } from './children.ts';
import { LOOPBACK, type Behaviour, type PlannedHost } from './fleet-plan.ts';

export interface BaselineRun {
  type: 'run';
  hosts: PlannedHost[];
  /** Credentials by the id the hosts' probes reference. */
  credentials: Record<string, ResolvedCredential>;
  concurrency: number;
  durationMs: number;
  timeoutMs: number;
  lifetimeMs: number;
}

export interface BaselineResult {
  type: 'result';
  checks: number;
  successes: number;
  /** From the first probe's start to the last one's end. */
  elapsedMs: number;
  byBehaviour: Partial<Record<Behaviour, { checks: number; successes: number }>>;
  /** Probe response times (the first MAX_SAMPLES). */
  responseMs: number[];
  cpuSeconds: number;
}

/** Bounds the loop even if probes returned instantly. */
const MAX_CHECKS = 20_000_000;
const MAX_SAMPLES = 200_000;

interface Target {
  behaviour: Behaviour;
  config: LeafProbeConfig;
  credential: ResolvedCredential | undefined;
}

async function runBaseline(msg: BaselineRun): Promise<BaselineResult> {
  const targets: Target[] = msg.hosts.map((h) => {
    const config = leafProbeSchema.parse(h.probe);
    const id = credentialIdOf(config);
    return { behaviour: h.behaviour, config, credential: id ? msg.credentials[id] : undefined };
  });
  const result: BaselineResult = { type: 'result', checks: 0, successes: 0, elapsedMs: 0, byBehaviour: {}, responseMs: [], cpuSeconds: 0 };
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const deadline = start + msg.durationMs;
  let next = 0;
  const lane = async () => {
    while (performance.now() < deadline && next < MAX_CHECKS) {
      const target = targets[next++ % targets.length]!;
      record(result, target.behaviour, await probeOnce(target, msg.timeoutMs));
    }
  };
  await Promise.all(Array.from({ length: msg.concurrency }, lane));
  result.elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  result.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return result;
}

/** What the worker does around a probe, minus everything Vigil adds: a timeout signal and the call. */
function probeOnce(target: Target, timeoutMs: number): Promise<ProbeResult> {
  const signal = AbortSignal.timeout(timeoutMs);
  return runProbe(target.config, { address: LOOPBACK, signal, timeoutMs, credential: target.credential });
}

function record(result: BaselineResult, behaviour: Behaviour, probe: ProbeResult): void {
  result.checks++;
  if (probe.success) result.successes++;
  const b = (result.byBehaviour[behaviour] ??= { checks: 0, successes: 0 });
  b.checks++;
  if (probe.success) b.successes++;
  if (result.responseMs.length < MAX_SAMPLES) result.responseMs.push(probe.responseTimeMs);
}

process.on('message', (message: BaselineRun) => {
  if (message.type !== 'run') return;
  exitWithParent(message.lifetimeMs);
  runBaseline(message).then(
    (result) => process.send!(result, () => process.exit(0)),
    (err) => {
      console.error('baseline failed:', err);
      process.exit(1);
    },
  );
});
