import os from 'node:os';
import type { ChildExit } from './children.ts';
import type { ServerFacts } from './database.ts';
import { vacuumedGrowthByTable } from './db-metrics.ts';
import { countBy, BEHAVIOURS, PROBE_TYPES, type FleetLayout, type HostDraft } from './fleet-plan.ts';
import type { LoadResult } from './load.ts';
import type { GroupUsage } from './measure.ts';
import type { BenchOptions } from './options.ts';
import type { BaselineSummary } from './phases.ts';
import type { ProfileSummary } from './profile.ts';
import type { BenchReport } from './report.ts';
import type { Registration } from './api-client.ts';
import type { WindowMeasurement } from './window.ts';
import type { ActivitySummary } from './activity.ts';
import { DUE_INDEX } from './scale.ts';

/** Turns the measurements into the report (and the notes that say how to read it). */

export interface Measurements {
  opts: BenchOptions;
  startedAt: Date;
  facts: ServerFacts;
  serverKind: 'external' | 'embedded';
  vigilEnv: Record<string, string>;
  drafts: HostDraft[];
  layout: FleetLayout;
  served: Record<string, number>;
  registration: Registration;
  baseline: BaselineSummary;
  jitIdle: LoadResult;
  window: WindowMeasurement;
  activity: ActivitySummary;
  usage: GroupUsage[];
  exits: { name: string; exit: ChildExit; problemLines: number }[];
  profile: ProfileSummary | null;
  scale: BenchReport['scale'];
  commitCeiling: BenchReport['database']['commit_ceiling'];
  notes: string[];
}

const MB = 2 ** 20;
const isVigil = (group: string) => /^(api|scheduler|worker-\d+)$/.test(group);
/** Postgres processes that serve Vigil (not this benchmark's own queries, not other databases). */
const isVigilPostgres = (group: string) => group.startsWith('postgres [') && !/\[(bench client|other databases)\]/.test(group);

export function assembleReport(m: Measurements): BenchReport {
  const w = m.window;
  const checks = w.checks.scheduledRecorded + w.checks.jitRecorded;
  const { vacuumedBefore: vb, vacuumedAfter: va } = w;
  const afterVacuum = vb && va ? va.size - va.reusable - (vb.size - vb.reusable) : null;
  const cpuOf = (pick: (g: string) => boolean) => m.usage.filter((u) => pick(u.group)).reduce((a, u) => a + u.cpuSecondsWindow, 0);
  const perCheck = (cpuSeconds: number) => (checks ? (cpuSeconds * 1000) / checks : null);
  const vigilCpu = cpuOf(isVigil);
  const pgCpu = cpuOf(isVigilPostgres);
  const scheduledPerSecond = w.checks.scheduledRecorded / w.seconds;
  const rowsWritten = w.rowsWritten.reduce((a, r) => a + r.inserted + r.updated + r.deleted, 0);
  const report: BenchReport = {
    schema_version: 1,
    started_at: m.startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    smoke: m.opts.smoke,
    machine: machine(m),
    parameters: parameters(m),
    fleet: {
      hosts: m.drafts.length,
      by_type: countBy(m.drafts, (d) => d.type, PROBE_TYPES),
      by_behaviour: countBy(m.drafts, (d) => d.behaviour, BEHAVIOURS),
      layout: { ...m.layout },
      served: m.served,
    },
    registration: { hosts: m.registration.hosts, requests: m.registration.requests, seconds: m.registration.seconds, hosts_per_second: m.registration.hostsPerSecond },
    baseline: {
      processes: m.baseline.processes,
      concurrency_per_process: m.baseline.concurrencyPerProcess,
      duration_s: m.baseline.durationS,
      checks: m.baseline.checks,
      checks_per_second: m.baseline.checksPerSecond,
      success_share: m.baseline.successShare,
      response_ms: m.baseline.responseMs,
      cpu_seconds: m.baseline.cpuSeconds,
      cpu_ms_per_check: m.baseline.checks ? (m.baseline.cpuSeconds * 1000) / m.baseline.checks : null,
      by_behaviour: m.baseline.byBehaviour,
    },
    system: {
      window_s: w.seconds,
      offered_checks_per_second: m.opts.hosts / m.opts.interval,
      scheduled_checks: w.checks.scheduledRecorded,
      scheduled_checks_per_second: scheduledPerSecond,
      jit_checks: w.checks.jitRecorded,
      ratio_to_baseline: m.baseline.checksPerSecond > 0 ? scheduledPerSecond / m.baseline.checksPerSecond : null,
      schedule_lag_ms: { count: w.checks.lagCount, ...w.checks.lagMs },
      delayed_share: w.checks.delayedShare,
      success_share: w.checks.successShare,
      probe_ms: w.checks.probeMs,
      by_lane: w.checks.byLane,
      by_behaviour: w.checks.byBehaviour,
      cpu_ms_per_check: { vigil: perCheck(vigilCpu), postgres: perCheck(pgCpu), total: perCheck(vigilCpu + pgCpu) },
      check_timeline: w.timeline && {
        checks: w.timeline.checks,
        segments: w.timeline.segments,
        slot_share_in_job: w.timeline.slotShareInJob,
        slot_share_in_probe: w.timeline.slotShareInProbe,
      },
      jit_timeline: w.jitTimeline && { checks: w.jitTimeline.checks, segments: w.jitTimeline.segments },
      slot_use: { samples: w.slots.samples, active_jobs: w.slots.activeJobs, probes_running_mean: w.slots.probesRunningMean },
      queue_at_end: w.queue,
      workers_at_end: w.workers,
    },
    jit: { idle: toLoad(m.jitIdle), under_load: toLoad(w.jit) },
    state_reads: toLoad(w.stateReads),
    processes: processes(m),
    database: {
      size_before_bytes: w.sizeBefore,
      size_after_bytes: w.sizeAfter,
      growth_bytes: w.sizeAfter - w.sizeBefore,
      growth_mb_per_million_checks: checks ? ((w.sizeAfter - w.sizeBefore) / MB / checks) * 1e6 : null,
      growth_after_vacuum_bytes: afterVacuum,
      growth_after_vacuum_mb_per_million_checks: checks && afterVacuum !== null ? (afterVacuum / MB / checks) * 1e6 : null,
      growth_after_vacuum_by_table: vb && va ? vacuumedGrowthByTable(vb, va).slice(0, 10).map((t) => ({ ...t, bytes_per_check: checks ? t.bytes / checks : null })) : null,
      history_rows_in_window: w.checks.historyRows,
      history_bytes_per_row: w.history.rows ? { heap: w.history.heapBytes / w.history.rows, indexes: w.history.indexBytes / w.history.rows } : null,
      rows_written: w.rowsWritten,
      rows_written_per_check: checks ? rowsWritten / checks : null,
      commits_per_check: checks ? w.commits / checks : null,
      activity: {
        samples: m.activity.samples,
        avg_active: m.activity.avgActive,
        avg_idle_in_transaction: m.activity.avgIdleInTransaction,
        peak_connections: m.activity.peakConnections,
        waits: m.activity.waits,
        statements: m.activity.statements,
        idle_in_transaction: m.activity.idleInTransaction,
        lock_blockers: m.activity.blockers,
      },
      commit_ceiling: m.commitCeiling,
    },
    profile: m.profile,
    scale: m.scale,
    process_exits: m.exits.map((e) => ({ name: e.name, code: e.exit.code, signal: e.exit.signal, problem_lines: e.problemLines })),
    notes: [],
  };
  report.notes = [...m.notes, ...w.notes, ...readingNotes(report, m)];
  return report;
}

