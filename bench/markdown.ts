import type { BenchReport } from './report.ts';

/** The report as markdown tables, printed at the end of a run. */

const f = (x: number | null | undefined, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)} %`);
const ms = (...xs: (number | null)[]) => xs.map((x) => f(x, 0)).join(' / ');

function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderMarkdown(r: BenchReport): string {
  return [
    `## Vigil benchmark ${r.smoke ? '(smoke) ' : ''}— ${r.started_at}`,
    machineLine(r),
    parameterLine(r),
    summaryTable(r),
    '### Efficiency targets (issue #21), this run',
    targetsTable(r),
    '### Processes (measured window)',
    processTable(r),
    ...(r.system.check_timeline ? ['### Where a scheduled check\'s time goes (window, ms)', timelineTable(r)] : []),
    ...(r.system.jit_timeline?.checks ? ['### Where a JIT check\'s time goes (window, ms)', jitTimelineTable(r)] : []),
    '### Scheduled checks by lane and by target behaviour (window)',
    breakdownTable(r),
    '### Database activity (sampled pg_stat_activity of the bench database, window)',
    activityTables(r),
    '### Scale pass: the claim query (EXPLAIN ANALYZE, rolled back)',
    scaleSection(r),
    ...(r.large_fleet ? ['### Large fleet: seed intervals, minutes long', fleetTable(r)] : []),
    ...(r.outage ? ['### Mass outage: a gateway and the hosts behind it go down, without and with dependencies', outageTable(r)] : []),
    ...(r.profile ? ['### Where worker CPU goes (V8 CPU profiles, self time)', profileTable(r)] : []),
    ...(r.notes.length ? ['### Notes', r.notes.map((n) => `- ${n}`).join('\n')] : []),
  ].join('\n\n');
}

function machineLine(r: BenchReport): string {
  const m = r.machine;
  return (
    `Machine: ${m.cores} cores (${m.cpu_model}), ${f(m.memory_gib)} GiB, ${m.os}; Node ${m.node_version}; PostgreSQL ${m.postgres_version} ` +
    `(${m.postgres}, max_connections ${m.postgres_max_connections}, shared_buffers ${m.postgres_shared_buffers}, synchronous_commit ${m.postgres_synchronous_commit}, fsync ${m.postgres_fsync}, autovacuum ${m.postgres_autovacuum}).`
  );
}

function parameterLine(r: BenchReport): string {
  const p = r.parameters;
  const mix = Object.entries(p.probe_mix).map(([k, v]) => `${k} ${(v * 100).toFixed(1)} %`).join(', ');
  return (
    `Parameters: ${p.hosts} hosts (${mix}); failing ${pct(p.failing_share)}, slow ${pct(p.slow_share)} of HTTP (${p.slow_ms} ms); ` +
    `interval ${p.interval_s} s, timeout ${p.timeout_ms} ms; ${p.workers} workers × ${p.concurrency} slots; warm-up ${p.warmup_s} s, window ${p.duration_s} s; ` +
    `JIT ${p.jit_rate}/s, state reads ${p.state_rate}/s; baseline ${p.baseline_duration_s} s. Vigil env: ${Object.entries(p.vigil_env).map(([k, v]) => `${k}=${v}`).join(' ')}`
  );
}

