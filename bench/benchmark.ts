import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { loadConfig } from '../src/config/config.ts';
import { createFleetCredentials, registerHosts } from './api-client.ts';
import { assembleReport } from './assemble.ts';
import { measureCommitCeiling } from './commit-ceiling.ts';
import type { ChildRegistry } from './children.ts';
import { benchPool, serverFacts, type BenchServer } from './database.ts';
import { ActivitySampler } from './activity.ts';
import { draftFleet, layoutFor, planHosts, type PlannedHost } from './fleet-plan.ts';
import { measureIdleJit } from './load.ts';
import { UsageSampler } from './measure.ts';
import type { BenchOptions } from './options.ts';
import { runBaselinePhase, startFleet, stopFleet, stopVigil } from './phases.ts';
import { summariseProfiles } from './profile.ts';
import type { BenchReport } from './report.ts';
import { runScalePass } from './scale-pass.ts';
import { runOutagePass } from './outage-pass.ts';
import { runFleetPass } from './fleet-pass.ts';
import { connectionBudget, startApiProcess, startSchedulerProcess, startWorkerProcesses, vigilEnv, waitForScheduledCheck } from './vigil-cluster.ts';
import { measureWindow, repeat } from './window.ts';

/**
 * One benchmark run, in order: fleet → raw baseline → Vigil API → bulk registration → workers →
 * idle JIT latency → scheduler → warm-up → measured window (with JIT and state clients) → stop
 * Vigil → scale pass. Every phase is bounded in time; the caller owns the child registry and the
 * database server, and cleans both up whatever happens here.
 */

export interface BenchContext {
  registry: ChildRegistry;
  server: BenchServer;
  log: (line: string) => void;
}

