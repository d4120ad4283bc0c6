import type { Job } from 'pg-boss';
import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import { recordCheck, type CheckOutcome, type LockedHost, type RecordResult } from '../db/queries/checks.ts';
import { releaseGroupSlot, tryAcquireGroupSlot } from '../db/queries/group-slots.ts';
import { groupLimit } from '../db/queries/groups.ts';
import { getHost } from '../db/queries/hosts.ts';
import { delay } from '../lib/time.ts';
import type { Logger } from '../lib/logger.ts';
import { applyCheckResult, type PersistedHealth } from '../machine/apply-result.ts';
import type { HealthMachine } from '../machine/health-machine.ts';
import { nextCheckDelayMs } from '../machine/schedule.ts';
import type { ProbeConfig } from '../probes/index.ts';
import type { ProbeResult, ResolvedCredential } from '../probes/types.ts';
import type { Boss } from './boss.ts';
import { GROUP_TIERS, QUEUES, type CheckJobData } from './names.ts';
import { runCheck } from './run-check.ts';
import { recordCheckEffects } from '../incidents/record.ts';
import { observeCheck, type Metrics } from '../observability/metrics.ts';
import type { WorkerActivity } from './worker-activity.ts';

export interface WorkerDeps {
  pool: Pool;
  boss: Boss;
  config: Config;
  machine: HealthMachine;
  logger: Logger;
  resolveCredential?: (id: string) => Promise<ResolvedCredential | undefined>;
  /** Counts running and finished checks for the worker heartbeat. */
  activity?: WorkerActivity;
  metrics?: Metrics;
}

/** What a check job completes with (its pg-boss output, read by GET /api/monitoring/checks/{id}). */
export interface CheckJobOutput {
  host_id: string;
  recorded: boolean;
  skipped_reason?: string;
  success?: boolean;
  monitoring_state?: string;
  previous_state?: string;
  response_time_ms?: number;
  error_type?: string | null;
  check_time?: string;
}

/** Worker slots per lane: failing hosts get their share, at least one slot when the lane exists. */
export function laneSlots(config: Config): { normal: number; failing: number } {
  const { concurrency, failingShare } = config.worker;
  const failing = failingShare > 0 ? Math.max(1, Math.round(concurrency * failingShare)) : 0;
  return { normal: Math.max(1, concurrency - failing), failing };
}

/**
 * How a lane's slots become pg-boss fetch loops: a few loops, each fetching a batch and running
 * its checks concurrently. A loop whose batch came back full fetches again at once (burst mode);
 * pg-boss otherwise sleeps its polling interval after every fetch, which with one job per fetch
 * would cap each slot at about two checks a second.
 */
export function fetchPlan(slots: number): { loops: number; batchSize: number } {
  const loops = Math.min(slots, 4);
  return { loops, batchSize: Math.ceil(slots / loops) };
}

/** Subscribes this process to both check lanes. Group limits hold across every worker process. */
export async function startCheckWorker(deps: WorkerDeps): Promise<void> {
  const slots = laneSlots(deps.config);
  await workLane(deps, QUEUES.checks, slots.normal);
  if (slots.failing > 0) await workLane(deps, QUEUES.failingChecks, slots.failing);
}

async function workLane(deps: WorkerDeps, queue: string, slots: number): Promise<void> {
  const { config } = deps;
  const { loops, batchSize } = fetchPlan(slots);
  const options = {
    localConcurrency: loops,
    batchSize,
    burstWhenBatchFull: true,
    perJobResults: true,
    // After a short fetch pg-boss waits this long before fetching again, NOTIFY or not (a
    // notification only wakes a sleeping loop), so keep it short.
    pollingIntervalSeconds: config.worker.pollSeconds,
    notifyPollingIntervalSeconds: config.worker.pollSeconds,
    groupConcurrency: { default: config.groupDefaultConcurrency, tiers: GROUP_TIERS },
  } as const;
  await deps.boss.work<CheckJobData>(queue, options, async (jobs) =>
    Promise.all(
      jobs.map(async (job) => {
        try {
          return { id: job.id, status: 'completed' as const, output: await checkOneHost(deps, job) };
        } catch (err) {
          // Only infrastructure errors get here (a down target is a result): pg-boss retries the job.
          deps.logger.warn('check job failed; pg-boss will retry it', { job_id: job.id, host_id: job.data.host_id, err: (err as Error).message });
          return { id: job.id, status: 'failed' as const, output: { message: (err as Error).message } };
        }
      }),
    ),
  );
}

/**
 * One job: load the host, run its probes, and record the outcome. A target that fails is a
 * result and the job completes; only infrastructure errors (database gone) throw and get the job
 * retried by pg-boss.
 */