function summaryTable(r: BenchReport): string {
  const s = r.system;
  const b = r.baseline;
  const lag = s.schedule_lag_ms;
  const q = s.queue_at_end;
  const busy = s.workers_at_end.map((w) => `${f(w.busy_percent, 0)} %`).join(', ') || '–';
  return table(
    ['metric', 'value'],
    [
      ['scheduled checks/s sustained (window)', `**${f(s.scheduled_checks_per_second)}** (${s.scheduled_checks} checks in ${f(s.window_s)} s; schedule asks ${f(s.offered_checks_per_second)}/s)`],
      ['raw probe baseline checks/s', `${f(b.checks_per_second)} (${b.processes} × ${b.concurrency_per_process} slots, ${f(b.duration_s)} s, success ${pct(b.success_share)})`],
      ['ratio system ÷ baseline', `**${f(s.ratio_to_baseline, 3)}**`],
      ['schedule lag p50 / p95 / p99 / max (ms)', `${ms(lag.p50, lag.p95, lag.p99, lag.max)} (n = ${lag.count}; delayed > threshold: ${pct(s.delayed_share)})`],
      ['JIT wait=true latency, idle p50 / p95 / p99 (ms)', `${ms(r.jit.idle.latency_ms.p50, r.jit.idle.latency_ms.p95, r.jit.idle.latency_ms.p99)} (${r.jit.idle.ok}/${r.jit.idle.sent} ok)`],
      ['JIT wait=true latency, under load p50 / p95 / p99 (ms)', `${ms(r.jit.under_load.latency_ms.p50, r.jit.under_load.latency_ms.p95, r.jit.under_load.latency_ms.p99)} (${loadCounts(r.jit.under_load)})`],
      ['state read latency p50 / p99 (ms)', `${ms(r.state_reads.latency_ms.p50, r.state_reads.latency_ms.p99)} (${loadCounts(r.state_reads)})`],
      ['CPU ms per check: Vigil / PostgreSQL / total', `${f(s.cpu_ms_per_check.vigil, 2)} / ${f(s.cpu_ms_per_check.postgres, 2)} / ${f(s.cpu_ms_per_check.total, 2)} (baseline: ${f(b.cpu_ms_per_check, 2)})`],
      ['PostgreSQL commit ceiling (1-row transactions)', r.database.commit_ceiling.map((c) => `${c.variant}: ${f(c.commits_per_second, 0)}/s`).join('; ') + ` (${r.database.commit_ceiling[0]?.clients ?? 0} clients)`],
      ['rows written (window)', `${r.database.history_rows_in_window} history rows; ${f(r.database.rows_written_per_check, 1)} rows inserted/updated/deleted per check, all tables; ${f(r.database.commits_per_check, 1)} commits per check (all clients)`],
      ['database growth per million checks', `${f(r.database.growth_mb_per_million_checks, 0)} MB (${f(r.database.growth_bytes / 2 ** 20)} MB in the window); after vacuum ${f(r.database.growth_after_vacuum_mb_per_million_checks ?? null, 0)} MB`],
      ['history bytes per row (heap + indexes)', r.database.history_bytes_per_row ? `${f(r.database.history_bytes_per_row.heap, 0)} + ${f(r.database.history_bytes_per_row.indexes, 0)}` : '–'],
      ['probe time p50 / p95 / p99 (ms), success', `${ms(s.probe_ms.p50, s.probe_ms.p95, s.probe_ms.p99)}, ${pct(s.success_share)}`],
      ['queue at window end', q ? `${q.waiting_total} checks waiting, oldest lag ${f(q.oldest_lag_seconds)} s${q.overloaded ? ' (overloaded)' : ''}` : '–'],
      ['worker slots busy (last minute)', busy],
      ['checks in active jobs (pg-boss) / probes running (workers), mean', `${s.slot_use.active_jobs.map((a) => `${a.queue} ${f(a.mean)} (peak ${a.peak})`).join(', ')} / ${f(s.slot_use.probes_running_mean)} — of ${r.parameters.total_slots} slots`],
      ['bulk registration', `${r.registration.hosts} hosts in ${f(r.registration.seconds, 2)} s (${f(r.registration.hosts_per_second, 0)} hosts/s)`],
    ],
  );
}

const loadCounts = (l: BenchReport['state_reads']) => `${l.ok}/${l.sent} ok${l.pending ? `, ${l.pending} not done in time` : ''}${l.errors ? `, ${l.errors} errors` : ''}${l.dropped ? `, ${l.dropped} dropped` : ''}`;

function processTable(r: BenchReport): string {
  const rows = r.processes.map((p) => [p.name, p.pids.length, f(p.cpu_seconds_window, 2), f(p.cpu_percent_window), f(p.cpu_seconds_total, 2), f(p.peak_rss_mb, 0), f(p.peak_private_mb, 0)]);
  return table(['process', 'pids', 'CPU s (window)', '% of a core', 'CPU s (run)', 'peak RSS MB', 'peak private MB'], rows);
}

const SEGMENTS: Record<string, string> = {
  queued: 'queued: job created → fetched by a worker',
  before_probe: 'fetched → probe starts (load the host)',
  probe: 'probe',
  before_record: 'probe ends → recording transaction starts',
  record_and_complete: 'recording transaction + pg-boss complete',
  in_job: 'fetched → completed (a slot is busy with the job)',
};

function timelineTable(r: BenchReport): string {
  const t = r.system.check_timeline!;
  const rows = t.segments.map((s) => [SEGMENTS[s.segment] ?? s.segment, f(s.mean_ms, 1), f(s.p50_ms, 1), f(s.p95_ms, 1), f(s.mean_normal_ms, 1), f(s.mean_failing_ms, 1)]);
  const shares =
    `Σ(fetched → completed) over the checks ÷ slot time (${r.parameters.total_slots} slots × window): ${pct(t.slot_share_in_job)} (above 100 % means pg-boss held more jobs active than there are slots); ` +
    `Σ probe time ÷ slot time: ${pct(t.slot_share_in_probe)}. Segments are measured between transaction start times (now()).`;
  return [table(['segment', 'mean', 'p50', 'p95', 'mean, normal lane', 'mean, failing lane'], rows), shares].join('\n\n');
}

