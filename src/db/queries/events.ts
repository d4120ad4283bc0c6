import type { Queryable } from '../pool.ts';

/** Channel announcing new events; payload = the highest new id. */
export const EVENTS_CHANNEL = 'vigil_events';
/** Held from the first event insert to commit, so event ids commit in order. */
const EVENTS_LOCK = 0x76_65_76_74; // "vevt"

/**
 * check_not_run: pg-boss gave up on a check job (Vigil's own failures); the host was rescheduled without a result.
 * flapping_started / flapping_stopped: the host's state-change rate crossed the flap thresholds;
 * while it flaps, its state changes are not announced one by one.
 */
export const EVENT_TYPES = [
  'state_changed', 'incident_opened', 'incident_updated', 'incident_resolved', 'incident_acknowledged', 'check_not_run', 'flapping_started', 'flapping_stopped',
  // A host entered or left a scheduled maintenance window (src/maintenance); reason: the window's label and reason.
  'maintenance_window_started', 'maintenance_window_ended',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface NewEvent {
  type: EventType;
  hostId: string;
  hostName: string;
  hostGroup: string | null;
  fromState?: string | null;
  toState?: string | null;
  /** When it happened; left out, the transaction's now() (the database's clock, never the process's). */
  occurredAt?: Date;
  checkId?: string | null;
  jobId?: string | null;
  incidentId?: string | null;
  reason?: string | null;
}

export interface EventRow {
  id: string;
  type: EventType;
  host_id: string;
  host_name: string;
  host_group: string | null;
  from_state: string | null;
  to_state: string | null;
  occurred_at: Date;
  check_id: string | null;
  job_id: string | null;
  incident_id: string | null;
  reason: string | null;
}

/**
 * Appends events inside the caller's transaction (call it last, just before commit: the lock it
 * takes is held until then) and announces them on commit.
 */
export async function appendEvents(tx: Queryable, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.query(`SELECT pg_advisory_xact_lock($1)`, [EVENTS_LOCK]);
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO host_events (type, host_id, host_name, host_group, from_state, to_state, occurred_at, check_id, job_id, incident_id, reason)
     SELECT type, host_id, host_name, host_group, from_state, to_state, COALESCE(occurred_at, now()), check_id, job_id, incident_id, reason
       FROM jsonb_to_recordset($1::jsonb) AS e(type text, host_id uuid, host_name text, host_group text, from_state text,
            to_state text, occurred_at timestamptz, check_id bigint, job_id uuid, incident_id uuid, reason text)
     RETURNING id`,
    [JSON.stringify(events.map(toRecord))],
  );
  const maxId = rows.reduce((m, r) => (BigInt(r.id) > m ? BigInt(r.id) : m), 0n);
  await tx.query(`SELECT pg_notify($1, $2)`, [EVENTS_CHANNEL, String(maxId)]);
}

function toRecord(e: NewEvent) {
  return {
    type: e.type,
    host_id: e.hostId,
    host_name: e.hostName,
    host_group: e.hostGroup,
    from_state: e.fromState ?? null,
    to_state: e.toState ?? null,
    occurred_at: e.occurredAt?.toISOString() ?? null,
    check_id: e.checkId ?? null,
    job_id: e.jobId ?? null,
    incident_id: e.incidentId ?? null,
    reason: e.reason ?? null,
  };
}

export interface EventFilter {
  hostIds?: string[];
  groups?: string[];
  types?: EventType[];
}

/** Events after `afterId` (and up to `throughId`, when given) matching the filter, oldest first. */
export async function eventsAfter(db: Queryable, afterId: string, f: EventFilter, limit: number, throughId?: string): Promise<EventRow[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT * FROM host_events
      WHERE id > $1
        AND ($2::uuid[] IS NULL OR host_id = ANY ($2))
        AND ($3::text[] IS NULL OR host_group = ANY ($3))
        AND ($4::text[] IS NULL OR type = ANY ($4))
        AND ($6::bigint IS NULL OR id <= $6)
      ORDER BY id LIMIT $5`,
    [afterId, f.hostIds ?? null, f.groups ?? null, f.types ?? null, limit, throughId ?? null],
  );
  return rows;
}

/** One event by id; undefined once retention has pruned it. */
export async function eventById(db: Queryable, id: string): Promise<EventRow | undefined> {
  const { rows } = await db.query<EventRow>(`SELECT * FROM host_events WHERE id = $1`, [id]);
  return rows[0];
}

export async function latestEventId(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ id: string }>(`SELECT COALESCE(max(id), 0)::text AS id FROM host_events`);
  return rows[0]!.id;
}
