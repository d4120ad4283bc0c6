import { conflict } from '../../lib/errors.ts';
import type { Client, Pool, Queryable } from '../pool.ts';
import { isReferenceViolation, SQLSTATE, sqlState } from '../sqlstate.ts';
import type { NewHost } from './hosts.ts';
import { lockDependencies, refuseCycle, resolveHostRefs, setManyHostParents } from './dependencies.ts';
import { withTransaction } from '../transaction.ts';

/**
 * Writing many hosts at once: each statement takes the whole batch as one JSON parameter
 * (jsonb_to_recordset), so 5,000 hosts cost a handful of round trips, not 5,000.
 */

/** What every host a batch creates starts with (BulkWrite), rather than each host of the batch. */
type StartingMachine = 'machineSnapshot' | 'state' | 'priority';

/**
 * One host of a batch: a new host's configuration and the id it gets if created (an existing host
 * keeps its own), its credentials. Its machine comes from BulkWrite; when it is due, from dueInMs.
 */
export type BulkHost = Omit<NewHost, StartingMachine | 'dueInMs'> & {
  /** Position in the request, for error messages. */
  index: number;
  credentialIds: string[];
};

/** How a batch compares with the table, by name. */
export interface BulkPlan {
  created: BulkHost[];
  changed: (BulkHost & { existingId: string })[];
  unchanged: BulkHost[];
}

const RECORD = `x(id uuid, name text, address text, probes jsonb, enabled boolean, maintenance boolean, tags text[], "group" text, due_in_ms double precision,
                  policy_id uuid, policy_overrides jsonb)`;
const CONFIG = (t: string) => `(${t}.address, ${t}.probes, ${t}.enabled, ${t}.maintenance, ${t}.tags, ${t}."group", ${t}.policy_id, ${t}.policy_overrides)`;

const records = (hosts: BulkHost[], dueInMs: (id: string) => number = () => 0) =>
  JSON.stringify(
    hosts.map((h) => ({
      id: h.id, name: h.name, address: h.address, probes: h.probes, enabled: h.enabled, maintenance: h.maintenance,
      tags: h.tags, group: h.group, due_in_ms: dueInMs(h.id), policy_id: h.policyId ?? null, policy_overrides: h.policyOverrides ?? {},
    })),
  );

/**
 * One host by name through the unique btree index (hosts_name_key), whatever the statistics say.
 * `name >= n AND name <= n` is equality for the (deterministic) collation, but only a btree can
 * serve a range: the trigram GIN index on names (hosts_name_trgm_idx then, in host_search since
 * 0103) could not, and the LIMIT keeps the subquery a per-name lookup (a parameterized nested loop)
 * rather than a join the planner may reorder. With stale statistics mid-import, `h.name = x.name`
 * was planned through the trigram index or a sequential scan: 161 hosts/s past 40,000 hosts
 * (bench scale pass).
 * EXPLAIN at 100,000 hosts: Nested Loop Left Join -> Limit -> Index Scan using hosts_name_key,
 * Index Cond: ((name >= x.name) AND (name <= x.name)).
 */
const BY_NAME = (name: string, columns: string, lock = '') =>
  `LATERAL (SELECT ${columns} FROM hosts WHERE hosts.name >= ${name} AND hosts.name <= ${name} LIMIT 1 ${lock})`;

/** Classifies a batch: new names are created, existing ones changed or unchanged (configuration compared as stored, jsonb equality for probes). */
export async function planBulkHosts(db: Queryable, hosts: BulkHost[]): Promise<BulkPlan> {
  const { rows } = await db.query<{ name: string; existing_id: string | null; same: boolean }>(
    `SELECT x.name, h.id AS existing_id, h.id IS NOT NULL AND ${CONFIG('h')} IS NOT DISTINCT FROM ${CONFIG('x')} AS same
       FROM jsonb_to_recordset($1::jsonb) AS ${RECORD}
       LEFT JOIN ${BY_NAME('x.name', 'id, address, probes, enabled, maintenance, tags, "group", policy_id, policy_overrides')} AS h ON true`,
    [records(hosts)],
  );
  const byName = new Map(rows.map((r) => [r.name, r]));
  const plan: BulkPlan = { created: [], changed: [], unchanged: [] };
  for (const host of hosts) {
    const row = byName.get(host.name)!;
    if (row.existing_id === null) plan.created.push(host);
    else if (row.same) plan.unchanged.push(host);
    else plan.changed.push({ ...host, existingId: row.existing_id });
  }
  return plan;
}

/** How to write a batch; the new hosts' machine (initial snapshot, state and its priority) as for one new host. */
export interface BulkWrite extends Pick<NewHost, StartingMachine> {
  /** Change existing hosts; without it a batch naming any existing host writes nothing. */
  upsert: boolean;
  /**
   * How soon (ms from the database's now()) a created host, or a changed one whose checks change
   * (address, probes, re-enabled, out of maintenance), is next due.
   */
  dueInMs: (hostId: string) => number;
  /**
   * Each host's parents by host name, as names or ids of hosts that exist or are in the batch
   * (checked beforehand: see checkBulkParentRefs); they replace the host's own parents.
   */
  dependsOn: Map<string, string[]>;
}

