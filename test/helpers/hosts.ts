import { randomUUID } from 'node:crypto';
import type { HostState } from '../../src/machine/states.ts';
import type { Pool } from '../../src/db/pool.ts';

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
}

/**
 * Inserts hosts straight into the database (one statement), in a given state, for scheduling
 * tests that need a backlog faster than the API would build it.
 */
export async function seedHosts(pool: Pool, s: SeedHosts): Promise<string[]> {
  const ids = Array.from({ length: s.count }, () => randomUUID());
  const state = s.state ?? 'HEALTHY';
  const failures = { HEALTHY: 0, DEGRADED: 1, CRITICAL: 2, DOWN: 3 }[state];
  const snapshot = { status: 'active', value: state, historyValue: {}, context: { consecutiveFailures: failures, consecutiveSuccesses: 0 }, children: {} };
  await pool.query(
    `INSERT INTO hosts (id, name, address, probes, enabled, maintenance, "group", machine_snapshot, monitoring_state, consecutive_failures,
                        check_priority, next_check_time)
     SELECT id, $2 || '-' || ord, '127.0.0.1', $3, true, $4, $5, $6, $7, $8, $9, now() - make_interval(secs => $10::float8 / 1000) + ord * interval '1 microsecond'
       FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ord)`,
    [ids, s.namePrefix, JSON.stringify(s.probes), s.maintenance ?? false, s.group ?? null, snapshot, state, failures, s.priority ?? 3, s.dueAgoMs ?? 1000],
  );
  return ids;
}
