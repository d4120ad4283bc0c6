import path from 'node:path';
import type { ResolvedCredential } from '../src/probes/types.ts';
import { FLEET_SECRETS } from './api-client.ts';
import type { BaselineResult, BaselineRun } from './baseline.ts';
import { nextMessage, type ChildExit, type ChildRegistry, type Tracked } from './children.ts';
import type { FleetReady, FleetStart, FleetStopped } from './fleet.ts';
import { planHosts, type FleetLayout, type FleetPorts, type HostDraft } from './fleet-plan.ts';
import type { UsageSampler } from './measure.ts';
import type { BenchOptions } from './options.ts';
import { summarise, type Summary } from './stats.ts';

/** The fleet and baseline child processes: start, talk to over IPC, stop. */

const HERE = import.meta.dirname;

export interface Fleet {
  proc: Tracked;
  ports: FleetPorts;
}

export async function startFleet(registry: ChildRegistry, layout: FleetLayout, opts: BenchOptions, lifetimeMs: number): Promise<Fleet> {
  const proc = registry.spawnNode('fleet', path.join(HERE, 'fleet.ts'), [], { env: {}, ipc: true, echoStderr: true });
  const start: FleetStart = { type: 'start', layout, ssh: FLEET_SECRETS.ssh, snmpCommunity: FLEET_SECRETS.snmpCommunity, slowMs: opts.slowMs, lifetimeMs };
  proc.child.send(start);
  const ready = await nextMessage<FleetReady>(proc, 'ready', 120_000);
  return { proc, ports: ready.ports };
}

export async function stopFleet(registry: ChildRegistry, fleet: Fleet): Promise<Record<string, number>> {
  if (fleet.proc.exited) return {};
  const stopped = nextMessage<FleetStopped>(fleet.proc, 'stopped', 15_000).catch(() => ({ served: {} }));
  fleet.proc.child.send({ type: 'stop' });
  const { served } = await stopped;
  await registry.stop(fleet.proc, 5000);
  return served;
}

/** Placeholder credential ids: the baseline resolves credentials itself, no database involved. */
const BASELINE_CREDENTIAL_IDS = { ssh: '00000000-0000-4000-8000-000000000001', snmp: '00000000-0000-4000-8000-000000000002' };
const BASELINE_CREDENTIALS: Record<string, ResolvedCredential> = {
  [BASELINE_CREDENTIAL_IDS.ssh]: { kind: 'ssh-password', ...FLEET_SECRETS.ssh },
  [BASELINE_CREDENTIAL_IDS.snmp]: { kind: 'snmp-community', community: FLEET_SECRETS.snmpCommunity },
};

export interface BaselineSummary {
  processes: number;
  concurrencyPerProcess: number;
  durationS: number;
  checks: number;
  checksPerSecond: number;
  successShare: number | null;
  responseMs: Summary;
  cpuSeconds: number;
  byBehaviour: Record<string, { checks: number; successes: number }>;
}

/**
 * The raw loop, in as many processes as Vigil has workers and with as many slots each, every
 * process probing its share of the hosts (round-robin) until the deadline.
 */
export async function runBaselinePhase(registry: ChildRegistry, drafts: HostDraft[], ports: FleetPorts, opts: BenchOptions, usage: UsageSampler): Promise<BaselineSummary> {
  const hosts = planHosts(drafts, ports, BASELINE_CREDENTIAL_IDS);
  const durationMs = opts.baselineDuration * 1000;
  const procs = Array.from({ length: opts.workers }, (_, i) => registry.spawnNode(`baseline-${i + 1}`, path.join(HERE, 'baseline.ts'), [], { env: {}, ipc: true, echoStderr: true }));
  const results = await Promise.all(
    procs.map((proc, i) => {
      usage.track(proc.pid, proc.label);
      const run: BaselineRun = {
        type: 'run',
        hosts: hosts.filter((_, j) => j % procs.length === i),
        credentials: BASELINE_CREDENTIALS,
        concurrency: opts.concurrency,
        durationMs,
        timeoutMs: opts.timeoutMs,
        lifetimeMs: durationMs + opts.timeoutMs + 120_000,
      };
      proc.child.send(run);
      return nextMessage<BaselineResult>(proc, 'result', durationMs + opts.timeoutMs + 60_000);
    }),
  );
  await Promise.all(procs.map((p) => registry.stop(p, 5000)));
  return combineBaseline(results, opts);
}

function combineBaseline(results: BaselineResult[], opts: BenchOptions): BaselineSummary {
  const checks = results.reduce((a, r) => a + r.checks, 0);
  const successes = results.reduce((a, r) => a + r.successes, 0);
  const elapsedS = Math.max(...results.map((r) => r.elapsedMs)) / 1000;
  const byBehaviour: BaselineSummary['byBehaviour'] = {};
  for (const r of results) {
    for (const [b, c] of Object.entries(r.byBehaviour)) {
      const into = (byBehaviour[b] ??= { checks: 0, successes: 0 });
      into.checks += c.checks;
      into.successes += c.successes;
    }
  }
  return {
    processes: results.length,
    concurrencyPerProcess: opts.concurrency,
    durationS: elapsedS,
    checks,
    checksPerSecond: checks / Math.max(elapsedS, 1e-3),
    successShare: checks ? successes / checks : null,
    responseMs: summarise(results.flatMap((r) => r.responseMs)),
    cpuSeconds: results.reduce((a, r) => a + r.cpuSeconds, 0),
    byBehaviour,
  };
}

/** Stops Vigil in dependency order: scheduler (no new jobs), workers (finish checks), API. */
export async function stopVigil(registry: ChildRegistry, scheduler: Tracked, workers: Tracked[], api: Tracked, graceMs: number): Promise<{ name: string; exit: ChildExit; problemLines: number }[]> {
  const exits: { name: string; exit: ChildExit; problemLines: number }[] = [];
  const stop = async (t: Tracked) => exits.push({ name: t.label, exit: await registry.stop(t, graceMs), problemLines: t.problemLines });
  await stop(scheduler);
  await Promise.all(workers.map(stop));
  await stop(api);
  return exits;
}
