import type { HostState } from '../../machine/states.ts';
import { conflict } from '../../lib/errors.ts';
import { dependentsOf, detachDependents, lockDependencies, refuseCycle, setHostParents } from './dependencies.ts';
import type { Client, Pool, Queryable } from '../pool.ts';
import { SQLSTATE, sqlState } from '../sqlstate.ts';
import { withTransaction } from '../transaction.ts';
import { setHostCredentials } from './credentials.ts';
import type { PolicySettings } from '../../policies/fields.ts';
import type { HostPolicyFacts } from '../../policies/resolve.ts';
import { POLICY_COLUMNS, POLICY_JOINS } from './policies.ts';

/** A row of `hosts`, as pg returns it. */
export interface HostRow {
  id: string;
  name: string;
  address: string;
  probes: unknown[];
  enabled: boolean;
  tags: string[];
  group: string | null;
  machine_snapshot: unknown;
  monitoring_state: HostState;
  consecutive_failures: number;
  consecutive_successes: number;
  next_check_time: Date;
  check_priority: number;
  last_state_change: Date | null;
  last_check: Date | null;
  last_success: boolean | null;
  last_response_time_ms: number | null;
  last_error_type: string | null;
  last_error_message: string | null;
  lease_job_id: string | null;
  ssh_host_key_sha256: string | null;
  maintenance: boolean;
  /** The check policy assigned to the host (null: its group's, else the fleet defaults). */
  policy_id: string | null;
  /** Single policy fields set on the host itself, above its policy. */
  policy_overrides: PolicySettings;
  /** The scheduled maintenance window the host is inside now (null: none). */
  maintenance_window_id: string | null;
  /** Flap detection: recent result changes ('1' = changed, oldest first), weighted percentage, and whether flapping. */
  flap_changes: string;
  flap_percent: number;
  flapping: boolean;
  state_version: string;
  /** Id of the transaction that last wrote the row (xid8, set by a trigger): names this version exactly. */
  change_xid: string;
  created_at: Date;
  updated_at: Date;
}

export interface NewHost {
  id: string;
  name: string;
  address: string;
  probes: unknown[];
  enabled: boolean;
  maintenance: boolean;
  tags: string[];
  group: string | null;
  machineSnapshot: unknown;
  state: HostState;
  priority: number;
  /** When the first check is due, in ms from the database's now() (the clock the scheduler claims by). */
  dueInMs: number;
  policyId?: string | null;
  policyOverrides?: PolicySettings;
}

export async function insertHost(db: Queryable, h: NewHost): Promise<HostRow> {
  try {
    const { rows } = await db.query<HostRow>(
      `INSERT INTO hosts (id, name, address, probes, enabled, tags, "group", machine_snapshot, monitoring_state,
                          check_priority, next_check_time, maintenance, policy_id, policy_overrides)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + $11 * interval '1 millisecond', $12, $13, $14) RETURNING *`,
      [h.id, h.name, h.address, JSON.stringify(h.probes), h.enabled, h.tags, h.group, h.machineSnapshot, h.state, h.priority, h.dueInMs, h.maintenance,
        h.policyId ?? null, JSON.stringify(h.policyOverrides ?? {})],
    );
    return rows[0]!;
  } catch (err) {
    throw uniqueNameConflict(err, h.name);
  }
}

/**
 * Inserts a host, the credentials it references and its parents. Run inside the caller's
 * transaction (the API route also reschedules the host by its effective policy in it).
 */
export async function insertHostWithLinks(client: Client, h: NewHost, credentialIds: string[], parentIds: string[] = []): Promise<HostRow> {
  const row = await insertHost(client, h);
  await setHostCredentials(client, row.id, credentialIds);
  // A new host has no children, so its parents cannot close a cycle.
  if (parentIds.length > 0) await setHostParents(client, row.id, parentIds);
  return row;
}

/**
 * Updates a host and, when given, the credentials it references and its parents. Run inside the
 * caller's transaction: new parents, or a new group (whose gateway becomes a parent), that would
 * close a dependency cycle are refused (400 naming the cycle) and the caller's rollback writes nothing.
 */
export async function updateHostWithLinks(client: Client, id: string, patch: HostPatch, credentialIds?: string[], parentIds?: string[]): Promise<HostRow | undefined> {
  const addsEdges = parentIds !== undefined || patch.group !== undefined;
  if (addsEdges) await lockDependencies(client);
  const row = await updateHost(client, id, patch);
  if (row && credentialIds) await setHostCredentials(client, id, credentialIds);
  if (row && parentIds) await setHostParents(client, id, parentIds);
  if (row && addsEdges) await refuseCycle(client, [id], parentIds !== undefined ? 'body.depends_on' : 'body.group');
  return row;
}

/** Sets (or with null clears) the SSH host key fingerprint trusted for a host. */
export async function setSshHostKey(db: Queryable, id: string, fingerprint: string | null): Promise<HostRow | undefined> {
  const { rows } = await db.query<HostRow>(
    `UPDATE hosts SET ssh_host_key_sha256 = $2, updated_at = now(), state_version = state_version + 1 WHERE id = $1 RETURNING *`,
    [id, fingerprint],
  );
  return rows[0];
}