/**
 * Creates and (with upsert) changes the batch's hosts in one transaction, all or nothing. The
 * existing hosts are locked before the plan is made, so it holds until commit. Changed hosts keep
 * their id, machine and state; only their configuration is replaced. Returns the plan and whether
 * it was written (not when existing names were met without upsert).
 */
export async function writeBulkHosts(pool: Pool, hosts: BulkHost[], w: BulkWrite): Promise<{ plan: BulkPlan; written: boolean }> {
  return withTransaction(pool, async (client) => {
    // Locked in name order (the array is sorted), so concurrent batches can't deadlock on each other.
    await client.query(`SELECT h.id FROM unnest($1::text[]) AS n(name) CROSS JOIN ${BY_NAME('n.name', 'id', 'FOR UPDATE')} AS h`, [
      hosts.map((h) => h.name).sort(),
    ]);
    const plan = await planBulkHosts(client, hosts);
    if (!w.upsert && plan.created.length < hosts.length) return { plan, written: false };
    await insertHosts(client, plan.created, w);
    await updateHosts(client, plan.changed, w.dueInMs);
    const written = [...plan.created, ...plan.changed.map((h) => ({ ...h, id: h.existingId }))];
    await replaceCredentialRefs(client, plan.changed.map((h) => h.existingId), written);
    await writeBulkParents(client, w.dependsOn);
    return { plan, written: true };
  });
}

async function insertHosts(client: Client, hosts: BulkHost[], w: BulkWrite): Promise<void> {
  if (hosts.length === 0) return;
  try {
    await client.query(
      `INSERT INTO hosts (id, name, address, probes, enabled, maintenance, tags, "group", machine_snapshot, monitoring_state,
                          check_priority, next_check_time, policy_id, policy_overrides)
       SELECT x.id, x.name, x.address, x.probes, x.enabled, x.maintenance, x.tags, x."group", $2, $3, $4, now() + x.due_in_ms * interval '1 millisecond',
              x.policy_id, x.policy_overrides
         FROM jsonb_to_recordset($1::jsonb) AS ${RECORD}`,
      [records(hosts, w.dueInMs), w.machineSnapshot, w.state, w.priority],
    );
  } catch (err) {
    if (isReferenceViolation(err)) throw conflict('a check policy the hosts name was deleted meanwhile');
    // A name taken by a concurrent create between the lock and the insert.
    if (sqlState(err) === SQLSTATE.uniqueViolation) throw conflict(`a host of this batch was created meanwhile: ${(err as { detail?: string }).detail ?? ''}`);
    throw err;
  }
}

async function updateHosts(client: Client, hosts: (BulkHost & { existingId: string })[], dueInMs: (id: string) => number): Promise<void> {
  if (hosts.length === 0) return;
  await client.query(
    `UPDATE hosts h
        SET address = x.address, probes = x.probes, enabled = x.enabled, maintenance = x.maintenance, tags = x.tags, "group" = x."group",
            policy_id = x.policy_id, policy_overrides = x.policy_overrides,
            next_check_time = CASE WHEN h.address <> x.address OR h.probes <> x.probes OR (x.enabled AND NOT h.enabled)
                                     OR (h.maintenance AND NOT x.maintenance)
                                   THEN now() + x.due_in_ms * interval '1 millisecond' ELSE h.next_check_time END,
            state_version = h.state_version + 1, updated_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS ${RECORD}
      WHERE h.id = x.id`,
    [records(hosts.map((h) => ({ ...h, id: h.existingId })), dueInMs)],
  );
}

/** host_credentials of the written hosts: the changed hosts' stale rows go, every needed row is there. */
async function replaceCredentialRefs(client: Client, changedIds: string[], written: BulkHost[]): Promise<void> {
  const pairs = written.flatMap((h) => h.credentialIds.map((c) => [h.id, c] as const));
  const hostIds = pairs.map((p) => p[0]);
  const credentialIds = pairs.map((p) => p[1]);
  if (changedIds.length > 0) {
    await client.query(
      `DELETE FROM host_credentials hc
        WHERE hc.host_id = ANY ($1::uuid[])
          AND NOT EXISTS (SELECT 1 FROM unnest($2::uuid[], $3::uuid[]) AS p(host_id, credential_id)
                           WHERE p.host_id = hc.host_id AND p.credential_id = hc.credential_id)`,
      [changedIds, hostIds, credentialIds],
    );
  }
  if (pairs.length === 0) return;
  try {
    await client.query(
      `INSERT INTO host_credentials (host_id, credential_id) SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING`,
      [hostIds, credentialIds],
    );
  } catch (err) {
    if (isReferenceViolation(err)) throw conflict('a credential the hosts reference was deleted meanwhile');
    throw err;
  }
}

/** The batch's parents, by name or id, written once every host of the batch exists; a cycle refuses the whole batch. */
async function writeBulkParents(client: Client, dependsOn: Map<string, string[]>): Promise<void> {
  if (dependsOn.size === 0) return;
  await lockDependencies(client);
  const ids = await resolveHostRefs(client, [...new Set([...dependsOn.keys(), ...[...dependsOn.values()].flat()])]);
  const parents = new Map([...dependsOn].map(([name, refs]) => [ids.get(name)!, refs.map((r) => ids.get(r)!)]));
  // A reference deleted between the check and this transaction: the foreign key refuses it.
  await setManyHostParents(client, parents);
  await refuseCycle(client, [...parents.keys()], 'body.hosts');
}
