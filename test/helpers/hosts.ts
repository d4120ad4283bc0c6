import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/config.ts';
import type { HostState, MachineConfig } from '../../src/machine/states.ts';
import type { Pool } from '../../src/db/pool.ts';
import { applyCheckResult, initialHealth, type PersistedHealth } from '../../src/machine/apply-result.ts';
import { createHealthMachine } from '../../src/machine/health-machine.ts';

export interface SeedHosts {
  count: number;
  namePrefix: string;
  probes: unknown[];
  state?: HostState;
  priority?: number;
  group?: string | null;
  /** How long ago they became due (default: 1 s); negative = due in the future. */
  dueAgoMs?: number;
  maintenance?: boolean;
  /** Thresholds of the machine the hosts are built with (default: a default-configured Vigil's). */
  machine?: MachineConfig;
}

/**
 * A host's stored machine in `state`, reached the way a real host reaches it: the machine's own
 * initialHealth, then one failed check at a time. No hand-written snapshot to drift from xstate's.
 */
export function healthIn(state: HostState, machineConfig: MachineConfig = loadConfig({}).machine): PersistedHealth {
  const machine = createHealthMachine(machineConfig);
  let health = initialHealth(machine);
  for (let failures = 0; health.value !== state; failures++) {
    if (failures > machineConfig.downAfterFailures) throw new Error(`failures never lead to ${state}`);
    health = applyCheckResult(machine, health, false).persisted;
  }
  return health;
}

/**
 * Inserts hosts straight into the database (one statement), in a given state, for scheduling
 * tests that need a backlog faster than the API would build it.
 */
export async function seedHosts(pool: Pool, s: SeedHosts): Promise<string[]> {
  const ids = Array.from({ length: s.count }, () => randomUUID());
  const snapshot = healthIn(s.state ?? 'HEALTHY', s.machine);
  const failures = snapshot.context.consecutiveFailures;

  await pool.query(
    `INSERT INTO hosts (id, name, address, probes, enabled, maintenance, "group", machine_snapshot, monitoring_state, consecutive_failures,
                        check_priority, next_check_time)
     SELECT id, $2 || '-' || ord, '127.0.0.1', $3, true, $4, $5, $6, $7, $8, $9, now() - make_interval(secs => $10::float8 / 1000) + ord * interval '1 microsecond'
       FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ord)`,
    [ids, s.namePrefix, JSON.stringify(s.probes), s.maintenance ?? false, s.group ?? null, snapshot, snapshot.value, failures, s.priority ?? 3, s.dueAgoMs ?? 1000],
  );
  return ids;
}
