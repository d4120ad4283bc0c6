import type { HostState } from '../../machine/states.ts';
import type { Queryable } from '../pool.ts';
import { eventById, type EventRow, type EventType } from './events.ts';

/** A webhook subscription as stored; `secret` is sealed (see src/webhooks/secret.ts). */
export interface WebhookRow {
  id: string;
  url: string;
  secret: Buffer | null;
  event_types: EventType[];
  states: HostState[];
  groups: string[];
  enabled: boolean;
  /** Only events with a greater id are sent to it. */
  after_event_id: string;
  created_at: Date;
  updated_at: Date;
}

export interface WebhookFields {
  url: string;
  /** Sealed secret; null = unsigned deliveries. */
  secret: Buffer | null;
  eventTypes: EventType[];
  states: HostState[];
  groups: string[];
  enabled: boolean;
}

const COLUMNS = 'id, url, secret, event_types, states, groups, enabled, after_event_id::text, created_at, updated_at';

/** Inserts a subscription that starts after the newest event committed so far. */
export async function insertWebhook(db: Queryable, id: string, f: WebhookFields): Promise<WebhookRow> {
  const { rows } = await db.query<WebhookRow>(
    `INSERT INTO webhooks (id, url, secret, event_types, states, groups, enabled, after_event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT COALESCE(max(id), 0) FROM host_events))
     RETURNING ${COLUMNS}`,
    [id, f.url, f.secret, f.eventTypes, f.states, f.groups, f.enabled],
  );
  return rows[0]!;
}

export async function getWebhook(db: Queryable, id: string): Promise<WebhookRow | undefined> {
  const { rows } = await db.query<WebhookRow>(`SELECT ${COLUMNS} FROM webhooks WHERE id = $1`, [id]);
  return rows[0];
}

export async function listWebhooks(db: Queryable): Promise<WebhookRow[]> {
  const { rows } = await db.query<WebhookRow>(`SELECT ${COLUMNS} FROM webhooks ORDER BY created_at, id`);
  return rows;
}

/** Changes the given fields (undefined = keep). */
export async function updateWebhook(db: Queryable, id: string, f: Partial<WebhookFields>): Promise<WebhookRow | undefined> {
  const { rows } = await db.query<WebhookRow>(
    `UPDATE webhooks SET
        url = COALESCE($2, url),
        secret = CASE WHEN $3::boolean THEN $4::bytea ELSE secret END,
        event_types = COALESCE($5, event_types),
        states = COALESCE($6, states),
        groups = COALESCE($7, groups),
        enabled = COALESCE($8, enabled),
        updated_at = now()
      WHERE id = $1
      RETURNING ${COLUMNS}`,
    [id, f.url ?? null, f.secret !== undefined, f.secret ?? null, f.eventTypes ?? null, f.states ?? null, f.groups ?? null, f.enabled ?? null],
  );
  return rows[0];
}

/** Deletes a subscription and its delivery log; jobs still queued for it find nothing and end. */
export async function deleteWebhook(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM webhooks WHERE id = $1`, [id]);
  return (rowCount ?? 0) > 0;
}

// ---- dispatch -------------------------------------------------------------------------------

/** A delivery the dispatcher created; its job must be enqueued with exactly `job_id`. */
export interface NewDelivery {
  id: string;
  job_id: string;
  webhook_id: string;
  event_id: string;
}

/** Whether events wait after the dispatch cursor: the idle dispatcher's one cheap query (no transaction, no lock). */
export async function hasUndispatchedEvents(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ pending: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM host_events WHERE id > (SELECT last_event_id FROM webhook_dispatch_cursor)) AS pending`,
  );
  return rows[0]!.pending;
}

/** Locks the dispatch cursor for the caller's transaction and returns the last dispatched event id. */
export async function lockDispatchCursor(tx: Queryable): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(`SELECT last_event_id::text AS id FROM webhook_dispatch_cursor FOR UPDATE`);
  return rows[0]!.id;
}

/** How many events follow `cursor` (at most `maxEvents`) and the id of the last of them. */
export async function nextEventRange(db: Queryable, cursor: string, maxEvents: number): Promise<{ events: number; upto: string | null }> {
  const { rows } = await db.query<{ n: number; upto: string | null }>(
    `SELECT count(*)::int AS n, max(id)::text AS upto FROM (SELECT id FROM host_events WHERE id > $1 ORDER BY id LIMIT $2) e`,
    [cursor, maxEvents],
  );
  return { events: rows[0]!.n, upto: rows[0]!.upto };
}

/**
 * One delivery per enabled subscription matching each event in (cursor, upto]; each with the id its job must get.
 * Events into or out of UNREACHABLE are not notifications (the parent's incident is): they go only
 * to subscriptions that name UNREACHABLE in their states.
 */
