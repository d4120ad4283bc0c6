import type { HostState } from '../../machine/states.ts';
import type { Queryable } from '../pool.ts';

/** What a public badge shows: nothing more is read for an unauthenticated request. */
export interface PublicBadgeRow {
  name: string;
  monitoring_state: HostState;
}

/** What is public: hosts by id and name, and groups. */
export interface PublicBadgeList {
  hosts: { host_id: string; name: string }[];
  groups: string[];
}

/**
 * The host's name and state if its badge is public (the host itself, or its group, is listed);
 * undefined otherwise, indistinguishable from a host that does not exist.
 */
export async function findPublicBadge(db: Queryable, hostId: string): Promise<PublicBadgeRow | undefined> {
  const { rows } = await db.query<PublicBadgeRow>(
    `SELECT h.name, h.monitoring_state FROM hosts h
      WHERE h.id = $1
        AND (EXISTS (SELECT 1 FROM public_badges b WHERE b.host_id = h.id)
          OR EXISTS (SELECT 1 FROM public_badges b WHERE b.group_name = h."group"))`,
    [hostId],
  );
  return rows[0];
}

/** Marks a host's badge public; false when there is no such host. */
export async function publishHostBadge(db: Queryable, hostId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO public_badges (host_id) SELECT id FROM hosts WHERE id = $1 ON CONFLICT (host_id) WHERE host_id IS NOT NULL DO NOTHING`,
    [hostId],
  );
  if (rowCount) return true;
  const { rows } = await db.query(`SELECT 1 FROM hosts WHERE id = $1`, [hostId]);
  return rows.length > 0;
}

export async function unpublishHostBadge(db: Queryable, hostId: string): Promise<void> {
  await db.query(`DELETE FROM public_badges WHERE host_id = $1`, [hostId]);
}

export async function publishGroupBadges(db: Queryable, group: string): Promise<void> {
  await db.query(`INSERT INTO public_badges (group_name) VALUES ($1) ON CONFLICT (group_name) WHERE group_name IS NOT NULL DO NOTHING`, [group]);
}

export async function unpublishGroupBadges(db: Queryable, group: string): Promise<void> {
  await db.query(`DELETE FROM public_badges WHERE group_name = $1`, [group]);
}

export async function listPublicBadges(db: Queryable): Promise<PublicBadgeList> {
  const { rows } = await db.query<{ host_id: string | null; name: string | null; group_name: string | null }>(
    `SELECT b.host_id, h.name, b.group_name FROM public_badges b LEFT JOIN hosts h ON h.id = b.host_id ORDER BY b.group_name NULLS FIRST, h.name`,
  );
  return {
    hosts: rows.filter((r) => r.host_id).map((r) => ({ host_id: r.host_id!, name: r.name! })),
    groups: rows.filter((r) => r.group_name).map((r) => r.group_name!),
  };
}
