import { createHealthMachine, type HealthMachine } from '../machine/health-machine.ts';
import type { MachineConfig } from '../machine/states.ts';

/** Distinct threshold sets seen; a fleet has a handful of policies, so this stays tiny. */
const MAX_MACHINES = 256;
const machines = new Map<string, HealthMachine>();

/**
 * The health machine for a set of thresholds, built once and reused: xstate machines are pure
 * definitions, so hosts sharing thresholds share one. Past MAX_MACHINES (thresholds churned by
 * many edits) the cache starts over rather than grow.
 */
export function machineFor(m: MachineConfig): HealthMachine {
  const key = `${m.degradedAfterFailures}/${m.criticalAfterFailures}/${m.downAfterFailures}/${m.healthyAfterSuccesses}`;
  let machine = machines.get(key);
  if (!machine) {
    if (machines.size >= MAX_MACHINES) machines.clear();
    machine = createHealthMachine(m);
    machines.set(key, machine);
  }
  return machine;
}