function jitTimelineTable(r: BenchReport): string {
  const t = r.system.jit_timeline!;
  const rows = t.segments.filter((s) => s.segment !== 'in_job').map((s) => [SEGMENTS[s.segment] ?? s.segment, f(s.mean_ms, 1), f(s.p50_ms, 1), f(s.p95_ms, 1)]);
  const latency = r.jit.under_load.latency_ms;
  return [
    table(['segment', 'mean', 'p50', 'p95'], rows),
    `${t.checks} JIT checks. The caller waited p50 ${f(latency.p50, 0)} / p95 ${f(latency.p95, 0)} ms: the rest is the request before its job exists (the host's lock, the job's insert) and the answer after the result is announced.`,
  ].join('\n\n');
}

function breakdownTable(r: BenchReport): string {
  const rows = [...r.system.by_lane.map((b) => ({ ...b, key: `lane ${b.key}` })), ...r.system.by_behaviour].map((b) => [
    b.key,
    b.checks,
    f(b.checks / Math.max(r.system.window_s, 1e-3)),
    f(b.lag_p50_ms, 0),
    f(b.lag_p99_ms, 0),
    f(b.probe_avg_ms, 1),
    pct(b.success_share),
  ]);
  return table(['group', 'checks', 'per s', 'lag p50 ms', 'lag p99 ms', 'probe avg ms', 'success'], rows);
}

function activityTables(r: BenchReport): string {
  const a = r.database.activity;
  const head = `${a.samples} samples; on average ${f(a.avg_active, 2)} backends active, ${f(a.avg_idle_in_transaction, 2)} idle in transaction; peak ${a.peak_connections} connections.`;
  const waits = table(['application: wait event', 'avg active backends'], a.waits.map((w) => [w.wait, f(w.avg_active, 2)]));
  const statements = table(['application: statement (first 90 chars)', 'avg active backends'], a.statements.map((s) => [`\`${s.statement.replace(/\|/g, '\\|')}\``, f(s.avg_active, 2)]));
  const idle = table(['idle in transaction after (application: statement)', 'avg backends'], a.idle_in_transaction.map((s) => [`\`${s.statement.replace(/\|/g, '\\|')}\``, f(s.avg_idle, 2)]));
  const blockers = table(['lock waits blocked by (application: state, last statement)', 'avg waiting backends'], a.lock_blockers.map((b) => [`\`${b.blocker.replace(/\|/g, '\\|')}\``, f(b.avg_waiting, 2)]));
  const writes = table(['table', 'inserted', 'updated', 'deleted'], r.database.rows_written.map((w) => [w.table, w.inserted, w.updated, w.deleted]));
  const ceiling = table(
    ['commit ceiling (before Vigil ran): transaction', 'clients', 'commits/s', 'p50 ms', 'p99 ms'],
    r.database.commit_ceiling.map((c) => [c.variant, c.clients, f(c.commits_per_second, 0), f(c.commit_p50_ms, 1), f(c.commit_p99_ms, 1)]),
  );
  const growth = table(
    ['table (with its indexes and TOAST)', 'growth after vacuum, MB', 'bytes per check'],
    (r.database.growth_after_vacuum_by_table ?? []).map((g) => [g.table, f(g.bytes / 2 ** 20, 1), f(g.bytes_per_check ?? null, 0)]),
  );
  return [head, waits, statements, idle, blockers, 'Rows written in the window, by table:', writes, 'Where the database grew in the window (after vacuum):', growth, ceiling].join('\n\n');
}