function machine(m: Measurements): BenchReport['machine'] {
  return {
    cores: os.availableParallelism(),
    cpu_model: os.cpus()[0]?.model.trim() ?? 'unknown',
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node_version: process.version,
    postgres_version: m.facts.version,
    postgres: m.serverKind,
    postgres_max_connections: m.facts.maxConnections,
    postgres_shared_buffers: m.facts.sharedBuffers,
    postgres_synchronous_commit: m.facts.synchronousCommit,
    postgres_fsync: m.facts.fsync,
    postgres_autovacuum: m.facts.autovacuum,
  };
}

function parameters(m: Measurements): BenchReport['parameters'] {
  const o = m.opts;
  return {
    hosts: o.hosts,
    duration_s: o.duration,
    warmup_s: o.warmup,
    workers: o.workers,
    concurrency: o.concurrency,
    total_slots: o.workers * o.concurrency,
    interval_s: o.interval,
    timeout_ms: o.timeoutMs,
    failing_share: o.failingShare,
    slow_share: o.slowShare,
    slow_ms: o.slowMs,
    probe_mix: o.probeMix,
    jit_rate: o.jitRate,
    state_rate: o.stateRate,
    baseline_duration_s: o.baselineDuration,
    scale_hosts: o.scaleHosts,
    cpu_prof: o.cpuProf,
    vigil_env: m.vigilEnv,
  };
}

function toLoad(l: LoadResult): BenchReport['state_reads'] {
  return { sent: l.sent, ok: l.ok, pending: l.pending, errors: l.errors, dropped: l.dropped, latency_ms: l.latencyMs, error_samples: l.errorSamples };
}

function processes(m: Measurements): BenchReport['processes'] {
  const seconds = m.window.seconds;
  const order = (g: string) => (isVigil(g) ? 0 : g.startsWith('postgres') ? 1 : 2);
  const rows = [...m.usage]
    .sort((a, b) => order(a.group) - order(b.group) || a.group.localeCompare(b.group, 'en', { numeric: true }))
    .map((u) => ({
      name: u.group,
      pids: u.pids,
      cpu_seconds_window: u.cpuSecondsWindow,
      cpu_percent_window: (u.cpuSecondsWindow / seconds) * 100,
      cpu_seconds_total: u.cpuSecondsTotal,
      peak_rss_mb: u.peakRssMb,
      peak_private_mb: u.peakPrivateMb,
    }));
  const server = m.window.serverCpuSeconds;
  return [...rows, { name: 'postgres (whole server)', pids: [m.facts.postmasterPid], cpu_seconds_window: server, cpu_percent_window: (server / seconds) * 100, cpu_seconds_total: 0, peak_rss_mb: 0, peak_private_mb: 0 }];
}

