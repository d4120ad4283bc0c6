/**
 * The host states, defined once. Every other module takes them from here (the API's enums, the
 * queue's lanes, the database rows), so adding or renaming a state is one change.
 */
export const HOST_STATES = ['HEALTHY', 'DEGRADED', 'CRITICAL', 'DOWN', 'UNREACHABLE'] as const;
export type HostState = (typeof HOST_STATES)[number];

/**
 * States in which a parent makes its children UNREACHABLE. CRITICAL and not only DOWN: at CRITICAL
 * the parent has failed twice in a row (by default), and waiting for DOWN (one more failure at
 * CRITICAL's cadence) would let children that fail alongside it walk to DOWN first and open their
 * own incidents. DEGRADED (one failure) is not enough: one lost packet would mute a whole site.
 * An UNREACHABLE parent counts too, which is how a chain (host -> switch -> router) propagates.
 */
export const PARENT_FAILING_STATES: readonly HostState[] = ['CRITICAL', 'DOWN', 'UNREACHABLE'];

/** Flap detection thresholds (Icinga 2's weighted state-change percentage), in percent. */
export interface FlappingConfig {
  /** Flapping starts when the percentage rises above this. */
  highPercent: number;
  /** Flapping stops when the percentage falls below this (hysteresis: below high). */
  lowPercent: number;
}

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
