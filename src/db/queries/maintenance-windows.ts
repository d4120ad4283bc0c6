import type { Queryable } from '../pool.ts';

/** A row of `maintenance_windows`. */
export interface WindowRow {
  id: string;
  label: string;
  reason: string;
  time_zone: string;
  starts_at: Date | null;
  ends_at: Date | null;
  cron: string | null;
  duration_seconds: number | null;
  active_from: Date | null;
  active_until: Date | null;
  host_ids: string[];
  groups: string[];
  tags: string[];
  created_at: Date;
  updated_at: Date;
}

export type WindowWrite = Omit<WindowRow, 'id' | 'created_at' | 'updated_at'>;

const COLUMNS = ['label', 'reason', 'time_zone', 'starts_at', 'ends_at', 'cron', 'duration_seconds', 'active_from', 'active_until', 'host_ids', 'groups', 'tags'] as const;

export async function insertWindow(db: Queryable, id: string, w: WindowWrite): Promise<WindowRow> {
  const { rows } = await db.query<WindowRow>(
    `INSERT INTO maintenance_windows (id, ${COLUMNS.join(', ')}) VALUES ($1, ${COLUMNS.map((_, i) => `$${i + 2}`).join(', ')}) RETURNING *`,
    [id, ...COLUMNS.map((c) => w[c])],
  );
  return rows[0]!;
}

export async function replaceWindow(db: Queryable, id: string, w: WindowWrite): Promise<WindowRow | undefined> {
  const { rows } = await db.query<WindowRow>(
    `UPDATE maintenance_windows SET ${COLUMNS.map((c, i) => `${c} = $${i + 2}`).join(', ')}, updated_at = now() WHERE id = $1 RETURNING *`,
    [id, ...COLUMNS.map((c) => w[c])],
  );
  return rows[0];
}

export async function getWindow(db: Queryable, id: string): Promise<WindowRow | undefined> {
  const { rows } = await db.query<WindowRow>(`SELECT * FROM maintenance_windows WHERE id = $1`, [id]);
  return rows[0];
}

export async function deleteWindow(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM maintenance_windows WHERE id = $1`, [id]);
  return rowCount === 1;
}

/** Every window, oldest first (their number is capped on create: MAX_WINDOWS). */
export async function listWindows(db: Queryable): Promise<WindowRow[]> {
  const { rows } = await db.query<WindowRow>(`SELECT * FROM maintenance_windows ORDER BY created_at, id`);
  return rows;
}

export async function countWindows(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM maintenance_windows`);
  return rows[0]!.n;
}

/** The windows that apply to a host: naming it, its group or one of its tags. */
/** True when a maintenance window names the host `h` (by id, group or tag): an expression, for reads that ask it with other things. */
export const HOST_HAS_WINDOWS = `EXISTS (SELECT 1 FROM maintenance_windows w WHERE h.id = ANY (w.host_ids) OR h."group" = ANY (w.groups) OR w.tags && h.tags)`;

export async function windowsForHost(db: Queryable, host: { id: string; group: string | null; tags: string[] }): Promise<WindowRow[]> {
  const { rows } = await db.query<WindowRow>(
    `SELECT * FROM maintenance_windows WHERE $1::uuid = ANY (host_ids) OR $2::text = ANY (groups) OR tags && $3::text[] ORDER BY created_at, id`,
    [host.id, host.group, host.tags],
  );
  return rows;
}

/** An open occurrence, as the reconciler hands it to the database. */
export interface OpenWindow {
  windowId: string;
  endsAt: Date;
}

/** A host whose window changed: `from` closed (or moved on), `to` opened; either may be null. */
export interface WindowChange {
  id: string;
  name: string;
  group: string | null;
  from: string | null;
  to: string | null;
}

/**
 * Puts every host covered by an open window into it (the one ending last, when several cover it)
 * and takes hosts out of windows no longer open, in one statement; returns the hosts that changed.
 * A host leaving a window is due again soon, spread over `spreadSeconds` (no burst when a window
 * over thousands of hosts closes); its machine resumes where it was frozen. Hosts are locked in
 * id order, as the record transaction locks them, so the two cannot deadlock. Each branch of
 * `covered` is index-backed (primary key, hosts_group_idx, host_search_tags_idx), and hosts
 * already in a window are found through hosts_in_window_idx: no pass scans the hosts table.
 */
export async function applyOpenWindows(tx: Queryable, open: OpenWindow[], spreadSeconds: number): Promise<WindowChange[]> {
  const { rows } = await tx.query<WindowChange>(
    `WITH open AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS o(window_id uuid, ends_at timestamptz)),
          ow AS (SELECT w.*, open.ends_at AS open_until FROM open JOIN maintenance_windows w ON w.id = open.window_id),
          covered AS (
            SELECT h.id, ow.id AS window_id, ow.open_until FROM ow JOIN hosts h ON h.id = ANY (ow.host_ids)
            UNION ALL SELECT h.id, ow.id, ow.open_until FROM ow JOIN hosts h ON h."group" = ANY (ow.groups)
            UNION ALL SELECT s.host_id, ow.id, ow.open_until FROM ow JOIN host_search s ON s.tags && ow.tags),
          target AS (SELECT DISTINCT ON (id) id, window_id FROM covered ORDER BY id, open_until DESC, window_id),
          candidates AS (SELECT id FROM target UNION SELECT id FROM hosts WHERE maintenance_window_id IS NOT NULL),
          locked AS (
            SELECT h.id, h.maintenance_window_id AS old_window, t.window_id AS new_window
              FROM hosts h JOIN candidates c ON c.id = h.id LEFT JOIN target t ON t.id = h.id
             WHERE h.maintenance_window_id IS DISTINCT FROM t.window_id
             ORDER BY h.id FOR UPDATE OF h)
     UPDATE hosts h SET maintenance_window_id = l.new_window,
            next_check_time = CASE WHEN l.new_window IS NULL AND h.lease_job_id IS NULL
                                   THEN now() + make_interval(secs => random() * $2::float8) ELSE h.next_check_time END,
            state_version = h.state_version + 1, updated_at = now()
       FROM locked l
      WHERE h.id = l.id
     RETURNING h.id, h.name, h."group", l.old_window AS "from", l.new_window AS "to"`,
    [JSON.stringify(open.map((o) => ({ window_id: o.windowId, ends_at: o.endsAt.toISOString() }))), spreadSeconds],
  );
  return rows;
}