export async function checkOneHost(deps: WorkerDeps, job: Job<CheckJobData>): Promise<CheckJobOutput> {
  const { host_id: hostId, checked_by: checkedBy } = job.data;
  const log = deps.logger.child({ host_id: hostId, job_id: job.id, checked_by: checkedBy });
  const host = await getHost(deps.pool, hostId);
  if (!host) {
    log.info('host deleted before its check ran');
    return { host_id: hostId, recorded: false, skipped_reason: 'host_deleted' };
  }
  const slot = host.group === null ? undefined : await holdGroupSlot(deps, host.group, job.id);
  const startedAt = new Date();
  const done = deps.activity?.started();
  deps.metrics?.activeChecks.inc();
  let result: ProbeResult;
  try {
    result = await runCheck(
      { address: host.address, probes: host.probes, sshHostKeySha256: host.ssh_host_key_sha256 },
      { timeoutMs: deps.config.worker.checkTimeoutMs, resolveCredential: deps.resolveCredential },
    );
  } finally {
    done?.();
    deps.metrics?.activeChecks.dec();
    await slot?.release();
  }
  const lagMs = job.data.due_at ? Math.max(0, startedAt.getTime() - Date.parse(job.data.due_at)) : null;
  const outcome = await recordCheck(
    deps.pool,
    { hostId, jobId: job.id, checkedBy },
    (locked) => decideOutcome(deps, locked, result, startedAt, checkedBy, lagMs),
    (tx, locked, o, historyId) => recordCheckEffects(tx, locked, o, { historyId, jobId: job.id }, deps.config),
  );
  if (deps.metrics) observeCheck(deps.metrics, { probe: probeTypes(host.probes), success: result.success, errorType: result.errorType, durationMs: result.responseTimeMs, lagMs });
  return report(log, hostId, outcome, result, startedAt);
}

const probeTypes = (probes: unknown[]) => (probes as { type?: string }[]).map((p) => p.type ?? 'unknown').join('+');

const SLOT_WAIT_MS = 50;

/**
 * Waits for one of the group's check slots (the hard concurrency limit across all workers). pg-boss
 * already avoids fetching a full group's jobs, so a wait here is short and rare: it only covers
 * fetches that raced each other.
 */
async function holdGroupSlot(deps: WorkerDeps, group: string, jobId: string): Promise<{ release: () => Promise<void> }> {
  const limit = await groupLimit(deps.pool, group, deps.config.groupDefaultConcurrency);
  const leaseSeconds = deps.config.worker.checkTimeoutMs / 1000 + 30;
  while ((await tryAcquireGroupSlot(deps.pool, group, limit, jobId, leaseSeconds)) === null) await delay(SLOT_WAIT_MS);
  return { release: () => releaseGroupSlot(deps.pool, group, jobId).catch(() => {}) };
}

function decideOutcome(
  deps: WorkerDeps,
  host: LockedHost,
  result: ProbeResult,
  checkTime: Date,
  checkedBy: CheckJobData['checked_by'],
  lagMs: number | null,
): CheckOutcome {
  // In maintenance a check is recorded (flagged) but does not move the machine, so the host
  // resumes from the state it had when maintenance ends.
  const inMaintenance = host.maintenance || host.group_maintenance;
  const persisted = host.machine_snapshot as PersistedHealth;
  const applied = inMaintenance
    ? { persisted, state: persisted.value, previousState: persisted.value, consecutiveFailures: host.consecutive_failures, consecutiveSuccesses: host.consecutive_successes, changed: false }
    : applyCheckResult(deps.machine, persisted, result.success);
  const policy = deps.config.states[applied.state];
  // A JIT check that finds a scheduled check still outstanding leaves the schedule to it.
  const scheduleNext = checkedBy === 'scheduler' || host.lease_job_id === null;
  const delayed = lagMs !== null && lagMs > deps.config.delayThresholdSeconds * 1000;
  return {
    machineSnapshot: applied.persisted,
    state: applied.state,
    previousState: applied.previousState,
    consecutiveFailures: applied.consecutiveFailures,
    consecutiveSuccesses: applied.consecutiveSuccesses,
    changed: applied.changed,
    priority: policy.priority,
    nextCheckTime: scheduleNext ? new Date(Date.now() + nextCheckDelayMs(host.id, applied.state, deps.config)) : null,
    checkTime,
    success: result.success,
    responseTimeMs: result.responseTimeMs,
    errorType: result.errorType,
    errorMessage: result.errorMessage,
    detail: {
      ...result.detail,
      ...(lagMs === null ? {} : { schedule_lag_ms: lagMs, delayed }),
      ...(inMaintenance ? { maintenance: true } : {}),
    },
    // Trust on first use: the first successful SSH login records the host key it saw.
    sshHostKeySha256: result.success && !host.ssh_host_key_sha256 ? observedHostKey(result) : null,
    scheduleLagMs: lagMs,
    probeType: probeTypes(host.probes),
    inMaintenance,
  };
}

/** The SSH host key fingerprint a check saw, at the top of its detail or in a composite step. */
export function observedHostKey(result: Pick<ProbeResult, 'detail'>): string | null {
  const top = result.detail.host_key_sha256;
  if (typeof top === 'string') return top;
  const steps = (result.detail.steps as { detail?: Record<string, unknown> }[] | undefined) ?? [];
  const found = steps.map((s) => s.detail?.host_key_sha256).find((k) => typeof k === 'string');
  return (found as string | undefined) ?? null;
}

function report(log: Logger, hostId: string, outcome: RecordResult, result: ProbeResult, checkTime: Date): CheckJobOutput {
  if (!outcome.recorded) {
    log.info('check result dropped', { reason: outcome.reason });
    return { host_id: hostId, recorded: false, skipped_reason: outcome.reason };
  }
  const { state, previousState } = outcome.outcome;
  log.info('check recorded', {
    success: result.success,
    error_type: result.errorType,
    response_time_ms: result.responseTimeMs,
    monitoring_state: state,
    previous_state: previousState,
  });
  return {
    host_id: hostId,
    recorded: true,
    success: result.success,
    monitoring_state: state,
    previous_state: previousState,
    response_time_ms: result.responseTimeMs,
    error_type: result.errorType,
    check_time: checkTime.toISOString(),
  };
}
