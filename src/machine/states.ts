/**
 * The host states, defined once. Every other module takes them from here (the API's enums, the
 * queue's lanes, the database rows), so adding or renaming a state is one change.
 */
export const HOST_STATES = ['HEALTHY', 'DEGRADED', 'CRITICAL', 'DOWN'] as const;
export type HostState = (typeof HOST_STATES)[number];

/** How a state is checked: how often and how urgently. */
export interface StatePolicy {
  /** Seconds from the end of a check to the next scheduled one. */
  intervalSeconds: number;
  /** pg-boss priority of scheduled checks in this state (higher runs first). */
  priority: number;
}

/** The machine's thresholds: consecutive results that move a host between states. */
export interface MachineConfig {
  degradedAfterFailures: number;
  criticalAfterFailures: number;
  downAfterFailures: number;
  healthyAfterSuccesses: number;
}

/**
 * What the machine and the schedule read for one host: its effective check policy (src/policies
 * resolves it host -> group -> fleet defaults). The fleet configuration is one too.
 */
export interface CheckPolicy {
  machine: MachineConfig;
  states: Record<HostState, StatePolicy>;
}
