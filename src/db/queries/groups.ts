import type { HostState } from '../../machine/states.ts';
import type { Queryable } from '../pool.ts';

export interface GroupRow {
  name: string;
  max_concurrent_checks: number;
  maintenance: boolean;
  policy_id: string | null;
  /** The host every member depends on, or null. */
  gateway_host_id: string | null;
  /** False when the group only exists as a name on hosts (default settings). */
  configured: boolean;
  host_count: number;
  by_state: Partial<Record<HostState, number>>;
}

const GROUPS = `
  WITH names AS (SELECT name FROM host_groups UNION SELECT DISTINCT "group" FROM hosts WHERE "group" IS NOT NULL),
       counts AS (SELECT "group" AS name, monitoring_state, count(*)::int AS n FROM hosts WHERE "group" IS NOT NULL GROUP BY 1, 2)
  SELECT n.name,
         COALESCE(g.max_concurrent_checks, $1) AS max_concurrent_checks,
         COALESCE(g.maintenance, false) AS maintenance,
         g.policy_id,
         g.gateway_host_id,
         g.name IS NOT NULL AS configured,
         COALESCE((SELECT sum(c.n) FROM counts c WHERE c.name = n.name), 0)::int AS host_count,
         COALESCE((SELECT jsonb_object_agg(c.monitoring_state, c.n) FROM counts c WHERE c.name = n.name), '{}') AS by_state
    FROM names n LEFT JOIN host_groups g ON g.name = n.name`;

export async function listGroups(db: Queryable, defaultLimit: number): Promise<GroupRow[]> {
  const { rows } = await db.query<GroupRow>(`${GROUPS} ORDER BY n.name`, [defaultLimit]);
  return rows;
}

export async function getGroup(db: Queryable, name: string, defaultLimit: number): Promise<GroupRow | undefined> {
  const { rows } = await db.query<GroupRow>(`${GROUPS} WHERE n.name = $2`, [defaultLimit, name]);
  return rows[0];
}

/** Creates or changes a group's settings; fields left undefined keep their value (or default). */
export async function upsertGroup(db: Queryable, name: string, s: { maxConcurrentChecks?: number; maintenance?: boolean }, defaultLimit: number): Promise<void> {
  await db.query(
    `INSERT INTO host_groups (name, max_concurrent_checks, maintenance) VALUES ($1, COALESCE($2::int, $4::int), COALESCE($3::boolean, false))
     ON CONFLICT (name) DO UPDATE SET max_concurrent_checks = COALESCE($2::int, host_groups.max_concurrent_checks),
                                      maintenance = COALESCE($3::boolean, host_groups.maintenance), updated_at = now()`,
    [name, s.maxConcurrentChecks ?? null, s.maintenance ?? null, defaultLimit],
  );
}

/** After maintenance ends, hosts are due soon (spread over `spreadSeconds`), not at once. */
export async function makeGroupDueSoon(db: Queryable, name: string, spreadSeconds: number): Promise<void> {
  await db.query(
    `UPDATE hosts SET next_check_time = now() + make_interval(secs => random() * $2::float8), state_version = state_version + 1, updated_at = now()
      WHERE "group" = $1 AND lease_job_id IS NULL`,
    [name, spreadSeconds],
  );
}

/** Enables or disables every host of a group; returns how many changed. */
export async function setGroupEnabled(db: Queryable, name: string, enabled: boolean, spreadSeconds: number): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE hosts SET enabled = $2, state_version = state_version + 1, updated_at = now(),
            next_check_time = CASE WHEN $2 THEN now() + make_interval(secs => random() * $3::float8) ELSE next_check_time END
      WHERE "group" = $1 AND enabled <> $2`,
    [name, enabled, spreadSeconds],
  );
  return rowCount ?? 0;
}

/** A host a group reset put back to HEALTHY, with the state it left. */
export interface ResetHost {
  id: string;
  name: string;
  group: string | null;
  previous: HostState;
  reset_at: Date;
}

/** Puts every host of a group back to HEALTHY with cleared counters (locked in id order); returns them. */
export async function resetGroupHosts(
  tx: Queryable,
  name: string,
  r: { machineSnapshot: unknown; priority: number; spreadSeconds: number },
): Promise<ResetHost[]> {
  const { rows } = await tx.query<ResetHost>(
    `WITH locked AS (SELECT id, monitoring_state FROM hosts WHERE "group" = $1 ORDER BY id FOR UPDATE)
     UPDATE hosts h SET machine_snapshot = $2, monitoring_state = 'HEALTHY', consecutive_failures = 0, consecutive_successes = 0,
            check_priority = $3, last_state_change = CASE WHEN locked.monitoring_state <> 'HEALTHY' THEN now() ELSE h.last_state_change END,
            next_check_time = CASE WHEN h.lease_job_id IS NULL THEN now() + make_interval(secs => random() * $4::float8) ELSE h.next_check_time END,
            state_version = state_version + 1, updated_at = now()
       FROM locked WHERE h.id = locked.id
     RETURNING h.id, h.name, h."group", locked.monitoring_state AS previous, now() AS reset_at`,
    [name, r.machineSnapshot, r.priority, r.spreadSeconds],
  );
  return rows;
}

/** One history row (checked_by 'reset') per reset host; returns each row's id by host id. */
export async function insertResetHistory(tx: Queryable, hosts: ResetHost[]): Promise<Map<string, string>> {
  const { rows } = await tx.query<{ id: string; host_id: string }>(
    `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, success, checked_by, detail)
     SELECT id, now(), 'HEALTHY', previous, true, 'reset', '{"reset": true}' FROM unnest($1::uuid[], $2::text[]) AS t(id, previous)
     RETURNING id, host_id`,
    [hosts.map((h) => h.id), hosts.map((h) => h.previous)],
  );
  return new Map(rows.map((r) => [r.host_id, r.id]));
}

/** The concurrent-check limit for a host's group (the group's setting or the default). */
export async function groupLimit(db: Queryable, name: string, defaultLimit: number): Promise<number> {
  const { rows } = await db.query<{ limit: number }>(`SELECT max_concurrent_checks AS limit FROM host_groups WHERE name = $1`, [name]);
  return rows[0]?.limit ?? defaultLimit;
}

export async function groupInMaintenance(db: Queryable, name: string | null): Promise<boolean> {
  if (name === null) return false;
  const { rows } = await db.query<{ maintenance: boolean }>(`SELECT maintenance FROM host_groups WHERE name = $1`, [name]);
  return rows[0]?.maintenance ?? false;
}

/** Whether any host belongs to a group (hosts_group_idx makes this an index probe). */
export async function anyGroupedHosts(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM hosts WHERE "group" IS NOT NULL) AS any`);
  return rows[0]!.any;
}
