import { assign, setup, type SnapshotFrom } from 'xstate';
import type { HostState, MachineConfig } from './states.ts';

/**
 * The host health machine. Pure: a persisted snapshot and a check result go in, the next snapshot
 * comes out (xstate's `transition()`), so no actor lives per host and any worker can apply any
 * result.
 *
 * Words used throughout Vigil:
 * - check: one run of a host's probes, ending in a result (success or failure);
 * - state: HEALTHY, DEGRADED, CRITICAL or DOWN;
 * - transition: a check that changed the state.
 *
 * Failures only ever move a host to a sicker state; successes only lead back to HEALTHY, once
 * `healthyAfterSuccesses` of them come in a row.
 */

export interface HealthContext {
  consecutiveFailures: number;
  consecutiveSuccesses: number;
}

export type HealthEvent = { type: 'CHECK_SUCCEEDED' } | { type: 'CHECK_FAILED' };

const SEVERITY: Record<HostState, number> = { HEALTHY: 0, DEGRADED: 1, CRITICAL: 2, DOWN: 3 };

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
    { actions: 'countFailure' as const },
  ];

  const onSuccess = (from: HostState) => [
    ...(from === 'HEALTHY' ? [] : [{ guard: 'successesCallForHealthy' as const, target: 'HEALTHY' as const, actions: 'countSuccess' as const }]),
    { actions: 'countSuccess' as const },
  ];

  const stateNode = (state: HostState) => ({ on: { CHECK_FAILED: onFailure(state), CHECK_SUCCEEDED: onSuccess(state) } });

  return setup({
    types: { context: {} as HealthContext, events: {} as HealthEvent },
    actions: {
      countFailure: assign(({ context }) => ({ consecutiveFailures: context.consecutiveFailures + 1, consecutiveSuccesses: 0 })),
      countSuccess: assign(({ context }) => ({ consecutiveSuccesses: context.consecutiveSuccesses + 1, consecutiveFailures: 0 })),
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
    },
  });
}

export type HealthMachine = ReturnType<typeof createHealthMachine>;
export type HealthSnapshot = SnapshotFrom<HealthMachine>;