export async function runBenchmark(opts: BenchOptions, ctx: BenchContext): Promise<BenchReport> {
  const startedAt = new Date();
  const dbName = `vigil_bench_${process.pid}`;
  const dbUrl = await ctx.server.createDatabase(dbName);
  const pool = benchPool(dbUrl);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-bench-data-'));
  const usage = new UsageSampler();
  usage.track(process.pid, 'bench client (this process)');
  let sampling: ReturnType<typeof repeat> | undefined;
  try {
    const facts = await serverFacts(pool);
    const notes: string[] = [];
    if (!facts.postmasterPid) notes.push('PostgreSQL runs where /proc cannot see it: its CPU and memory are not measured.');
    const { env, shown } = vigilEnv(opts, dbUrl, dataDir);
    const config = loadConfig(env);
    const budget = connectionBudget(env, opts.workers);
    if (budget > facts.maxConnections - 10) notes.push(`Vigil may open up to ${budget} connections; the server allows ${facts.maxConnections}.`);
    const activity = new ActivitySampler(pool, dbName, usage, facts.postmasterPid);
    sampling = repeat(opts.smoke ? 500 : 1000, async () => {
      usage.sample();
      await activity.sample();
    });

    const commitCeiling = await measureCommitCeiling(dbUrl, Math.min(40, opts.workers * opts.concurrency), opts.smoke ? 1 : 3);
    ctx.log(`commit ceiling: ${commitCeiling.map((c) => `${c.variant} ${c.commits_per_second.toFixed(0)}/s`).join(', ')}`);

    const drafts = draftFleet(opts.hosts, opts.probeMix, opts.failingShare, opts.slowShare);
    const layout = layoutFor(drafts);
    ctx.log(`fleet: ${drafts.length} hosts on ${Object.values(layout).reduce((a, b) => a + b, 0)} listeners`);
    const fleet = await startFleet(ctx.registry, layout, opts, lifetimeMs(opts));
    usage.track(fleet.proc.pid, 'fleet');

    ctx.log(`baseline: ${opts.workers} processes × ${opts.concurrency} slots for ${opts.baselineDuration} s`);
    const baseline = await runBaselinePhase(ctx.registry, drafts, fleet.ports, opts, usage);
    ctx.log(`baseline: ${baseline.checksPerSecond.toFixed(1)} checks/s`);

    // The API's profile goes to a folder of its own: the report's summary is the workers'.
    const apiNodeArgs = opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.join(profileDir(opts), 'api')] : [];
    const { proc: apiProc, api } = await startApiProcess(ctx.registry, env, 'api', apiNodeArgs);
    usage.track(apiProc.pid, 'api');
    const hosts = planHosts(drafts, fleet.ports, await createFleetCredentials(api, String(process.pid)));
    const registration = await registerHosts(api, hosts);
    ctx.log(`registered ${registration.hosts} hosts in ${registration.seconds.toFixed(1)} s`);
    const ids = await hostIds(pool);
    const idOf = (h: PlannedHost) => ids.get(h.name)!;
    const jitTargets = hosts.filter((h) => h.behaviour === 'ok' && (h.type === 'http' || h.type === 'tcp')).map(idOf);

    const nodeArgs = opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profileDir(opts)] : [];
    const workers = await startWorkerProcesses(ctx.registry, env, opts.workers, pool, nodeArgs);
    workers.forEach((w) => usage.track(w.pid, w.label));
    const jitIdle = await measureIdleJit(api, jitTargets, opts.smoke ? 10 : 30);
    ctx.log(`idle JIT p50 ${jitIdle.latencyMs.p50} ms`);

    const scheduler = startSchedulerProcess(ctx.registry, env);
    usage.track(scheduler.pid, 'scheduler');
    await waitForScheduledCheck(pool, scheduler, 60_000);
    ctx.log(`warm-up ${opts.warmup} s, then a ${opts.duration} s window`);
    await new Promise((r) => setTimeout(r, opts.warmup * 1000));
    const window = await measureWindow({ opts, pool, api, usage, activity, postmasterPid: facts.postmasterPid, hostIds: hosts.map(idOf), jitTargets });
    ctx.log(`window: ${(window.checks.scheduledRecorded / window.seconds).toFixed(1)} scheduled checks/s`);

    const exits = await stopVigil(ctx.registry, scheduler, workers, apiProc, opts.timeoutMs + 15_000);
    const profile = opts.cpuProf ? await summariseProfiles(profileDir(opts)) : null;
    const served = await stopFleet(ctx.registry, fleet);
    await sampling.stop();

    ctx.log(`scale pass: ${opts.scaleHosts.join(' → ')} hosts`);
    const scale = await runScalePass({ sizes: opts.scaleHosts, server: ctx.server, registry: ctx.registry, env, config, log: ctx.log });
    ctx.log(`outage pass: ${opts.outageHosts} hosts behind a gateway, down ${opts.outageSeconds} s, without and with dependencies`);
    const bystanders = Math.max(100, Math.round(opts.outageHosts / 2));
    const outage = await runOutagePass({ server: ctx.server, registry: ctx.registry, env, children: opts.outageHosts, bystanders, outageSeconds: opts.outageSeconds, log: ctx.log });
    let largeFleet;
    if (opts.fleetHosts > 0) {
      ctx.log(`fleet pass: ${opts.fleetHosts} hosts on the seed's intervals, a ${opts.fleetSeconds} s window`);
      largeFleet = await runFleetPass({ server: ctx.server, registry: ctx.registry, env, hosts: opts.fleetHosts, failingShare: opts.fleetFailingShare, seconds: opts.fleetSeconds, postmasterPid: facts.postmasterPid, log: ctx.log });
    }
    const report = assembleReport({
      opts, startedAt, facts, serverKind: ctx.server.kind, vigilEnv: shown, drafts, layout, served, registration, baseline, jitIdle,
      window, activity: activity.summary(), usage: usage.usage(), exits, profile, scale, commitCeiling, notes,
    });
    return { ...report, outage, ...(largeFleet ? { large_fleet: largeFleet } : {}) };
  } finally {
    await sampling?.stop();
    await pool.end();
    await rm(dataDir, { recursive: true, force: true });
    await ctx.server.dropDatabase(dbName).catch(() => {});
  }
}

async function hostIds(pool: pg.Pool): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ id: string; name: string }>(`SELECT id, name FROM hosts`);
  return new Map(rows.map((r) => [r.name, r.id]));
}

function profileDir(opts: BenchOptions): string {
  return path.resolve(opts.resultsDir, 'prof', String(process.pid));
}

/** The longest a run should take; children get it as their lifetime, run.ts as its watchdog. */
export function lifetimeMs(opts: BenchOptions): number {
  // The outage pass: two variants, each a start, a warm-up of up to two minutes and the outage.
  const phases = opts.baselineDuration + opts.warmup + opts.duration + opts.timeoutMs / 1000 + 2 * (opts.outageSeconds + 180)
    // The fleet pass: registration (thousands of hosts a second), a start, and its window.
    + (opts.fleetHosts > 0 ? opts.fleetSeconds + opts.fleetHosts / 1000 + 180 : 0);
  const scale = opts.scaleHosts.at(-1)! / 1000; // bulk registration runs at thousands of hosts a second
  return (2 * (phases + scale) + 600) * 1000;
}
