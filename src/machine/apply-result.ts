import { getInitialSnapshot, transition } from 'xstate';
import { HOST_STATES, type HostState } from './states.ts';
import type { HealthContext, HealthMachine, HealthSnapshot } from './health-machine.ts';

/** The JSON form of a host's machine, as stored in hosts.machine_snapshot. */
export interface PersistedHealth {
  value: HostState;
  context: HealthContext;
  /** xstate's own persisted snapshot, kept whole so nothing it needs is lost on upgrades. */
  [key: string]: unknown;
}

export interface AppliedResult {
  persisted: PersistedHealth;
  state: HostState;
  previousState: HostState;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  changed: boolean;
}

export function initialHealth(machine: HealthMachine): PersistedHealth {
  return persist(machine, getInitialSnapshot(machine));
}

/** Restores a stored snapshot; an unreadable one is a bug or a bad migration, so it throws. */
export function restoreHealth(machine: HealthMachine, persisted: PersistedHealth): HealthSnapshot {
  if (!HOST_STATES.includes(persisted.value)) throw new Error(`stored machine state ${JSON.stringify(persisted.value)} is not a host state`);
  return machine.resolveState({ value: persisted.value, context: persisted.context });
}

/**
 * Applies one check result to a stored snapshot: the whole of the state logic, without I/O.
 * `parentFailing`: one of the host's parents is failing (PARENT_FAILING_STATES), so a failure
 * makes the host UNREACHABLE instead of walking it towards DOWN.
 */
export function applyCheckResult(machine: HealthMachine, persisted: PersistedHealth, success: boolean, parentFailing = false): AppliedResult {
  const before = restoreHealth(machine, persisted);
  const type = success ? 'CHECK_SUCCEEDED' : parentFailing ? 'CHECK_FAILED_BEHIND_PARENT' : 'CHECK_FAILED';
  const [after] = transition(machine, before, { type });
  const state = after.value as HostState;
  return {
    persisted: persist(machine, after),
    state,
    previousState: persisted.value,
    consecutiveFailures: after.context.consecutiveFailures,
    consecutiveSuccesses: after.context.consecutiveSuccesses,
    changed: state !== persisted.value,
  };
}

function persist(machine: HealthMachine, snapshot: HealthSnapshot): PersistedHealth {
  return machine.getPersistedSnapshot(snapshot) as unknown as PersistedHealth;
}
