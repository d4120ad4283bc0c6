import type { Config } from '../config/config.ts';
import type { CheckedBy, CheckOutcome, LockedHost } from '../db/queries/checks.ts';
import { applyCheckResult, type PersistedHealth } from '../machine/apply-result.ts';
import type { HealthMachine } from '../machine/health-machine.ts';
import { nextCheckDelayMs } from '../machine/schedule.ts';
import type { ProbeResult } from '../probes/types.ts';

/** A finished probe run, ready to be decided against the locked host row. */
export interface FinishedCheck {
  result: ProbeResult;
  checkTime: Date;
  checkedBy: CheckedBy;
  /** How late the check started after its due time (scheduled checks), else null. */
  lagMs: number | null;
}

/**
 * What a check means for its host, decided from the row as it is at record time: the machine's
 * next state, when to check next, and the history row's fields. Pure apart from the clock.
 */
export function decideOutcome(machine: HealthMachine, config: Config, host: LockedHost, check: FinishedCheck): CheckOutcome {
  const { result, checkTime, checkedBy, lagMs } = check;
  // In maintenance a check is recorded (flagged) but does not move the machine, so the host
  // resumes from the state it had when maintenance ends.
  const inMaintenance = host.maintenance || host.group_maintenance;
  const persisted = host.machine_snapshot as PersistedHealth;
  const applied = inMaintenance
    ? { persisted, state: persisted.value, previousState: persisted.value, consecutiveFailures: host.consecutive_failures, consecutiveSuccesses: host.consecutive_successes, changed: false }
    : applyCheckResult(machine, persisted, result.success);
  const policy = config.states[applied.state];
  // A JIT check that finds a scheduled check still outstanding leaves the schedule to it.
  const scheduleNext = checkedBy === 'scheduler' || host.lease_job_id === null;
  const delayed = lagMs !== null && lagMs > config.delayThresholdSeconds * 1000;
  return {
    machineSnapshot: applied.persisted,
    state: applied.state,
    previousState: applied.previousState,
    consecutiveFailures: applied.consecutiveFailures,
    consecutiveSuccesses: applied.consecutiveSuccesses,
    changed: applied.changed,
    priority: policy.priority,
    nextCheckTime: scheduleNext ? new Date(Date.now() + nextCheckDelayMs(host.id, applied.state, config)) : null,
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

/** The host's probe types joined with '+', e.g. 'tcp+ssh'. */
export const probeTypes = (probes: unknown[]) => (probes as { type?: string }[]).map((p) => p.type ?? 'unknown').join('+');

/** The SSH host key fingerprint a check saw, at the top of its detail or in a composite step. */
export function observedHostKey(result: Pick<ProbeResult, 'detail'>): string | null {
  const top = result.detail.host_key_sha256;
  if (typeof top === 'string') return top;
  const steps = (result.detail.steps as { detail?: Record<string, unknown> }[] | undefined) ?? [];
  const found = steps.map((s) => s.detail?.host_key_sha256).find((k) => typeof k === 'string');
  return (found as string | undefined) ?? null;
}