export async function insertDeliveries(tx: Queryable, cursor: string, upto: string): Promise<NewDelivery[]> {
  const { rows } = await tx.query<NewDelivery>(
    `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, job_id)
     SELECT w.id, e.id, e.type, gen_random_uuid()
       FROM host_events e
       JOIN webhooks w ON w.enabled AND e.id > w.after_event_id
                      AND (cardinality(w.event_types) = 0 OR e.type = ANY (w.event_types))
                      AND (cardinality(w.states) = 0 OR e.to_state = ANY (w.states))
                      AND (cardinality(w.groups) = 0 OR e.host_group = ANY (w.groups))
                      AND ((COALESCE(e.to_state, '') <> 'UNREACHABLE' AND COALESCE(e.from_state, '') <> 'UNREACHABLE')
                           OR 'UNREACHABLE' = ANY (w.states))
      WHERE e.id > $1 AND e.id <= $2
      ORDER BY e.id, w.id
     ON CONFLICT (webhook_id, event_id) DO NOTHING
     RETURNING id::text, job_id, webhook_id, event_id::text`,
    [cursor, upto],
  );
  return rows;
}

export async function advanceDispatchCursor(tx: Queryable, upto: string): Promise<void> {
  await tx.query(`UPDATE webhook_dispatch_cursor SET last_event_id = $1`, [upto]);
}

// ---- delivery -------------------------------------------------------------------------------

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What one delivery attempt needs: the delivery, its subscription's target and the event. */
export interface DeliveryTarget {
  id: string;
  status: DeliveryStatus;
  webhook_id: string;
  url: string;
  secret: Buffer | null;
  enabled: boolean;
  event_id: string;
  /** The event, or undefined when it was pruned before delivery. */
  event: EventRow | undefined;
}

export async function getDeliveryTarget(db: Queryable, deliveryId: string): Promise<DeliveryTarget | undefined> {
  const { rows } = await db.query<Omit<DeliveryTarget, 'event'>>(
    `SELECT d.id::text, d.status, d.webhook_id, w.url, w.secret, w.enabled, d.event_id::text
       FROM webhook_deliveries d
       JOIN webhooks w ON w.id = d.webhook_id
      WHERE d.id = $1`,
    [deliveryId],
  );
  const delivery = rows[0];
  return delivery && { ...delivery, event: await eventById(db, delivery.event_id) };
}

export interface AttemptRecord {
  statusCode: number | null;
  error: string | null;
  latencyMs: number | null;
  /** pending = will be retried. */
  status: DeliveryStatus;
}

/** Records one attempt on a pending delivery (a finished one is left alone: a duplicate job). */
export async function recordDeliveryAttempt(db: Queryable, deliveryId: string, a: AttemptRecord): Promise<void> {
  await db.query(
    `UPDATE webhook_deliveries
        SET attempts = attempts + 1, last_status_code = $2, last_error = $3, last_latency_ms = $4, last_attempt_at = now(),
            status = $5,
            delivered_at = CASE WHEN $5 = 'delivered' THEN now() END,
            failed_at = CASE WHEN $5 = 'failed' THEN now() END
      WHERE id = $1 AND status = 'pending'`,
    [deliveryId, a.statusCode, a.error, a.latencyMs, a.status],
  );
}

/** Gives up on a pending delivery without an attempt (subscription disabled, event pruned). */
export async function abandonDelivery(db: Queryable, deliveryId: string, reason: string): Promise<void> {
  await db.query(`UPDATE webhook_deliveries SET status = 'failed', last_error = $2, failed_at = now() WHERE id = $1 AND status = 'pending'`, [
    deliveryId,
    reason,
  ]);
}

// ---- the delivery log -----------------------------------------------------------------------

export interface DeliveryLogRow {
  id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  created_at: Date;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
  failed_at: Date | null;
  /** When the queued job runs next (pending deliveries only). */
  next_attempt_at: Date | null;
}

/**
 * A subscription's deliveries, newest first, a page at a time (`beforeId` = the last id of the
 * previous page). A pending delivery whose job pg-boss already failed (its worker died on the last
 * attempt) shows as failed. `queue` is the pg-boss queue the jobs are on.
 */
export async function listDeliveries(
  db: Queryable,
  webhookId: string,
  opts: { queue: string; status?: DeliveryStatus; beforeId?: string; limit: number },
): Promise<DeliveryLogRow[]> {
  const { rows } = await db.query<DeliveryLogRow>(
    `SELECT * FROM (
       SELECT d.id, d.event_id::text, d.event_type,
              CASE WHEN d.status = 'pending' AND j.state IN ('failed', 'cancelled') THEN 'failed' ELSE d.status END AS status,
              d.attempts, d.last_status_code, d.last_error, d.last_latency_ms, d.created_at, d.last_attempt_at, d.delivered_at,
              CASE WHEN d.status = 'pending' AND j.state IN ('failed', 'cancelled') THEN j.completed_on ELSE d.failed_at END AS failed_at,
              CASE WHEN j.state IN ('created', 'retry') THEN j.start_after END AS next_attempt_at
         FROM webhook_deliveries d
         LEFT JOIN LATERAL (SELECT state::text, start_after, completed_on FROM pgboss.job WHERE name = $2 AND id = d.job_id) j ON d.status = 'pending'
        WHERE d.webhook_id = $1 AND ($3::bigint IS NULL OR d.id < $3)
        ORDER BY d.id DESC
     ) log
      WHERE $4::text IS NULL OR status = $4
      ORDER BY id DESC
      LIMIT $5`,
    [webhookId, opts.queue, opts.beforeId ?? null, opts.status ?? null, opts.limit],
  );
  return rows; // bigint ids arrive as strings (pg's default for int8)
}
