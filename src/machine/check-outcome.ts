import type { Config } from '../config/config.ts';
import type { ProbeResult } from '../probes/types.ts';
import { applyCheckResult, type PersistedHealth } from './apply-result.ts';
import { updateFlapping, type FlapUpdate } from './flapping.ts';
import type { HealthMachine } from './health-machine.ts';
import { nextCheckDelayMs } from './schedule.ts';
import { PARENT_FAILING_STATES, type CheckPolicy, type HostState } from './states.ts';

/** Who asked for a check: the schedule, or someone through the API (just in time). */
export const CHECKED_BY = ['scheduler', 'jit'] as const;
export type CheckedBy = (typeof CHECKED_BY)[number];

/** What wrote a history row: a check, or a group reset (src/db/queries/groups.ts). */
export const HISTORY_SOURCES = [...CHECKED_BY, 'reset'] as const;
export type HistorySource = (typeof HISTORY_SOURCES)[number];

/** A finished probe run, ready to be decided against the locked host row. */
export interface FinishedCheck {
  result: ProbeResult;
  /** When the probes started, on the database's clock (src/queue/database-clock.ts). */
  checkTime: Date;
  checkedBy: CheckedBy;
  /** How late the check started after its due time (scheduled checks), else null. */
  lagMs: number | null;
}

/** The facts of a host row that decide what a check means (the row as the record transaction locked it). */
export interface HostAtRecord {
  id: string;
  machine_snapshot: unknown;
  consecutive_failures: number;
  consecutive_successes: number;
  maintenance: boolean;
  group_maintenance: boolean;
  /** The scheduled maintenance window the host is inside, if any (src/maintenance). */
  maintenance_window_id?: string | null;
  lease_job_id: string | null;
  ssh_host_key_sha256: string | null;
  probes: unknown[];
  /** The last check's result (null before the first): flap detection compares with it. */
  last_success: boolean | null;
  last_check: Date | null;
  flap_changes: string;
  flap_percent: number;
  flapping: boolean;
}

/** A parent (or further ancestor) of a host that is in a PARENT_FAILING_STATES state at record time. */
export interface FailingParent {
  id: string;
  name: string;
  state: HostState;
}

/** A parent (or further ancestor) of a host as the record transaction reads it. */
export interface ParentAtRecord extends FailingParent {
  lastCheck: Date | null;
  /** In its own maintenance: not checked, so never worth waiting for. */
  maintenance: boolean;
}

/** What a check means for its host: the machine's next state, the schedule and the history row's fields. */
export interface CheckOutcome {
  machineSnapshot: PersistedHealth;
  state: HostState;
  previousState: HostState;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  changed: boolean;
  priority: number;
  /**
   * Milliseconds from the record transaction's database time to the next scheduled check; null
   * leaves next_check_time alone (a scheduled check is still pending). A delay rather than an
   * instant, so the worker's clock never sets a schedule (the database's now() does).
   */
  nextCheckDelayMs: number | null;
  checkTime: Date;
  success: boolean;
  responseTimeMs: number;
  errorType: string | null;
  errorMessage: string | null;
  detail: Record<string, unknown>;
  /** SSH host key to record when none is recorded yet (trust on first use); null for none. */
  sshHostKeySha256: string | null;
  scheduleLagMs: number | null;
  /** The host's probe types joined with '+', e.g. 'tcp+ssh'. */
  probeType: string;
  inMaintenance: boolean;
  /** The host's failing ancestors at record time (empty when none): a failure here made it UNREACHABLE. */
  failingParents: FailingParent[];
  /**
   * Ancestors not checked since this HEALTHY host's failures began: the failure is recorded but
   * held (the machine does not move) and these are made due now, so the next check knows whether
   * the host is failing or only behind a failing parent. Empty when nothing is awaited.
   */
  awaitingParents: FailingParent[];
  /** Flap detection after this check (unchanged in maintenance). */
  flap: FlapUpdate;
}

/**
 * What a check means for its host, decided from the row as it is at record time: the machine's
 * next state, when to check next, and the history row's fields. Pure. `machine` must be built from
 * `policy.machine` (the host's effective thresholds); `policy` gives the intervals and priorities.
 */