function scaleSection(r: BenchReport): string {
  const points = table(
    ['hosts', 'scenario', 'due', 'execution ms (median)', 'planning ms', 'indexes', 'partial index'],
    r.scale.points.map((p) => [p.hosts, p.scenario, p.due_hosts, f(p.execution_ms, 3), f(p.planning_ms, 3), p.indexes.join(', ') || 'none', p.uses_partial_index ? 'yes' : '**no**']),
  );
  const growth = r.scale.growth.map((g) => `${g.scenario}: ${g.to_hosts} vs ${g.from_hosts} hosts → ×${f(g.execution_ratio, 2)}`).join('; ');
  const registration = r.scale.registration.map((g) => `${g.hosts_before}→${g.hosts_after} ${g.via === 'sql' ? 'by SQL copy' : 'API'}: ${f(g.hosts_per_second, 0)}/s`).join('; ');
  const bulk = r.scale.bulk_plan.map((b) => `at ${b.hosts} hosts (statistics ${b.statistics}): ${b.indexes.join(', ') || 'no index'}`).join('; ');
  const largest = [...r.scale.points].reverse().find((p) => p.scenario === 'steady');
  const plan = largest ? `Claim plan at ${largest.hosts} hosts, steady:\n\n\`\`\`\n${largest.plan}\n\`\`\`` : '';
  const lastBulk = r.scale.bulk_plan.filter((b) => b.statistics === 'as registration left them').at(-1);
  const bulkPlan = lastBulk ? `Bulk registration's classification of 5,000 new names at ${lastBulk.hosts} hosts, statistics ${lastBulk.statistics} (EXPLAIN only):\n\n\`\`\`\n${lastBulk.plan}\n\`\`\`` : '';
  return [
    points,
    `Execution time growth: ${growth}.`,
    `Registration of the scale hosts, per bulk request of 5,000 hosts/s: ${registration}. The bulk API's name lookup (planBulkHosts) uses ${bulk}.`,
    `Import through the bulk API (what \`vigil hosts import\` and \`vigil apply\` send): ${[r.scale.import.into_empty, r.scale.import.into_full]
      .map((i) => `${i.hosts} hosts into ${i.hosts_before}: ${f(i.seconds, 1)} s, ${f(i.hosts_per_second, 0)} hosts/s (slowest request ${f(i.slowest_batch_hosts_per_second, 0)}/s)`)
      .join('; ')}.`,
    plan,
    bulkPlan,
  ].join('\n\n');
}

function profileTable(r: BenchReport): string {
  const p = r.profile!;
  const rows = (list: typeof p.top_functions) => list.map((x) => [`\`${x.location}\``, f(x.self_ms, 0), pct(x.share)]);
  return [
    `${p.files} profiles in ${p.dir}, ${f(p.total_ms / 1000)} s sampled. V8 samples wall time outside idle: on a saturated machine, time a worker spent descheduled inside a system call (e.g. \`writev\` to a PostgreSQL socket) is counted there.`,
    table(['module', 'self ms', 'share'], rows(p.top_modules)),
    table(['function', 'self ms', 'share'], rows(p.top_functions)),
  ].join('\n\n');
}

function outageTable(r: BenchReport): string {
  const rows = r.outage!;
  const first = rows[0]!;
  const cell = (v: (typeof rows)[number]) => [
    v.dependencies ? 'with dependencies' : 'without',
    v.probes_to_children,
    `${v.children_unreachable} / ${v.children_down}`,
    v.incidents_opened,
    v.state_changes,
    `${f(v.bystander_lag_ms.p50, 0)} / ${f(v.bystander_lag_ms.p95, 0)} / ${f(v.bystander_lag_ms.max, 0)}`,
  ];
  return [
    `${first.children} hosts behind one gateway and ${first.bystanders} healthy bystanders; the gateway and its hosts answer 503 for ${first.outage_seconds} s.`,
    '',
    '| run | probes to the hosts behind it | UNREACHABLE / DOWN at the end | incidents opened | state changes announced | bystanders\' schedule lag p50 / p95 / max (ms) |',
    '|---|---|---|---|---|---|',
    ...rows.map((v) => `| ${cell(v).join(' | ')} |`),
  ].join('\n');
}

function fleetTable(r: BenchReport): string {
  const x = r.large_fleet!;
  const i = x.intervals_seconds;
  return [
    `${x.hosts} hosts, ${pct(x.failing_share)} failing (HTTP 503); intervals HEALTHY ${i.healthy / 60} min, DEGRADED ${i.degraded / 60}, CRITICAL ${i.critical / 60}, DOWN ${i.down / 60}; first checks spread over the HEALTHY interval; one API, one scheduler and one worker process; a ${f(x.window_seconds, 0)} s window.`,
    '',
    table(
      ['metric', 'value'],
      [
        ['scheduled checks (per s)', `${x.checks} (${f(x.checks_per_second)})`],
        ['schedule lag p50 / p95 / p99 / max (ms)', ms(x.lag_ms.p50, x.lag_ms.p95, x.lag_ms.p99, x.lag_ms.max)],
        ['CPU s in the window: Vigil / PostgreSQL (whole server)', `${f(x.cpu_seconds.vigil)} / ${f(x.cpu_seconds.postgres)}`],
        ['cores kept busy; hosts per core at this load', `${f(x.cores_used, 3)}; ${f(x.hosts_per_core, 0)}`],
      ],
    ),
  ].join('\n');
}

