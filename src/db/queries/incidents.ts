import { randomUUID } from 'node:crypto';
import type { Pool, Queryable } from '../pool.ts';
import { withTransaction } from '../transaction.ts';
import { appendEvents } from './events.ts';

export interface IncidentRow {
  id: string;
  host_id: string;
  fingerprint: string;
  status: 'open' | 'resolved';
  trigger_state: string;
  current_state: string;
  failure_count: number;
  last_error_type: string | null;
  last_error_message: string | null;
  opened_at: Date;
  updated_at: Date;
  resolved_at: Date | null;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
}

/** The open incidents with these fingerprints, locked, by fingerprint. */
export async function openIncidentsFor(tx: Queryable, fingerprints: string[]): Promise<Map<string, IncidentRow>> {
  const { rows } = await tx.query<IncidentRow>(
    `SELECT * FROM incidents WHERE fingerprint = ANY($1::text[]) AND status = 'open' ORDER BY id FOR UPDATE`,
    [fingerprints],
  );
  return new Map(rows.map((r) => [r.fingerprint, r]));
}

export async function openIncident(
  tx: Queryable,
  i: { hostId: string; fingerprint: string; state: string; at: Date; errorType: string | null; errorMessage: string | null },
): Promise<IncidentRow> {
  const { rows } = await tx.query<IncidentRow>(
    `INSERT INTO incidents (id, host_id, fingerprint, status, trigger_state, current_state, opened_at, updated_at, last_error_type, last_error_message)
     VALUES ($1, $2, $3, 'open', $4, $4, $5, $5, $6, $7) RETURNING *`,
    [randomUUID(), i.hostId, i.fingerprint, i.state, i.at, i.errorType, i.errorMessage],
  );
  return rows[0]!;
}

export interface IncidentUpdate {
  id: string;
  state: string;
  at: Date;
  errorType: string | null;
  errorMessage: string | null;
}

/** Counts one more failed check on each incident and keeps its latest state and error. */
export async function updateIncidents(tx: Queryable, updates: IncidentUpdate[]): Promise<void> {
  if (updates.length === 0) return;
  await tx.query(
    `UPDATE incidents i SET failure_count = i.failure_count + 1, current_state = u.state, updated_at = u.at,
            last_error_type = u.error_type, last_error_message = u.error_message
       FROM jsonb_to_recordset($1::jsonb) AS u(id uuid, state text, at timestamptz, error_type text, error_message text)
      WHERE i.id = u.id`,
    [JSON.stringify(updates.map((u) => ({ id: u.id, state: u.state, at: u.at.toISOString(), error_type: u.errorType, error_message: u.errorMessage })))],
  );
}

export async function resolveIncident(tx: Queryable, id: string, at: Date): Promise<void> {
  await tx.query(`UPDATE incidents SET status = 'resolved', current_state = 'HEALTHY', resolved_at = $2, updated_at = $2 WHERE id = $1`, [id, at]);
}

export async function acknowledgeIncident(tx: Queryable, id: string, by: string): Promise<IncidentRow | undefined> {
  const { rows } = await tx.query<IncidentRow>(
    `UPDATE incidents SET acknowledged_at = COALESCE(acknowledged_at, now()), acknowledged_by = COALESCE(acknowledged_by, $2), updated_at = now()
      WHERE id = $1 RETURNING *`,
    [id, by],
  );
  return rows[0];
}

export interface IncidentFilter {
  status?: 'open' | 'resolved';
  hostId?: string;
  group?: string;
  limit: number;
  /** Keyset: incidents opened before this (opened_at, id). */
  before?: { openedAt: string; id: string };
}

/** How many hosts the incident's host made UNREACHABLE (incident_unreachable_hosts, by its primary key). */
const UNREACHABLE_COUNT = `(SELECT count(*)::int FROM incident_unreachable_hosts u WHERE u.incident_id = i.id) AS unreachable_count`;

/** An incident as listed: with its host's name and group and the count of hosts it made UNREACHABLE. */
export type ListedIncident = IncidentRow & { host_name: string; host_group: string | null; unreachable_count: number };

export async function listIncidents(db: Queryable, f: IncidentFilter): Promise<ListedIncident[]> {
  const { rows } = await db.query(
    `SELECT i.*, h.name AS host_name, h."group" AS host_group, ${UNREACHABLE_COUNT} FROM incidents i JOIN hosts h ON h.id = i.host_id
      WHERE ($1::text IS NULL OR i.status = $1) AND ($2::uuid IS NULL OR i.host_id = $2) AND ($3::text IS NULL OR h."group" = $3)
        AND ($4::timestamptz IS NULL OR (i.opened_at, i.id) < ($4, $5::uuid))
      ORDER BY i.opened_at DESC, i.id DESC LIMIT $6`,
    [f.status ?? null, f.hostId ?? null, f.group ?? null, f.before?.openedAt ?? null, f.before?.id ?? null, f.limit],
  );
  return rows;
}

export async function getIncident(db: Queryable, id: string): Promise<ListedIncident | undefined> {
  const { rows } = await db.query(
    `SELECT i.*, h.name AS host_name, h."group" AS host_group, ${UNREACHABLE_COUNT} FROM incidents i JOIN hosts h ON h.id = i.host_id WHERE i.id = $1`,
    [id],
  );
  return rows[0];
}

/** Acknowledges an incident and records the event, in one transaction; undefined for an unknown id. */
export async function acknowledgeWithEvent(pool: Pool, id: string, by: string): Promise<IncidentRow | undefined> {
  return withTransaction(pool, async (tx) => {
    const before = await tx.query<{ acknowledged_at: Date | null }>(`SELECT acknowledged_at FROM incidents WHERE id = $1 FOR UPDATE`, [id]);
    if (!before.rows[0]) return undefined;
    const row = (await acknowledgeIncident(tx, id, by))!;
    if (before.rows[0].acknowledged_at === null) {
      const host = await tx.query<{ name: string; group: string | null }>(`SELECT name, "group" FROM hosts WHERE id = $1`, [row.host_id]);
      await appendEvents(tx, [
        { type: 'incident_acknowledged', hostId: row.host_id, hostName: host.rows[0]!.name, hostGroup: host.rows[0]!.group, incidentId: id, toState: row.current_state, reason: `acknowledged by ${by}` },
      ]);
    }
    return row;
  });
}

/** The events of an incident, oldest first: its timeline. */
export async function incidentTimeline(db: Queryable, id: string) {
  const { rows } = await db.query<{ id: string; type: string; occurred_at: Date; from_state: string | null; to_state: string | null; reason: string | null; check_id: string | null }>(
    `SELECT id, type, occurred_at, from_state, to_state, reason, check_id FROM host_events WHERE incident_id = $1 ORDER BY id`,
    [id],
  );
  return rows;
}
