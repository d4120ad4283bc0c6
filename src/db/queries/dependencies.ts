import type { FailingParent, ParentAtRecord } from '../../machine/check-outcome.ts';
import { PARENT_FAILING_STATES, type HostState } from '../../machine/states.ts';
import { badRequest } from '../../lib/errors.ts';
import type { Pool, Queryable } from '../pool.ts';
import { withTransaction } from '../transaction.ts';

/**
 * Host dependencies: a host's own parents (host_dependencies) and its group's gateway
 * (host_groups.gateway_host_id), both read through the host_parent_edges view. Every walk is
 * bounded by a depth (VIGIL_DEPENDENCY_MAX_DEPTH); writes are serialised by one advisory lock so
 * two concurrent writes cannot each add half of a cycle.
 */

/** Held by every transaction that adds dependency edges, until it commits. */
const DEPENDENCY_LOCK = 0x76_64_65_70; // "vdep"

export async function lockDependencies(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock($1)`, [DEPENDENCY_LOCK]);
}

/** An ancestor of a host as the record transaction sees it. */
export type Ancestor = ParentAtRecord;

/** True when any host has a parent: an expression, for reads that ask it with other things. */
export const ANY_PARENT_EDGES = `(EXISTS (SELECT 1 FROM host_dependencies) OR EXISTS (SELECT 1 FROM host_groups WHERE gateway_host_id IS NOT NULL))`;

/**
 * Whether any host has a parent (its own or its group's gateway). The walks below cost about
 * 10 ms each on 10,000 hosts even when no edge exists (the edge view joins hosts to groups), and
 * the recorder asks for one on most batches; a fleet without dependencies pays this probe instead.
 */
export async function anyParentEdges(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ any: boolean }>(`SELECT ${ANY_PARENT_EDGES} AS any`);
  return rows[0]!.any;
}

/** Each host's enabled ancestors, up to `maxDepth` levels up, by name; hosts without any are absent. */
export async function ancestorsOf(db: Queryable, hostIds: string[], maxDepth: number): Promise<Map<string, Ancestor[]>> {
  if (hostIds.length === 0 || !(await anyParentEdges(db))) return new Map();
  const { rows } = await db.query<{ start_id: string; id: string; name: string; state: HostState; last_check: Date | null; maintenance: boolean }>(
    `WITH RECURSIVE up(start_id, host_id, depth) AS (
       SELECT e.child_id, e.parent_id, 1 FROM host_parent_edges e WHERE e.child_id = ANY ($1::uuid[])
       UNION
       SELECT up.start_id, e.parent_id, up.depth + 1 FROM up JOIN host_parent_edges e ON e.child_id = up.host_id WHERE up.depth < $2
     )
     SELECT DISTINCT up.start_id, h.id, h.name, h.monitoring_state AS state, h.last_check, h.maintenance
       FROM up JOIN hosts h ON h.id = up.host_id
      WHERE h.enabled AND h.id <> up.start_id
      ORDER BY 1, 3`,
    [hostIds, maxDepth],
  );
  const byHost = new Map<string, Ancestor[]>();
  for (const r of rows) {
    const ancestor = { id: r.id, name: r.name, state: r.state, lastCheck: r.last_check, maintenance: r.maintenance };
    byHost.set(r.start_id, [...(byHost.get(r.start_id) ?? []), ancestor]);
  }
  return byHost;
}

/** Each host's failing ancestors (in PARENT_FAILING_STATES, enabled), up to `maxDepth` levels up; hosts without any are absent. */
export async function failingAncestors(db: Queryable, hostIds: string[], maxDepth: number): Promise<Map<string, FailingParent[]>> {
  const failing = new Map<string, FailingParent[]>();
  for (const [id, ancestors] of await ancestorsOf(db, hostIds, maxDepth)) {
    const list = ancestors.filter((a) => PARENT_FAILING_STATES.includes(a.state)).map(({ id, name, state }) => ({ id, name, state }));
    if (list.length > 0) failing.set(id, list);
  }
  return failing;
}

/**
 * Makes hosts due now (a child failed and they have not been checked since): the check that says
 * whether the child is DOWN or UNREACHABLE comes at once, not at the parent's own cadence.
 * Hosts with a check outstanding, or due already, are left alone.
 */
export async function makeHostsDueNow(tx: Queryable, hostIds: string[]): Promise<void> {
  if (hostIds.length === 0) return;
  await tx.query(
    `UPDATE hosts SET next_check_time = now(), state_version = state_version + 1, updated_at = now()
      WHERE id = ANY ($1::uuid[]) AND lease_job_id IS NULL AND next_check_time > now()`,
    [hostIds],
  );
}

/**
 * A parent recovered: its UNREACHABLE descendants (up to `maxDepth` levels down) become due at
 * once, spread over `spreadSeconds` so a recovered OLT is not hit by all of them in one second
 * (the group's concurrency limit then admits them a few at a time). Hosts with a check
 * outstanding keep it. The recovery check runs at `priority` (HEALTHY's): at UNREACHABLE's low
 * priority it would queue behind every healthy check of its group and, in a busy group, wait
 * for its slow cadence after all. Returns how many were made due.
 */
export async function makeUnreachableDescendantsDue(tx: Queryable, parentIds: string[], maxDepth: number, spreadSeconds: number, priority: number): Promise<number> {
  if (parentIds.length === 0 || !(await anyParentEdges(tx))) return 0;
  const { rowCount } = await tx.query(
    `WITH RECURSIVE down(host_id, depth) AS (
       SELECT e.child_id, 1 FROM host_parent_edges e WHERE e.parent_id = ANY ($1::uuid[])
       UNION
       SELECT e.child_id, down.depth + 1 FROM down JOIN host_parent_edges e ON e.parent_id = down.host_id WHERE down.depth < $2
     )
     UPDATE hosts h SET next_check_time = LEAST(h.next_check_time, now() + make_interval(secs => random() * $3::float8)),
            check_priority = GREATEST(h.check_priority, $4), state_version = h.state_version + 1, updated_at = now()
      WHERE h.id IN (SELECT host_id FROM down) AND h.monitoring_state = 'UNREACHABLE' AND h.lease_job_id IS NULL`,
    [parentIds, maxDepth, spreadSeconds, priority],
  );
  return rowCount ?? 0;
}

/** Links hosts that just became UNREACHABLE to the open incidents of the ancestors that made them so. */
export async function linkUnreachableToIncidents(tx: Queryable, links: { hostId: string; parentIds: string[] }[]): Promise<void> {
  const pairs = links.flatMap((l) => l.parentIds.map((p) => [l.hostId, p] as const));
  if (pairs.length === 0) return;
  await tx.query(
    `INSERT INTO incident_unreachable_hosts (incident_id, host_id, since)
     SELECT i.id, x.host_id, now() FROM unnest($1::uuid[], $2::uuid[]) AS x(host_id, parent_id)
       JOIN incidents i ON i.host_id = x.parent_id AND i.status = 'open'
     ON CONFLICT DO NOTHING`,
    [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
  );
}

/** An incident opened in this transaction, on `hostId`, at `at`. */
export interface OpenedIncident {
  incidentId: string;
  hostId: string;
  at: Date;
}

/**
 * Incidents just opened: the hosts below each incident's host (up to `maxDepth` levels) already
 * UNREACHABLE were made so by its outage (they became UNREACHABLE while it was CRITICAL). One walk
 * for the whole batch, none when no host has a parent: a fleet's first failures open hundreds of
 * incidents at once, and a walk each cost about 10 ms.
 */
export async function linkDescendantsToIncidents(tx: Queryable, opened: OpenedIncident[], maxDepth: number): Promise<void> {
  if (opened.length === 0 || !(await anyParentEdges(tx))) return;
  await tx.query(
    `WITH RECURSIVE down(incident_id, at, host_id, depth) AS (
       SELECT o.incident_id, o.at, e.child_id, 1
         FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS o(incident_id, host_id, at)
         JOIN host_parent_edges e ON e.parent_id = o.host_id
       UNION
       SELECT down.incident_id, down.at, e.child_id, down.depth + 1 FROM down JOIN host_parent_edges e ON e.parent_id = down.host_id WHERE down.depth < $4
     )
     INSERT INTO incident_unreachable_hosts (incident_id, host_id, since)
     SELECT DISTINCT ON (down.incident_id, h.id) down.incident_id, h.id, down.at
       FROM down JOIN hosts h ON h.id = down.host_id WHERE h.monitoring_state = 'UNREACHABLE'
     ON CONFLICT DO NOTHING`,
    [opened.map((o) => o.incidentId), opened.map((o) => o.hostId), opened.map((o) => o.at.toISOString()), maxDepth],
  );
}

export interface UnreachableHostRow {
  host_id: string;
  name: string;
  group: string | null;
  monitoring_state: HostState;
  since: Date;
}

/** A page of the hosts an incident made UNREACHABLE, by name, after `afterName` (keyset). */
export async function unreachableHostsPage(db: Queryable, incidentId: string, afterName: string | undefined, limit: number): Promise<UnreachableHostRow[]> {
  const { rows } = await db.query<UnreachableHostRow>(
    `SELECT h.id AS host_id, h.name, h."group", h.monitoring_state, u.since
       FROM incident_unreachable_hosts u JOIN hosts h ON h.id = u.host_id
      WHERE u.incident_id = $1 AND ($2::text IS NULL OR h.name > $2)
      ORDER BY h.name LIMIT $3`,
    [incidentId, afterName ?? null, limit],
  );
  return rows;
}

// ---- writing dependencies ---------------------------------------------------------------------

/** Replaces a host's own parents. */
export async function setHostParents(tx: Queryable, childId: string, parentIds: string[]): Promise<void> {
  await tx.query(`DELETE FROM host_dependencies WHERE child_id = $1 AND NOT (parent_id = ANY ($2::uuid[]))`, [childId, parentIds]);
  await tx.query(
    `INSERT INTO host_dependencies (child_id, parent_id) SELECT $1, p FROM unnest($2::uuid[]) AS p ON CONFLICT DO NOTHING`,
    [childId, parentIds],
  );
}

/** Replaces the parents of many hosts at once (bulk writes); hosts absent from `parents` keep theirs. */
export async function setManyHostParents(tx: Queryable, parents: Map<string, string[]>): Promise<void> {
  if (parents.size === 0) return;
  const children = [...parents.keys()];
  const pairs = [...parents].flatMap(([c, ps]) => ps.map((p) => [c, p] as const));
  await tx.query(
    `DELETE FROM host_dependencies d WHERE d.child_id = ANY ($1::uuid[])
        AND NOT EXISTS (SELECT 1 FROM unnest($2::uuid[], $3::uuid[]) AS x(c, p) WHERE x.c = d.child_id AND x.p = d.parent_id)`,
    [children, pairs.map((p) => p[0]), pairs.map((p) => p[1])],
  );
  await tx.query(
    `INSERT INTO host_dependencies (child_id, parent_id) SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING`,
    [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
  );
  await touchHosts(tx, children);
}

/** A host's depends_on is part of what readers see: a new version for ETags and the change feed. */
async function touchHosts(tx: Queryable, ids: string[]): Promise<void> {
  if (ids.length > 0) await tx.query(`UPDATE hosts SET state_version = state_version + 1, updated_at = now() WHERE id = ANY ($1::uuid[])`, [ids]);
}

/** Each host's own parents (not the gateway's), by host id. */
export async function parentsOf(db: Queryable, hostIds: string[]): Promise<Map<string, string[]>> {
  const { rows } = await db.query<{ child_id: string; parents: string[] }>(
    `SELECT child_id, array_agg(parent_id ORDER BY parent_id) AS parents FROM host_dependencies WHERE child_id = ANY ($1::uuid[]) GROUP BY 1`,
    [hostIds],
  );
  return new Map(rows.map((r) => [r.child_id, r.parents]));
}

/** Ids of hosts by name or id (bulk accepts both); unknown references are absent from the map. */
export async function resolveHostRefs(db: Queryable, refs: string[]): Promise<Map<string, string>> {
  if (refs.length === 0) return new Map();
  const uuids = refs.filter((r) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(r));
  const { rows } = await db.query<{ id: string; name: string }>(
    `SELECT id, name FROM hosts WHERE name = ANY ($1::text[]) OR id = ANY ($2::uuid[])`,
    [refs, uuids],
  );
  const byRef = new Map<string, string>();
  for (const r of rows) {
    byRef.set(r.name, r.id);
    byRef.set(r.id, r.id);
  }
  return byRef;
}

/**
 * A dependency cycle through one of `hostIds`, as host names from a host back to itself
 * (["a", "b", "a"]), or null. Reachability first (a set, so it ends on any graph); the path is
 * walked only when a cycle exists. Call after writing the new edges, under lockDependencies.
 */
export async function findCycle(db: Queryable, hostIds: string[]): Promise<string[] | null> {
  if (hostIds.length === 0) return null;
  const { rows } = await db.query<{ start_id: string }>(
    `WITH RECURSIVE up(start_id, host_id) AS (
       SELECT e.child_id, e.parent_id FROM host_parent_edges e WHERE e.child_id = ANY ($1::uuid[])
       UNION
       SELECT up.start_id, e.parent_id FROM up JOIN host_parent_edges e ON e.child_id = up.host_id
     )
     SELECT start_id FROM up WHERE host_id = start_id LIMIT 1`,
    [hostIds],
  );
  if (!rows[0]) return null;
  const path = await db.query<{ names: string[] }>(
    `WITH RECURSIVE walk(host_id, path) AS (
       SELECT e.parent_id, ARRAY[e.child_id, e.parent_id] FROM host_parent_edges e WHERE e.child_id = $1
       UNION ALL
       SELECT e.parent_id, w.path || e.parent_id FROM walk w JOIN host_parent_edges e ON e.child_id = w.host_id
        WHERE w.host_id <> $1 AND NOT (e.parent_id = ANY (w.path[2:]))
     )
     SELECT (SELECT array_agg(h.name ORDER BY p.ord) FROM unnest(w.path) WITH ORDINALITY AS p(id, ord) JOIN hosts h ON h.id = p.id) AS names
       FROM walk w WHERE w.host_id = $1 ORDER BY array_length(w.path, 1) LIMIT 1`,
    [rows[0].start_id],
  );
  return path.rows[0]?.names ?? [];
}

/** What depends on a host: its children (by name, a few) and the groups it is the gateway of. */
export async function dependentsOf(db: Queryable, hostId: string): Promise<{ childCount: number; childNames: string[]; gatewayOf: string[] }> {
  const { rows } = await db.query<{ child_count: number; child_names: string[]; gateway_of: string[] }>(
    `SELECT (SELECT count(*)::int FROM host_dependencies WHERE parent_id = $1) AS child_count,
            ARRAY(SELECT h.name FROM host_dependencies d JOIN hosts h ON h.id = d.child_id WHERE d.parent_id = $1 ORDER BY h.name LIMIT 5) AS child_names,
            ARRAY(SELECT name FROM host_groups WHERE gateway_host_id = $1 ORDER BY name) AS gateway_of`,
    [hostId],
  );
  const r = rows[0]!;
  return { childCount: r.child_count, childNames: r.child_names, gatewayOf: r.gateway_of };
}

/** Removes every dependency on a host: its children's edges and its gateway roles. */
export async function detachDependents(tx: Queryable, hostId: string): Promise<void> {
  const { rows } = await tx.query<{ child_id: string }>(`DELETE FROM host_dependencies WHERE parent_id = $1 RETURNING child_id`, [hostId]);
  await touchHosts(tx, rows.map((r) => r.child_id));
  await tx.query(`UPDATE host_groups SET gateway_host_id = NULL, updated_at = now() WHERE gateway_host_id = $1`, [hostId]);
}

/** Sets (or with null clears) a group's gateway host, creating the group's row if it has none. */
export async function setGroupGateway(tx: Queryable, group: string, gatewayHostId: string | null, defaultLimit: number): Promise<void> {
  await tx.query(
    `INSERT INTO host_groups (name, max_concurrent_checks, gateway_host_id) VALUES ($1, $3, $2)
     ON CONFLICT (name) DO UPDATE SET gateway_host_id = $2, updated_at = now()`,
    [group, gatewayHostId, defaultLimit],
  );
}

/** Throws a 400 naming the cycle when one runs through `hostIds` (call after writing the edges, under lockDependencies). */
export async function refuseCycle(db: Queryable, hostIds: string[], field: string): Promise<void> {
  const cycle = await findCycle(db, hostIds);
  if (cycle) throw badRequest(`dependency cycle: ${cycle.join(' -> ')}`, [{ field, message: `would close the dependency cycle ${cycle.join(' -> ')}` }]);
}

/**
 * Sets or clears a group's gateway in one transaction; a gateway that depends (through any chain)
 * on a member of the group would close a cycle and is refused with nothing written.
 */
export async function changeGroupGateway(pool: Pool, group: string, gatewayHostId: string | null, defaultLimit: number): Promise<void> {
  await withTransaction(pool, async (tx) => {
    await lockDependencies(tx);
    await setGroupGateway(tx, group, gatewayHostId, defaultLimit);
    if (gatewayHostId) await refuseCycle(tx, [gatewayHostId], 'body.gateway_host_id');
  });
}