/** What a reader needs to interpret the numbers, derived from them. */
function readingNotes(r: BenchReport, m: Measurements): string[] {
  const notes: string[] = [];
  const s = r.system;
  const intervalMs = r.parameters.interval_s * 1000;
  const behind = (s.schedule_lag_ms.p99 ?? 0) > intervalMs || s.queue_at_end?.overloaded === true;
  notes.push(
    behind
      ? `Vigil did not keep up with the schedule (lag p99 ${Math.round(s.schedule_lag_ms.p99 ?? 0)} ms > interval ${intervalMs} ms, or the queue is overloaded): ${s.scheduled_checks_per_second.toFixed(1)} checks/s is its capacity for this mix, against ${s.offered_checks_per_second.toFixed(1)}/s asked.`
      : `Vigil kept up with the schedule: ${s.scheduled_checks_per_second.toFixed(1)} checks/s is what the schedule asked (${s.offered_checks_per_second.toFixed(1)}/s), not its capacity; raise --hosts or lower --interval to find the limit.`,
  );
  if (r.machine.postgres_autovacuum !== 'on') {
    notes.push('autovacuum is off on this PostgreSQL server: every check leaves dead row versions in hosts and pg-boss\'s job table, so a long run slows as they pile up (run without DATABASE_URL for an embedded server with autovacuum on).');
  }
  const fleet = r.processes.find((p) => p.name === 'fleet');
  if (fleet && fleet.cpu_percent_window > 50) notes.push(`The simulated fleet used ${fleet.cpu_percent_window.toFixed(0)} % of a core in the window: on ${r.machine.cores} cores it competes with Vigil and PostgreSQL.`);
  const total = r.processes.filter((p) => p.name !== 'postgres (whole server)').reduce((a, p) => a + p.cpu_percent_window, 0);
  notes.push(`All measured processes together used ${total.toFixed(0)} % of one core in the window (${r.machine.cores * 100} % available)${total >= r.machine.cores * 90 ? ': the machine\'s CPU was saturated' : ''}.`);
  const active = s.slot_use.active_jobs.reduce((a, j) => a + j.mean, 0);
  if (active > 0 && s.slot_use.probes_running_mean < active / 2) {
    notes.push(`pg-boss held ${active.toFixed(1)} checks in active jobs on average but the workers were probing only ${s.slot_use.probes_running_mean.toFixed(1)}: most of a job's time is outside its probe (see where a scheduled check's time goes).`);
  }
  if (m.serverKind === 'external') notes.push('PostgreSQL is the one in DATABASE_URL: "postgres (whole server)" includes every database on it; the bracketed postgres rows are this run\'s database only (sampled each second, so a backend that lived under a second may be missed).');
  for (const e of m.exits) {
    if (e.exit.code !== 0) notes.push(`${e.name} exited with ${e.exit.code ?? e.exit.signal} (expected 0 after SIGTERM).`);
    if (e.problemLines > 0) notes.push(`${e.name} logged ${e.problemLines} warn/error lines.`);
  }
  for (const p of r.scale.points.filter((p) => p.scenario === 'steady' && !p.uses_partial_index)) {
    notes.push(`The claim at ${p.hosts} hosts (steady) does not use ${DUE_INDEX} but ${p.indexes.join(', ') || 'a sequential scan'}.`);
  }
  if (r.scale.points.some((p) => p.scenario === 'backlog' && !p.uses_partial_index)) {
    notes.push(`With every host overdue (backlog) the planner reads the hosts table without ${DUE_INDEX}, as it should when the whole table qualifies; the claim's cost then grows with the fleet (see the scale table).`);
  }
  notes.push(...registrationNotes(r));
  return notes;
}

function registrationNotes(r: BenchReport): string[] {
  const notes: string[] = [];
  const viaApi = r.scale.registration.filter((g) => g.via === 'api');
  const [first, last] = [viaApi[0], viaApi.at(-1)];
  if (first && last && last.hosts_per_second < first.hosts_per_second / 5) {
    notes.push(`Bulk registration slows down as the table grows: ${first.hosts_per_second.toFixed(0)} hosts/s for hosts ${first.hosts_before}→${first.hosts_after}, ${last.hosts_per_second.toFixed(0)} hosts/s for ${last.hosts_before}→${last.hosts_after}.`);
  }
  const sql = r.scale.registration.find((g) => g.via === 'sql');
  if (sql) notes.push(`The scale pass's API registration ran out of its time budget at ${sql.hosts_before} hosts; the remaining hosts were copied in by SQL.`);
  const trigram = r.scale.bulk_plan.filter((b) => b.indexes.some((i) => i.includes('trgm')));
  if (trigram.length) {
    const where = trigram.map((b) => `${b.hosts} hosts, statistics ${b.statistics}`).join('; ');
    notes.push(`The bulk API's lookup by name (planBulkHosts) is planned through ${trigram[0]!.indexes.join(', ')} (${where}): an equality join through a trigram index rechecks every name sharing trigrams, so its cost grows with the table.`);
  }
  return notes;
}
