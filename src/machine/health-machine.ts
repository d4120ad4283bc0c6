import { assign, setup, type SnapshotFrom } from 'xstate';
import type { HostState, MachineConfig } from './states.ts';

/**
 * The host health machine. Pure: a persisted snapshot and a check result go in, the next snapshot
 * comes out (xstate's `transition()`), so no actor lives per host and any worker can apply any
 * result.
 *
 * Words used throughout Vigil:
 * - check: one run of a host's probes, ending in a result (success or failure);
 * - state: HEALTHY, DEGRADED, CRITICAL, DOWN or UNREACHABLE;
 * - transition: a check that changed the state;
 * - parent: a host this one depends on (its own depends_on, or its group's gateway).
 *
 * Failures only ever move a host to a sicker state; successes only lead back to HEALTHY, once
 * `healthyAfterSuccesses` of them come in a row. A failure while a parent is failing
 * (CHECK_FAILED_BEHIND_PARENT) moves the host to UNREACHABLE from any state instead, with its
 * counters cleared: the failures were the parent's, so once the parent is back the host walks
 * from scratch (a failure then is its first), and one success takes it straight to HEALTHY (it
 * answers, and nothing it did itself is held against it).
 */

export interface HealthContext {
  consecutiveFailures: number;
  consecutiveSuccesses: number;
}

export type HealthEvent = { type: 'CHECK_SUCCEEDED' } | { type: 'CHECK_FAILED' } | { type: 'CHECK_FAILED_BEHIND_PARENT' };

// UNREACHABLE ranks with HEALTHY for the failure walk: a host leaving it on its own failure starts over.
const SEVERITY: Record<HostState, number> = { HEALTHY: 0, DEGRADED: 1, CRITICAL: 2, DOWN: 3, UNREACHABLE: 0 };

/** The state a run of `failures` consecutive failures calls for, ignoring where the host is now. */
export function stateForFailures(failures: number, m: MachineConfig): HostState {
  if (failures >= m.downAfterFailures) return 'DOWN';
  if (failures >= m.criticalAfterFailures) return 'CRITICAL';
  if (failures >= m.degradedAfterFailures) return 'DEGRADED';
  return 'HEALTHY';
}

export function createHealthMachine(m: MachineConfig) {
  // Most severe first, so the first guard that holds names the state the failure run calls for.
  const onFailure = (from: HostState) => [
    ...(['DOWN', 'CRITICAL', 'DEGRADED'] as const)
      .filter((to) => SEVERITY[to] > SEVERITY[from])
      .map((to) => ({ guard: { type: 'failuresCallFor' as const, params: { state: to } }, target: to, actions: 'countFailure' as const })),
    // Below the DEGRADED threshold an UNREACHABLE host is simply HEALTHY with a failure counted.
    from === 'UNREACHABLE' ? { target: 'HEALTHY' as const, actions: 'countFailure' as const } : { actions: 'countFailure' as const },
  ];

  const onSuccess = (from: HostState) => [
    ...(from === 'UNREACHABLE' ? [{ target: 'HEALTHY' as const, actions: 'countSuccess' as const }] : []),
    ...(from === 'HEALTHY' ? [] : [{ guard: 'successesCallForHealthy' as const, target: 'HEALTHY' as const, actions: 'countSuccess' as const }]),
    { actions: 'countSuccess' as const },
  ];

  const behindParent = (from: HostState) =>
    from === 'UNREACHABLE' ? { actions: 'clearCounts' as const } : { target: 'UNREACHABLE' as const, actions: 'clearCounts' as const };

  const stateNode = (state: HostState) => ({
    on: { CHECK_FAILED: onFailure(state), CHECK_SUCCEEDED: onSuccess(state), CHECK_FAILED_BEHIND_PARENT: behindParent(state) },
  });

  return setup({
    types: { context: {} as HealthContext, events: {} as HealthEvent },
    actions: {
      countFailure: assign(({ context }) => ({ consecutiveFailures: context.consecutiveFailures + 1, consecutiveSuccesses: 0 })),
      countSuccess: assign(({ context }) => ({ consecutiveSuccesses: context.consecutiveSuccesses + 1, consecutiveFailures: 0 })),
      clearCounts: assign(() => ({ consecutiveSuccesses: 0, consecutiveFailures: 0 })),
    },
    guards: {
      // Guards see the context before the action runs, hence the + 1.
      failuresCallFor: ({ context }, params: { state: HostState }) =>
        stateForFailures(context.consecutiveFailures + 1, m) === params.state,
      successesCallForHealthy: ({ context }) => context.consecutiveSuccesses + 1 >= m.healthyAfterSuccesses,
    },
  }).createMachine({
    id: 'host-health',
    initial: 'HEALTHY',
    context: { consecutiveFailures: 0, consecutiveSuccesses: 0 },
    states: {
      HEALTHY: stateNode('HEALTHY'),
      DEGRADED: stateNode('DEGRADED'),
      CRITICAL: stateNode('CRITICAL'),
      DOWN: stateNode('DOWN'),
      UNREACHABLE: stateNode('UNREACHABLE'),
    },
  });
}

export type HealthMachine = ReturnType<typeof createHealthMachine>;
export type HealthSnapshot = SnapshotFrom<HealthMachine>;
