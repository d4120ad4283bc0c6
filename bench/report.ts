import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * The benchmark report: one JSON document per run (bench/results/<timestamp>.json, git-ignored),
 * validated against this schema before it is written; the smoke test validates it again. Times
 * are ms unless a name says otherwise; rates are per second.
 */

const count = z.number().int().min(0);
const maybe = z.number().nullable();

export const latencySchema = z.object({ count, p50: maybe, p95: maybe, p99: maybe, max: maybe, mean: maybe });

export const loadSchema = z.object({
  sent: count,
  ok: count,
  /** JIT answered 202: not done within its wait. */
  pending: count,
  errors: count,
  /** Ticks skipped because too many requests were in flight. */
  dropped: count,
  latency_ms: latencySchema,
  error_samples: z.array(z.string()),
});

const breakdownSchema = z.object({
  key: z.string(),
  checks: count,
  lag_p50_ms: maybe,
  lag_p99_ms: maybe,
  probe_avg_ms: maybe,
  success_share: maybe,
});

const processSchema = z.object({
  name: z.string(),
  pids: z.array(z.number().int()),
  cpu_seconds_window: z.number().min(0),
  /** Of one core, over the window. */
  cpu_percent_window: z.number().min(0),
  cpu_seconds_total: z.number().min(0),
  peak_rss_mb: z.number().min(0),
  peak_private_mb: z.number().min(0),
});

const importRunSchema = z.object({ hosts_before: count, hosts: count, seconds: z.number(), hosts_per_second: z.number(), slowest_batch_hosts_per_second: z.number() });

const scalePointSchema = z.object({
  hosts: count,
  scenario: z.enum(['steady', 'backlog']),
  due_hosts: count,
  execution_ms: z.number(),
  planning_ms: z.number(),
  runs_ms: z.array(z.number()),
  indexes: z.array(z.string()),
  uses_partial_index: z.boolean(),
  plan: z.string(),
});

