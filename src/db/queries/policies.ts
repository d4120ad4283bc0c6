import type { HostRow } from './hosts.ts';
import { conflict } from '../../lib/errors.ts';
import type { HostState } from '../../machine/states.ts';
import type { PolicySettings } from '../../policies/fields.ts';
import type { HostPolicyFacts } from '../../policies/resolve.ts';
import { ANY_PARENT_EDGES } from './dependencies.ts';
import { HOST_HAS_WINDOWS } from './maintenance-windows.ts';
import type { Queryable } from '../pool.ts';
import { isReferenceViolation, SQLSTATE, sqlState } from '../sqlstate.ts';

/** A row of `check_policies`, with how many hosts and groups it is assigned to. */
export interface PolicyRow {
  id: string;
  name: string;
  description: string;
  settings: PolicySettings;
  host_count: number;
  group_count: number;
  created_at: Date;
  updated_at: Date;
}

const SELECT_POLICIES = `
  SELECT p.*,
         (SELECT count(*)::int FROM hosts h WHERE h.policy_id = p.id) AS host_count,
         (SELECT count(*)::int FROM host_groups g WHERE g.policy_id = p.id) AS group_count
    FROM check_policies p`;

export async function listPolicies(db: Queryable): Promise<PolicyRow[]> {
  const { rows } = await db.query<PolicyRow>(`${SELECT_POLICIES} ORDER BY p.name`);
  return rows;
}

export async function getPolicy(db: Queryable, id: string): Promise<PolicyRow | undefined> {
  const { rows } = await db.query<PolicyRow>(`${SELECT_POLICIES} WHERE p.id = $1`, [id]);
  return rows[0];
}

/** Policies by name (for assignments written by name); absent names are absent from the map. */
export async function policiesByName(db: Queryable, names: string[]): Promise<Map<string, { id: string; name: string; settings: PolicySettings }>> {
  if (names.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; name: string; settings: PolicySettings }>(
    `SELECT id, name, settings FROM check_policies WHERE name = ANY ($1::text[])`,
    [names],
  );
  return new Map(rows.map((r) => [r.name, r]));
}

export async function policiesById(db: Queryable, ids: string[]): Promise<{ id: string; name: string; settings: PolicySettings }[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ id: string; name: string; settings: PolicySettings }>(`SELECT id, name, settings FROM check_policies WHERE id = ANY ($1::uuid[])`, [ids]);
  return rows;
}

/** Locks a policy row for a change (the caller's transaction); undefined when it does not exist. */
export async function lockPolicy(tx: Queryable, id: string): Promise<{ id: string; name: string; settings: PolicySettings } | undefined> {
  const { rows } = await tx.query<{ id: string; name: string; settings: PolicySettings }>(
    `SELECT id, name, settings FROM check_policies WHERE id = $1 FOR UPDATE`,
    [id],
  );
  return rows[0];
}

export interface PolicyWrite {
  name: string;
  description: string;
  settings: PolicySettings;
}

export async function insertPolicy(db: Queryable, id: string, p: PolicyWrite): Promise<void> {
  try {
    await db.query(`INSERT INTO check_policies (id, name, description, settings) VALUES ($1, $2, $3, $4)`, [id, p.name, p.description, JSON.stringify(p.settings)]);
  } catch (err) {
    throw nameConflict(err, p.name);
  }
}

export async function updatePolicy(db: Queryable, id: string, p: PolicyWrite): Promise<void> {
  try {
    await db.query(
      `UPDATE check_policies SET name = $2, description = $3, settings = $4, updated_at = now() WHERE id = $1`,
      [id, p.name, p.description, JSON.stringify(p.settings)],
    );
  } catch (err) {
    throw nameConflict(err, p.name);
  }
}

/** Deletes a policy; a policy still assigned to hosts or groups is refused (409). */
export async function deletePolicy(db: Queryable, id: string): Promise<boolean> {
  try {
    const { rowCount } = await db.query(`DELETE FROM check_policies WHERE id = $1`, [id]);
    return rowCount === 1;
  } catch (err) {
    if (isReferenceViolation(err)) throw conflict('the policy is still assigned to hosts or groups; assign them another policy (or none) first');
    throw err;
  }
}

function nameConflict(err: unknown, name: string): unknown {
  if (sqlState(err) === SQLSTATE.uniqueViolation) return conflict(`a policy named ${JSON.stringify(name)} already exists`);
  return err;
}

/** Assigns a policy to a group (null: none), creating the group's settings row if needed. */
export async function setGroupPolicy(db: Queryable, group: string, policyId: string | null, defaultLimit: number): Promise<void> {
  await db.query(
    `INSERT INTO host_groups (name, max_concurrent_checks, policy_id) VALUES ($1, $3, $2)
     ON CONFLICT (name) DO UPDATE SET policy_id = $2, updated_at = now()`,
    [group, policyId, defaultLimit],
  );
}

/** The policy joins every query that resolves a host's effective policy selects (h = hosts). */
export const POLICY_JOINS = `
  LEFT JOIN check_policies hp ON hp.id = h.policy_id
  LEFT JOIN host_groups pg ON pg.name = h."group"
  LEFT JOIN check_policies gp ON gp.id = pg.policy_id`;
