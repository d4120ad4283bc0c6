import type { HostState } from '../../machine/states.ts';
import { conflict } from '../../lib/errors.ts';
import type { Pool, Queryable } from '../pool.ts';
import { SQLSTATE, sqlState } from '../sqlstate.ts';
import { withTransaction } from '../transaction.ts';
import { setHostCredentials } from './credentials.ts';

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
  jit_job_id: string | null;
  ssh_host_key_sha256: string | null;
  maintenance: boolean;
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
}

export async function insertHost(db: Queryable, h: NewHost): Promise<HostRow> {
  try {
    const { rows } = await db.query<HostRow>(
      `INSERT INTO hosts (id, name, address, probes, enabled, tags, "group", machine_snapshot, monitoring_state,
                          check_priority, next_check_time, maintenance)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + $11 * interval '1 millisecond', $12) RETURNING *`,
      [h.id, h.name, h.address, JSON.stringify(h.probes), h.enabled, h.tags, h.group, h.machineSnapshot, h.state, h.priority, h.dueInMs, h.maintenance],
    );
    return rows[0]!;
  } catch (err) {
    throw uniqueNameConflict(err, h.name);
  }
}

/** Inserts a host and the credentials it references, in one transaction. */
export async function createHost(pool: Pool, h: NewHost, credentialIds: string[]): Promise<HostRow> {
  return withTransaction(pool, async (client) => {
    const row = await insertHost(client, h);
    await setHostCredentials(client, row.id, credentialIds);
    return row;
  });
}

/** Updates a host and, when its probes changed, the credentials it references, in one transaction. */
export async function changeHost(pool: Pool, id: string, patch: HostPatch, credentialIds?: string[]): Promise<HostRow | undefined> {
  return withTransaction(pool, async (client) => {
    const row = await updateHost(client, id, patch);
    if (row && credentialIds) await setHostCredentials(client, id, credentialIds);
    return row;
  });
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

export interface HostPatch {
  name?: string;
  address?: string;
  probes?: unknown[];
  enabled?: boolean;
  maintenance?: boolean;
  tags?: string[];
  group?: string | null;
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
  dueInMs: 'next_check_time',
};

export async function updateHost(db: Queryable, id: string, patch: HostPatch): Promise<HostRow | undefined> {
  const entries = Object.entries(patch).filter(([, v]) => v !== undefined) as [keyof HostPatch, unknown][];
  // A due time is set from the database's clock, not this process's.
  const sets = entries.map(([key], i) => `${PATCH_COLUMNS[key]} = ${key === 'dueInMs' ? `now() + $${i + 2} * interval '1 millisecond'` : `$${i + 2}`}`);
  const values = entries.map(([key, v]) => (key === 'probes' ? JSON.stringify(v) : v));
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

/** What a worker needs to run the checks of a fetched batch of jobs: one query for the batch. */
export interface HostToCheck {
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
    `SELECT id, address, probes, ssh_host_key_sha256, "group", lease_job_id, probe_memory FROM hosts WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((h) => [h.id, h]));
}