/**
 * Checks/s cannot exceed what the schedule asks. When it asks less than half the raw loop (the
 * default demand on a fast machine), the ratio cannot reach 0.5 and the target reads as keeping
 * up: at least 95 % of the asked rate recorded.
 */
function demandBound(r: BenchReport): boolean {
  const raw = r.baseline.checks_per_second;
  return raw > 0 && r.system.offered_checks_per_second < 0.5 * raw;
}

export function throughputMet(r: BenchReport): boolean | null {
  const s = r.system;
  if (s.ratio_to_baseline === null) return null;
  return demandBound(r) ? s.scheduled_checks_per_second >= 0.95 * s.offered_checks_per_second : s.ratio_to_baseline >= 0.5;
}

function throughputFigure(r: BenchReport): string {
  const s = r.system;
  const ratio = f(s.ratio_to_baseline, 3);
  return demandBound(r) ? `${ratio}; the schedule asked ${f(s.offered_checks_per_second, 0)}/s, under half the raw loop: ${f(s.scheduled_checks_per_second, 0)}/s recorded` : ratio;
}

/**
 * Issue #21's targets against this run's figures. A ratio divides by the raw probe loop measured
 * in the same run, so runs on different machines compare; "2× demand" is a run with half the interval.
 */
function targetsTable(r: BenchReport): string {
  const s = r.system;
  const cpuRatio = s.cpu_ms_per_check.total !== null && r.baseline.cpu_ms_per_check ? s.cpu_ms_per_check.total / r.baseline.cpu_ms_per_check : null;
  const workerRss = Math.max(0, ...r.processes.filter((p) => p.name.startsWith('worker')).map((p) => p.peak_rss_mb));
  const verdict = (ok: boolean | null) => (ok === null ? '–' : ok ? 'met' : 'not met');
  const afterVacuum = r.database.growth_after_vacuum_mb_per_million_checks ?? null;
  const rows: (string | number)[][] = [
    ['CPU per check, Vigil + PostgreSQL, ÷ raw loop', '≤ 2×', cpuRatio === null ? '–' : `${f(cpuRatio, 2)}×`, verdict(cpuRatio === null ? null : cpuRatio <= 2)],
    ['scheduled checks/s ÷ raw loop', '≥ 0.5', throughputFigure(r), verdict(throughputMet(r))],
    ['JIT wait=true p95 under load', '≤ 250 ms', `${f(r.jit.under_load.latency_ms.p95, 0)} ms`, verdict(r.jit.under_load.latency_ms.p95 === null ? null : r.jit.under_load.latency_ms.p95 <= 250)],
    ['state read p99 under load', '≤ 100 ms', `${f(r.state_reads.latency_ms.p99, 0)} ms`, verdict(r.state_reads.latency_ms.p99 === null ? null : r.state_reads.latency_ms.p99 <= 100)],
    ['rows written per check', '≤ 3', f(r.database.rows_written_per_check, 2), verdict(r.database.rows_written_per_check === null ? null : r.database.rows_written_per_check <= 3)],
    ['database growth per million checks, after vacuum', '≤ 600 MB', `${f(afterVacuum, 0)} MB (${f(r.database.growth_mb_per_million_checks, 0)} MB before vacuum)`, verdict(afterVacuum === null ? null : afterVacuum <= 600)],
    ['worker peak RSS', '≤ 200 MB', `${f(workerRss, 0)} MB`, verdict(workerRss > 0 ? workerRss <= 200 : null)],
  ];
  const large = r.large_fleet;
  if (large) {
    rows.push(['large fleet: schedule lag p99', '≤ 1 s', `${f(large.lag_ms.p99, 0)} ms (${large.hosts} hosts; ${f(large.hosts_per_core, 0)} hosts per core)`, verdict(large.lag_ms.p99 === null ? null : large.lag_ms.p99 <= 1000)]);
  }
  return [
    `Machine baselines of this run: raw probe loop ${f(r.baseline.checks_per_second)} checks/s at ${f(r.baseline.cpu_ms_per_check, 2)} ms CPU per check; PostgreSQL commit ceiling ${r.database.commit_ceiling.map((c) => `${c.variant} ${f(c.commits_per_second, 0)}/s`).join(', ')}. The schedule asked ${f(s.offered_checks_per_second)} checks/s.`,
    '',
    table(['target', 'goal', 'this run', ''], rows),
  ].join('\n');
}