export async function getHost(db: Queryable, id: string): Promise<HostRow | undefined> {
  const { rows } = await db.query<HostRow>(`SELECT * FROM hosts WHERE id = $1`, [id]);
  return rows[0];
}

/** A host with the database's time of the read, in one round trip (the JIT endpoint answers with both). */
export async function getHostAt(db: Queryable, id: string): Promise<(HostRow & { db_now: Date }) | undefined> {
  const { rows } = await db.query<HostRow & { db_now: Date }>(`SELECT *, clock_timestamp() AS db_now FROM hosts WHERE id = $1`, [id]);
  return rows[0];
}

export interface HostPatch {
  name?: string;
  address?: string;
  probes?: unknown[];
  enabled?: boolean;
  maintenance?: boolean;
  tags?: string[];
  group?: string | null;
  policyId?: string | null;
  policyOverrides?: PolicySettings;
  /** Set when a change should make the host due again soon (re-enabled, probes changed): ms from the database's now(). */
  dueInMs?: number;
}

const PATCH_COLUMNS: Record<keyof HostPatch, string> = {
  name: 'name',
  address: 'address',
  probes: 'probes',
  enabled: 'enabled',
  maintenance: 'maintenance',
  tags: 'tags',
  group: '"group"',
  policyId: 'policy_id',
  policyOverrides: 'policy_overrides',
  dueInMs: 'next_check_time',
};

export async function updateHost(db: Queryable, id: string, patch: HostPatch): Promise<HostRow | undefined> {
  const entries = Object.entries(patch).filter(([, v]) => v !== undefined) as [keyof HostPatch, unknown][];
  // A due time is set from the database's clock, not this process's.
  const sets = entries.map(([key], i) => `${PATCH_COLUMNS[key]} = ${key === 'dueInMs' ? `now() + $${i + 2} * interval '1 millisecond'` : `$${i + 2}`}`);
  const values = entries.map(([key, v]) => (key === 'probes' || key === 'policyOverrides' ? JSON.stringify(v) : v));
  try {
    const { rows } = await db.query<HostRow>(
      `UPDATE hosts SET ${[...sets, 'updated_at = now()', 'state_version = state_version + 1'].join(', ')}
        WHERE id = $1 RETURNING *`,
      [id, ...values],
    );
    return rows[0];
  } catch (err) {
    throw uniqueNameConflict(err, patch.name);
  }
}

/**
 * Deletes a host, in one transaction. A host others depend on (their parent, or a group's
 * gateway) is refused with a 409 naming them, unless `detach`: then those dependencies go first.
 * Returns false for an unknown host.
 */
export async function removeHost(pool: Pool, id: string, detach: boolean): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    await lockDependencies(client);
    const d = await dependentsOf(client, id);
    if (d.childCount + d.gatewayOf.length > 0) {
      if (!detach) throw conflict(dependentsMessage(d));
      await detachDependents(client, id);
    }
    return deleteHost(client, id);
  });
}

function dependentsMessage(d: { childCount: number; childNames: string[]; gatewayOf: string[] }): string {
  const parts = [];
  if (d.childCount > 0) parts.push(`${d.childCount} host(s) depend on it (${d.childNames.join(', ')}${d.childCount > d.childNames.length ? ', …' : ''})`);
  if (d.gatewayOf.length > 0) parts.push(`it is the gateway of group(s) ${d.gatewayOf.join(', ')}`);
  return `${parts.join(' and ')}; delete with ?detach=true to remove those dependencies with it`;
}

export async function deleteHost(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM hosts WHERE id = $1`, [id]);
  return rowCount === 1;
}

function uniqueNameConflict(err: unknown, name: string | undefined): unknown {
  if (sqlState(err) === SQLSTATE.uniqueViolation) return conflict(`a host named ${JSON.stringify(name)} already exists`);
  return err;
}

/** Database time: the one clock every Vigil process agrees on. */
export async function databaseNow(db: Pool): Promise<Date> {
  const { rows } = await db.query<{ now: Date }>(`SELECT now() AS now`);
  return rows[0]!.now;
}

/** What a worker needs to run the checks of a fetched batch of jobs (its timeout and retries from its effective policy): one query for the batch. */
export interface HostToCheck extends HostPolicyFacts {
  id: string;
  address: string;
  probes: unknown[];
  ssh_host_key_sha256: string | null;
  group: string | null;
  lease_job_id: string | null;
  /** What the host's probes kept from the previous check (see probe-memory.ts). */
  probe_memory: Record<string, unknown> | null;
}

export async function hostsToCheck(db: Queryable, ids: string[]): Promise<Map<string, HostToCheck>> {
  const { rows } = await db.query<HostToCheck>(
    `SELECT h.id, h.address, h.probes, h.ssh_host_key_sha256, h."group", h.lease_job_id, h.probe_memory, ${POLICY_COLUMNS}
       FROM hosts h ${POLICY_JOINS} WHERE h.id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((h) => [h.id, h]));
}