export const benchReportSchema = z.object({
  schema_version: z.literal(1),
  started_at: z.iso.datetime(),
  finished_at: z.iso.datetime(),
  smoke: z.boolean(),
  machine: z.object({
    cores: count,
    cpu_model: z.string(),
    memory_gib: z.number(),
    os: z.string(),
    node_version: z.string(),
    postgres_version: z.string(),
    postgres: z.enum(['external', 'embedded']),
    postgres_max_connections: count,
    postgres_shared_buffers: z.string(),
    postgres_synchronous_commit: z.string(),
    postgres_fsync: z.string(),
    postgres_autovacuum: z.string(),
  }),
  parameters: z.object({
    hosts: count,
    duration_s: z.number(),
    warmup_s: z.number(),
    workers: count,
    concurrency: count,
    total_slots: count,
    interval_s: z.number(),
    timeout_ms: count,
    failing_share: z.number(),
    slow_share: z.number(),
    slow_ms: count,
    probe_mix: z.record(z.string(), z.number()),
    jit_rate: z.number(),
    state_rate: z.number(),
    baseline_duration_s: z.number(),
    scale_hosts: z.array(count),
    cpu_prof: z.boolean(),
    /** Every variable the Vigil processes got (secrets redacted). */
    vigil_env: z.record(z.string(), z.string()),
  }),
  fleet: z.object({
    hosts: count,
    by_type: z.record(z.string(), count),
    by_behaviour: z.record(z.string(), count),
    layout: z.record(z.string(), count),
    served: z.record(z.string(), count),
  }),
  registration: z.object({ hosts: count, requests: count, seconds: z.number(), hosts_per_second: z.number() }),
  baseline: z.object({
    processes: count,
    concurrency_per_process: count,
    duration_s: z.number(),
    checks: count,
    checks_per_second: z.number(),
    success_share: maybe,
    response_ms: latencySchema,
    cpu_seconds: z.number(),
    cpu_ms_per_check: maybe,
    by_behaviour: z.record(z.string(), z.object({ checks: count, successes: count })),
  }),
  system: z.object({
    window_s: z.number(),
    /** hosts / interval: what the schedule asks for. */
    offered_checks_per_second: z.number(),
    scheduled_checks: count,
    scheduled_checks_per_second: z.number(),
    jit_checks: count,
    ratio_to_baseline: maybe,
    schedule_lag_ms: latencySchema.omit({ mean: true }),
    delayed_share: maybe,
    success_share: maybe,
    probe_ms: latencySchema.omit({ mean: true, count: true }),
    by_lane: z.array(breakdownSchema),
    by_behaviour: z.array(breakdownSchema),
    cpu_ms_per_check: z.object({ vigil: maybe, postgres: maybe, total: maybe }),
    /** Where a scheduled check's wall time goes (ms), from pg-boss's and Vigil's own timestamps. */
    check_timeline: z
      .object({
        checks: count,
        segments: z.array(z.object({ segment: z.string(), mean_ms: maybe, p50_ms: maybe, p95_ms: maybe, mean_normal_ms: maybe, mean_failing_ms: maybe })),
        slot_share_in_job: maybe,
        slot_share_in_probe: maybe,
      })
      .nullable(),
    /** The same for the window's JIT checks: from the job's creation to its completion (the caller's wait adds the request and the answer). */
    jit_timeline: z
      .object({
        checks: count,
        segments: z.array(z.object({ segment: z.string(), mean_ms: maybe, p50_ms: maybe, p95_ms: maybe, mean_normal_ms: maybe, mean_failing_ms: maybe })),
      })
      .nullable()
      .optional(),
    /** Sampled each second: jobs pg-boss holds active per queue, against the slots; probes the workers say they run. */
    slot_use: z.object({
      samples: count,
      active_jobs: z.array(z.object({ queue: z.string(), mean: z.number(), peak: count })),
      probes_running_mean: z.number(),
    }),
    queue_at_end: z.object({ waiting_total: count, oldest_lag_seconds: z.number(), overloaded: z.boolean() }).nullable(),
    workers_at_end: z.array(z.object({ pid: z.number().int(), concurrency: count, running: count, busy_percent: z.number(), checks_done: count })),
  }),
  jit: z.object({ idle: loadSchema, under_load: loadSchema }),
  state_reads: loadSchema,
  processes: z.array(processSchema),
  database: z.object({
    size_before_bytes: count,
    size_after_bytes: count,
    growth_bytes: z.number().int(),
    growth_mb_per_million_checks: maybe,
    /** Growth of what vacuum cannot free for reuse: (size − reusable space) after a VACUUM, end minus start. Absent in older reports. */
    growth_after_vacuum_bytes: z.number().int().nullable().optional(),
    growth_after_vacuum_mb_per_million_checks: maybe.optional(),
    /** The ten tables (with their indexes and TOAST) that grew most after vacuum. Absent in older reports. */
    growth_after_vacuum_by_table: z.array(z.object({ table: z.string(), bytes: z.number().int(), bytes_per_check: maybe })).nullable().optional(),
    history_rows_in_window: count,
    /** Bytes per history row at the window's end, all partitions: heap (with TOAST) and indexes. Absent in older reports. */
    history_bytes_per_row: z.object({ heap: z.number(), indexes: z.number() }).nullable().optional(),
    rows_written: z.array(z.object({ table: z.string(), inserted: count, updated: count, deleted: count })),
    rows_written_per_check: maybe,
    /** Transactions committed in the window per check recorded (pg_stat_database; includes the API clients' reads and this benchmark's sampling). */
    commits_per_check: maybe,
    activity: z.object({
      samples: count,
      avg_active: z.number(),
      avg_idle_in_transaction: z.number(),
      peak_connections: count,
      waits: z.array(z.object({ wait: z.string(), avg_active: z.number() })),
      statements: z.array(z.object({ statement: z.string(), avg_active: z.number() })),
      idle_in_transaction: z.array(z.object({ statement: z.string(), avg_idle: z.number() })),
      lock_blockers: z.array(z.object({ blocker: z.string(), avg_waiting: z.number() })),
    }),
    /**
     * The server's commit ceiling: concurrent clients committing one-row transactions as fast as
     * they can, plain, with a NOTIFY (commits that notify are serialised on one lock), and with a
     * NOTIFY under one advisory lock held to commit (as Vigil's event outbox does).
     */
    commit_ceiling: z.array(z.object({ variant: z.string(), clients: count, commits_per_second: z.number(), commit_p50_ms: maybe, commit_p99_ms: maybe })),
  }),
  profile: z
    .object({
      dir: z.string(),
      files: count,
      total_ms: z.number(),
      top_functions: z.array(z.object({ location: z.string(), self_ms: z.number(), share: z.number() })),
      top_modules: z.array(z.object({ location: z.string(), self_ms: z.number(), share: z.number() })),
    })
    .nullable(),
  scale: z.object({
    claim_sql: z.string(),
    claim_params: z.array(z.unknown()),
    points: z.array(scalePointSchema).min(2),
    /** One row per bulk API request; 'sql' when the API was too slow for the pass's time budget and the rest was copied in. */
    registration: z.array(z.object({ hosts_before: count, hosts_after: count, seconds: z.number(), hosts_per_second: z.number(), via: z.enum(['api', 'sql']) })).min(1),
    /** EXPLAIN of the bulk API's classification statement (planBulkHosts) for 5,000 new names, at each size, before and after ANALYZE. */
    bulk_plan: z.array(z.object({ hosts: count, statistics: z.enum(['as registration left them', 'after ANALYZE']), indexes: z.array(z.string()), plan: z.string() })),
    /** execution time at the largest size ÷ at the smallest, per scenario. */
    growth: z.array(z.object({ scenario: z.enum(['steady', 'backlog']), from_hosts: count, to_hosts: count, execution_ratio: z.number() })),
    /** Bulk API import of the largest scale size into an empty table, then as many again into the full one (bench/scale-import.ts). */
    import: z.object({ into_empty: importRunSchema, into_full: importRunSchema }),
  }),
  /** The mass-outage pass (bench/outage-pass.ts): the same outage without and with dependencies. Absent in reports from before it existed. */
  outage: z
    .array(
      z.object({
        dependencies: z.boolean(),
        children: count,
        bystanders: count,
        outage_seconds: z.number(),
        probes_to_children: count,
        children_unreachable: count,
        children_down: count,
        incidents_opened: count,
        state_changes: count,
        bystander_lag_ms: z.object({ count, p50: maybe, p95: maybe, max: maybe }),
      }),
    )
    .optional(),
  /** The large-fleet pass (bench/fleet-pass.ts): seed intervals, minutes long. Absent when skipped and in older reports. */
  large_fleet: z
    .object({
      hosts: count,
      failing_share: z.number(),
      window_seconds: z.number(),
      intervals_seconds: z.object({ healthy: z.number(), degraded: z.number(), critical: z.number(), down: z.number() }),
      checks: count,
      checks_per_second: z.number(),
      lag_ms: z.object({ count, p50: maybe, p95: maybe, p99: maybe, max: maybe }),
      cpu_seconds: z.object({ vigil: z.number(), postgres: maybe }),
      cores_used: maybe,
      hosts_per_core: maybe,
    })
    .optional(),
  process_exits: z.array(z.object({ name: z.string(), code: z.number().int().nullable(), signal: z.string().nullable(), problem_lines: count })),
  notes: z.array(z.string()),
});

export type BenchReport = z.infer<typeof benchReportSchema>;

/** Validates and writes the report; returns its path. */
export async function writeReport(report: BenchReport, dir: string): Promise<string> {
  const checked = benchReportSchema.parse(report);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${checked.started_at.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, JSON.stringify(checked, null, 2) + '\n');
  return file;
}