export function decideOutcome(
  machine: HealthMachine,
  config: Config,
  host: HostAtRecord,
  check: FinishedCheck,
  parents: ParentAtRecord[] = [],
  policy: CheckPolicy = config,
): CheckOutcome {
  const { result, checkTime, checkedBy, lagMs } = check;
  // In maintenance a check is recorded (flagged) but does not move the machine, so the host
  // resumes from the state it had when maintenance ends.
  const inMaintenance = host.maintenance || host.group_maintenance || Boolean(host.maintenance_window_id);
  const persisted = host.machine_snapshot as PersistedHealth;
  const failingParents = result.success ? [] : parents.filter((p) => PARENT_FAILING_STATES.includes(p.state)).map(strip);
  const awaitingParents = failingParents.length > 0 || result.success || persisted.value !== 'HEALTHY' ? [] : staleParents(parents, host, checkTime);
  const held = inMaintenance || awaitingParents.length > 0;
  const applied = held
    ? { persisted, state: persisted.value, previousState: persisted.value, consecutiveFailures: host.consecutive_failures, consecutiveSuccesses: host.consecutive_successes, changed: false }
    : applyCheckResult(machine, persisted, result.success, failingParents.length > 0);
  const flapBefore = { changes: host.flap_changes, percent: host.flap_percent, flapping: host.flapping };
  const flap = inMaintenance ? { ...flapBefore, transition: null } : updateFlapping(flapBefore, host.last_success, result.success, config.flapping);
  const statePolicy = policy.states[applied.state];
  // A JIT check that finds a scheduled check still outstanding leaves the schedule to it.
  const scheduleNext = checkedBy === 'scheduler' || host.lease_job_id === null;
  // A held failure is checked again at the cadence it would have had (DEGRADED's), its parents first.
  const scheduleState = !inMaintenance && awaitingParents.length > 0 ? 'DEGRADED' : applied.state;
  const delayed = lagMs !== null && lagMs > config.delayThresholdSeconds * 1000;
  return {
    machineSnapshot: applied.persisted,
    state: applied.state,
    previousState: applied.previousState,
    consecutiveFailures: applied.consecutiveFailures,
    consecutiveSuccesses: applied.consecutiveSuccesses,
    changed: applied.changed,
    priority: statePolicy.priority,
    nextCheckDelayMs: scheduleNext ? nextCheckDelayMs(host.id, scheduleState, config, policy) : null,
    checkTime,
    success: result.success,
    responseTimeMs: result.responseTimeMs,
    errorType: result.errorType,
    errorMessage: result.errorMessage,
    detail: {
      ...result.detail,
      // The lag has a column of its own (schedule_lag_ms), and readers add it, with `delayed`, back
      // to the detail they show (serializeCheck): stored here too it cost ~45 bytes of every
      // scheduled check's history row. Only the rare delayed check keeps its flag in the detail.
      ...(delayed ? { delayed: true } : {}),
      ...(inMaintenance ? { maintenance: true } : {}),
      ...(applied.state === 'UNREACHABLE' ? { unreachable_because: failingParents.map((p) => ({ host_id: p.id, name: p.name, state: p.state })) } : {}),
      ...(awaitingParents.length > 0 && !inMaintenance ? { awaiting_parents: awaitingParents.map((p) => ({ host_id: p.id, name: p.name, state: p.state })) } : {}),
    },
    // Trust on first use: the first successful SSH login records the host key it saw.
    sshHostKeySha256: result.success && !host.ssh_host_key_sha256 ? observedHostKey(result) : null,
    scheduleLagMs: lagMs,
    probeType: probeTypes(host.probes),
    inMaintenance,
    failingParents,
    awaitingParents: inMaintenance ? [] : awaitingParents,
    flap,
  };
}

const strip = ({ id, name, state }: FailingParent): FailingParent => ({ id, name, state });

/**
 * Ancestors (not failing, not in maintenance) whose last check is older than the start of this
 * host's failures: the host's previous check when that failed too, else this one. Once they have
 * been checked since, the host's failures count again, so a host that is really down is held for
 * one check at most.
 */
function staleParents(parents: ParentAtRecord[], host: HostAtRecord, checkTime: Date): FailingParent[] {
  const failingSince = host.last_success === false && host.last_check ? host.last_check : checkTime;
  return parents.filter((p) => !p.maintenance && (p.lastCheck === null || p.lastCheck < failingSince)).map(strip);
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