export const POLICY_COLUMNS = `h.policy_overrides, hp.name AS host_policy_name, hp.settings AS host_policy_settings,
  gp.name AS group_policy_name, gp.settings AS group_policy_settings`;

/** A host whose schedule a policy change may move, with what its effective policy is made of. */
export interface HostToReschedule extends HostPolicyFacts {
  id: string;
  name: string;
  monitoring_state: HostState;
}

/** Which hosts a change touches: those of a policy (directly or through their group), of a group, or named. */
export type RescheduleScope = { policyId: string } | { group: string } | { hostIds: string[] };

/**
 * Locks (in id order, as the record transaction does, so the two cannot deadlock) and returns the
 * hosts a policy change touches, with their policy facts as the caller's transaction now sees them.
 */
export async function lockHostsForReschedule(tx: Queryable, scope: RescheduleScope): Promise<HostToReschedule[]> {
  const [where, param] =
    'policyId' in scope
      ? [`h.policy_id = $1 OR h."group" IN (SELECT name FROM host_groups WHERE policy_id = $1)`, scope.policyId]
      : 'group' in scope
        ? [`h."group" = $1`, scope.group]
        : [`h.id = ANY ($1::uuid[])`, scope.hostIds];
  const { rows } = await tx.query<HostToReschedule>(
    `WITH locked AS (SELECT h.id FROM hosts h WHERE ${where} ORDER BY h.id FOR UPDATE)
     SELECT h.id, h.name, h.monitoring_state, h."group", ${POLICY_COLUMNS}
       FROM locked JOIN hosts h ON h.id = locked.id ${POLICY_JOINS}
      ORDER BY h.id`,
    [param],
  );
  return rows;
}

/** A host's new priority and schedule after a policy change. */
export interface PolicySchedule {
  id: string;
  priority: number;
  /** The host's interval in its current state, jitter included, in ms. */
  intervalMs: number;
  /** The host's fixed offset in the first-check spread, in ms. */
  spreadMs: number;
}

/**
 * Writes new priorities and next check times. A host without a check outstanding is next due one
 * interval after its last check (the new interval: shorter takes effect now, longer waits), but
 * never before its spread offset from now, so a policy change over thousands of overdue hosts is
 * spread like first checks rather than a burst. A host whose check is queued or running is left
 * to it: recording that check schedules the next one by the new policy; a host never checked keeps
 * its first check (already soon and spread). A host whose priority and next check stay as they
 * are is not written: a bulk import of hosts on the fleet's defaults rewrote every row it had
 * just inserted (every index of it again) for nothing.
 */
export async function applyPolicySchedules(tx: Queryable, schedules: PolicySchedule[]): Promise<void> {
  if (schedules.length === 0) return;
  await tx.query(
    `WITH r AS (
       SELECT r.id, r.priority,
              CASE WHEN h.lease_job_id IS NOT NULL OR h.last_check IS NULL THEN h.next_check_time
                ELSE GREATEST(COALESCE(h.last_check, now()) + r.interval_ms * interval '1 millisecond', now() + r.spread_ms * interval '1 millisecond') END AS next_check_time
         FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, priority int, interval_ms double precision, spread_ms double precision)
         JOIN hosts h ON h.id = r.id
     )
     UPDATE hosts h SET check_priority = r.priority, next_check_time = r.next_check_time, state_version = h.state_version + 1, updated_at = now()
       FROM r
      WHERE h.id = r.id AND (h.check_priority <> r.priority OR h.next_check_time IS DISTINCT FROM r.next_check_time)`,
    [JSON.stringify(schedules.map((s) => ({ id: s.id, priority: s.priority, interval_ms: s.intervalMs, spread_ms: s.spreadMs })))],
  );
}

/**
 * A host row as the state endpoint shows it: with its policy facts, its group's maintenance flag,
 * the database's time, and whether it has maintenance windows and any host has parents (so the
 * usual host, with neither, needs no further read for them).
 */
export type HostStateRow = HostRow & HostPolicyFacts & { group_maintenance: boolean; db_now: Date; has_windows: boolean; any_parent_edges: boolean };

/**
 * One read for the state endpoint (it is polled by every frontend): the host, what its effective
 * policy is made of, whether its group is in maintenance, now() to place its windows, and whether
 * there are windows or parents to read at all. Each statement is a round trip that wakes a server
 * process: on a saturated machine those wake-ups were a third of the API's CPU.
 */
export async function hostForState(db: Queryable, hostId: string): Promise<HostStateRow | undefined> {
  const { rows } = await db.query<HostStateRow>(
    `SELECT h.*, ${POLICY_COLUMNS}, COALESCE(pg.maintenance, false) AS group_maintenance, now() AS db_now,
            ${HOST_HAS_WINDOWS} AS has_windows, ${ANY_PARENT_EDGES} AS any_parent_edges
       FROM hosts h ${POLICY_JOINS} WHERE h.id = $1`,
    [hostId],
  );
  return rows[0];
}

