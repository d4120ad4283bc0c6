import type { HostState } from '../../machine/states.ts';
import type { Queryable } from '../pool.ts';

/** Host counts per (group, state, enabled): at most groups × 4 × 2 rows, from one scan of hosts. */
export interface HostCountRow {
  group: string | null;
  monitoring_state: HostState;
  enabled: boolean;
  hosts: number;
}

export async function countHosts(db: Queryable): Promise<HostCountRow[]> {
  const { rows } = await db.query<HostCountRow>(
    `SELECT "group", monitoring_state, enabled, count(*)::int AS hosts FROM hosts GROUP BY 1, 2, 3`,
  );
  return rows;
}
