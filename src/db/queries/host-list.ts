import type { HostState } from '../../machine/states.ts';
import type { Queryable } from '../pool.ts';
import type { HostRow } from './hosts.ts';

/** Orders of the host list; `-` reverses. state is worst first (DOWN, CRITICAL, DEGRADED, HEALTHY); last_check is least recently checked first, never-checked hosts before all. */
export const HOST_SORTS = ['name', '-name', 'state', '-state', 'last_check', '-last_check'] as const;
export type HostSort = (typeof HOST_SORTS)[number];

/** The sort key of each order, as SQL over hosts, and its type (to read the key back from a cursor). Names are unique and break ties. */
const SORT_KEYS = {
  name: { expr: 'name', type: 'text' },
  state: { expr: `array_position(ARRAY['DOWN', 'CRITICAL', 'DEGRADED', 'UNREACHABLE', 'HEALTHY'], monitoring_state)`, type: 'integer' },
  last_check: { expr: `COALESCE(last_check, '-infinity'::timestamptz)`, type: 'timestamptz' },
} as const;

export interface HostListFilter {
  state?: HostState;
  enabled?: boolean;
  /** In maintenance, by its own flag, its group's or a scheduled window. */
  maintenance?: boolean;
  group?: string;
  tag?: string;
  /** Hosts with at least one probe of this type. */
  probe?: string;
  /** Case-insensitive substring of the name. */
  q?: string;
}

/** Keyset position: the last row's sort key (as text) and name. */
export interface HostListPosition {
  key: string;
  name: string;
}

/** A listed host with its sort key (for the next cursor) and version (change_xid, for the ETag). */
export type ListedHostRow = HostRow & { sort_key: string; change_xid: string };

/** `%` and `_` in a search are literal characters, not patterns. */
export function likeSubstring(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

export async function listHostPage(db: Queryable, f: HostListFilter, page: { sort: HostSort; after?: HostListPosition; limit: number }): Promise<ListedHostRow[]> {
  const params: unknown[] = [];
  const $ = (value: unknown) => `$${params.push(value)}`;
  const where = ['true'];
  if (f.state !== undefined) where.push(`monitoring_state = ${$(f.state)}`);
  if (f.enabled !== undefined) where.push(`enabled = ${$(f.enabled)}`);
  if (f.maintenance !== undefined) {
    where.push(`(maintenance OR maintenance_window_id IS NOT NULL OR EXISTS (SELECT 1 FROM host_groups g WHERE g.name = hosts."group" AND g.maintenance)) = ${$(f.maintenance)}`);
  }
  if (f.group !== undefined) where.push(`"group" = ${$(f.group)}`);
  // Tags, probe types, name and address are searched in host_search (migration 0103), whose GIN
  // indexes serve the containments and, where pg_trgm is installed, the ILIKEs.
  if (f.tag !== undefined) where.push(`id IN (SELECT host_id FROM host_search WHERE tags @> ARRAY[${$(f.tag)}::text])`);
  if (f.probe !== undefined) where.push(`id IN (SELECT host_id FROM host_search WHERE probe_types @> ARRAY[${$(f.probe)}::text])`);
  if (f.q !== undefined) {
    const pattern = $(likeSubstring(f.q));
    where.push(`id IN (SELECT host_id FROM host_search WHERE name ILIKE ${pattern} OR address ILIKE ${pattern})`);
  }

  const descending = page.sort.startsWith('-');
  const { expr, type } = SORT_KEYS[page.sort.replace('-', '') as keyof typeof SORT_KEYS];
  const [op, direction] = descending ? ['<', 'DESC'] : ['>', 'ASC'];
  // For name the key is the name itself: a plain comparison, which the unique index on name serves.
  if (page.after && expr === 'name') where.push(`name ${op} ${$(page.after.name)}`);
  else if (page.after) where.push(`(${expr}, name) ${op} (${$(page.after.key)}::${type}, ${$(page.after.name)})`);
  const orderBy = expr === 'name' ? `name ${direction}` : `${expr} ${direction}, name ${direction}`;

  const { rows } = await db.query<ListedHostRow>(
    `SELECT *, (${expr})::text AS sort_key FROM hosts WHERE ${where.join(' AND ')} ORDER BY ${orderBy} LIMIT ${$(page.limit)}`,
    params,
  );
  return rows;
}
