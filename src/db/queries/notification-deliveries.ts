import type { NotificationMessage } from '../../notifications/message.ts';
import type { ChannelType } from '../../notifications/channel-config.ts';
import type { Queryable } from '../pool.ts';
import type { EventRow } from './events.ts';

/**
 * The notification outbox and delivery log: the dispatcher's cursor into host_events, what rules
 * match, cooldown and rate-limit lookups, delivery rows and their attempts. The transactions are
 * opened by src/notifications/dispatcher.ts (dispatch, re-notification) and worker.ts (digests).
 */

export const NOTIFICATION_STATUSES = ['pending', 'delivered', 'failed', 'held', 'digested', 'suppressed'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];
export const NOTIFICATION_KINDS = ['event', 'renotify', 'digest', 'test'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

// ---- dispatch -------------------------------------------------------------------------------

export async function hasUndispatchedNotificationEvents(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ pending: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM host_events WHERE id > (SELECT last_event_id FROM notification_dispatch_cursor)) AS pending`,
  );
  return rows[0]!.pending;
}

/** Locks the cursor for the caller's transaction (a stale second dispatcher waits its turn). */
export async function lockNotificationCursor(tx: Queryable): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(`SELECT last_event_id::text AS id FROM notification_dispatch_cursor FOR UPDATE`);
  return rows[0]!.id;
}

export async function advanceNotificationCursor(tx: Queryable, upto: string): Promise<void> {
  await tx.query(`UPDATE notification_dispatch_cursor SET last_event_id = $1`, [upto]);
}

/** What the message and the suppression rules need to know about a host and its incident. */
export interface HostIncidentContext {
  address: string | null;
  tags: string[] | null;
  host_state: string | null;
  state_since: Date | null;
  host_error_type: string | null;
  host_error_message: string | null;
  in_maintenance: boolean;
  /** Flapping: only its flapping_started / flapping_stopped notices go out. */
  flapping: boolean;
  incident_fingerprint: string | null;
  incident_status: string | null;
  incident_opened_at: Date | null;
  incident_acknowledged_by: string | null;
  incident_error_type: string | null;
  incident_error_message: string | null;
  /** Hosts the incident's host made UNREACHABLE (0 without an incident). */
  unreachable_count: number;
}

/** One (event, rule, channel) a message may be sent for. */
export interface RuleMatch extends HostIncidentContext {
  event: EventRow;
  rule_id: string;
  cooldown_seconds: number;
  channel_id: string;
  channel_type: ChannelType;
  rate_limit_per_minute: number;
}

const CONTEXT_COLUMNS = `h.address, h.tags, h.monitoring_state AS host_state, h.last_state_change AS state_since,
       h.last_error_type AS host_error_type, h.last_error_message AS host_error_message,
       COALESCE(h.maintenance OR g.maintenance OR h.maintenance_window_id IS NOT NULL, h.maintenance OR h.maintenance_window_id IS NOT NULL, false) AS in_maintenance,
       COALESCE(h.flapping, false) AS flapping,
       COALESCE((SELECT count(*)::int FROM incident_unreachable_hosts u WHERE u.incident_id = i.id), 0) AS unreachable_count,
       i.fingerprint AS incident_fingerprint, i.status AS incident_status, i.opened_at AS incident_opened_at,
       i.acknowledged_by AS incident_acknowledged_by, i.last_error_type AS incident_error_type, i.last_error_message AS incident_error_message`;

/**
 * Every (event, rule, channel) for the events in (cursor, upto] that an enabled rule routes to an
 * enabled channel. For incident events the rule's `states` are matched against the state that
 * opened the incident, so a rule for DOWN incidents also gets their acknowledgement and resolution.
 */
export async function matchEventRules(tx: Queryable, cursor: string, upto: string): Promise<RuleMatch[]> {
  const { rows } = await tx.query<Record<string, unknown>>(
    `SELECT e.id::text, e.type, e.host_id, e.host_name, e.host_group, e.from_state, e.to_state, e.occurred_at, e.check_id::text,
            e.job_id, e.incident_id, e.reason,
            r.id AS rule_id, r.cooldown_seconds, c.id AS channel_id, c.type AS channel_type, c.rate_limit_per_minute,
            ${CONTEXT_COLUMNS}
       FROM host_events e
       JOIN notification_rules r ON r.enabled AND e.id > r.after_event_id
                                AND (cardinality(r.event_types) = 0 OR e.type = ANY (r.event_types))
                                AND (cardinality(r.groups) = 0 OR e.host_group = ANY (r.groups))
                                AND (cardinality(r.host_ids) = 0 OR e.host_id = ANY (r.host_ids))
       JOIN notification_rule_channels rc ON rc.rule_id = r.id
       JOIN notification_channels c ON c.id = rc.channel_id AND c.enabled
       LEFT JOIN hosts h ON h.id = e.host_id
       LEFT JOIN host_groups g ON g.name = h."group"
       LEFT JOIN incidents i ON i.id = e.incident_id
      WHERE e.id > $1 AND e.id <= $2
        AND (cardinality(r.states) = 0 OR COALESCE(i.trigger_state, e.to_state) = ANY (r.states))
        AND (cardinality(r.tags) = 0 OR h.tags && r.tags)
      ORDER BY e.id, r.id, c.id`,
    [cursor, upto],
  );
  return rows.map((r) => {
    const { id, type, host_id, host_name, host_group, from_state, to_state, occurred_at, check_id, job_id, incident_id, reason, ...rest } = r;
    const event = { id, type, host_id, host_name, host_group, from_state, to_state, occurred_at, check_id, job_id, incident_id, reason } as EventRow;
    return { event, ...rest } as RuleMatch;
  });
}

/** Whether any enabled rule re-notifies: the idle dispatcher's one cheap query before looking for reminders. */
export async function hasRenotifyingRules(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM notification_rules WHERE enabled AND renotify_seconds IS NOT NULL) AS any`);
  return rows[0]!.any;
}

/** An open, unacknowledged incident a rule re-notifies a channel about (its last message is older than the rule's interval). */
export interface RenotifyCandidate extends HostIncidentContext {
  rule_id: string;
  channel_id: string;
  channel_type: ChannelType;
  rate_limit_per_minute: number;
  incident_id: string;
  host_id: string;
  host_name: string;
  host_group: string | null;
  incident_opened_at: Date;
  trigger_state: string;
  /** The incident's state now (the host's may differ while it recovers). */
  incident_state: string;
}

/**
 * Open, unacknowledged incidents of hosts not in maintenance, whose last message from a rule with
 * re-notification to a channel is older than the rule's interval. Only incidents the rule has
 * notified the channel about before are reminded of (not those opened before the rule existed).
 */
export async function dueRenotifications(db: Queryable, limit: number): Promise<RenotifyCandidate[]> {
  const { rows } = await db.query<RenotifyCandidate>(
    `SELECT r.id AS rule_id, c.id AS channel_id, c.type AS channel_type, c.rate_limit_per_minute,
            i.id AS incident_id, i.host_id, h.name AS host_name, h."group" AS host_group, i.trigger_state, i.current_state AS incident_state,
            ${CONTEXT_COLUMNS}
       FROM notification_rules r
       JOIN notification_rule_channels rc ON rc.rule_id = r.id
       JOIN notification_channels c ON c.id = rc.channel_id AND c.enabled
       JOIN incidents i ON i.status = 'open' AND i.acknowledged_at IS NULL
       JOIN hosts h ON h.id = i.host_id
       LEFT JOIN host_groups g ON g.name = h."group"
       CROSS JOIN LATERAL (
         SELECT max(d.created_at) AS last_at FROM notification_deliveries d
          WHERE d.incident_id = i.id AND d.rule_id = r.id AND d.channel_id = c.id AND d.kind IN ('event', 'renotify') AND d.status <> 'suppressed'
       ) last
      WHERE r.enabled AND r.renotify_seconds IS NOT NULL
        AND (cardinality(r.event_types) = 0 OR 'incident_opened' = ANY (r.event_types))
        AND (cardinality(r.states) = 0 OR i.trigger_state = ANY (r.states))
        AND (cardinality(r.groups) = 0 OR h."group" = ANY (r.groups))
        AND (cardinality(r.tags) = 0 OR h.tags && r.tags)
        AND (cardinality(r.host_ids) = 0 OR h.id = ANY (r.host_ids))
        AND last.last_at < now() - make_interval(secs => r.renotify_seconds)
      ORDER BY last.last_at
      LIMIT $1`,
    [limit],
  );
  return rows;
}

/** The (rule, channel, message key) triples that already had a message within their cooldown. */
export async function keysInCooldown(db: Queryable, keys: { ruleId: string; channelId: string; messageKey: string; cooldownSeconds: number }[]): Promise<Set<string>> {
  const live = keys.filter((k) => k.cooldownSeconds > 0);
  if (live.length === 0) return new Set();
  const { rows } = await db.query<{ rule_id: string; channel_id: string; message_key: string }>(
    `SELECT k.rule_id::text, k.channel_id::text, k.message_key
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[]) AS k(rule_id, channel_id, message_key, cooldown)
      WHERE EXISTS (SELECT 1 FROM notification_deliveries d
                     WHERE d.rule_id = k.rule_id AND d.channel_id = k.channel_id AND d.message_key = k.message_key
                       AND d.status <> 'suppressed' AND d.created_at > now() - make_interval(secs => k.cooldown))`,
    [live.map((k) => k.ruleId), live.map((k) => k.channelId), live.map((k) => k.messageKey), live.map((k) => k.cooldownSeconds)],
  );
  return new Set(rows.map((r) => cooldownKey(r.rule_id, r.channel_id, r.message_key)));
}

export const cooldownKey = (ruleId: string, channelId: string, messageKey: string) => `${ruleId}|${channelId}|${messageKey}`;

/** Messages each channel was sent (or is sending) in the last minute: what its rate limit counts. */
export async function messagesLastMinute(db: Queryable, channelIds: string[]): Promise<Map<string, number>> {
  const { rows } = await db.query<{ channel_id: string; n: number }>(
    `SELECT channel_id::text, count(*)::int AS n FROM notification_deliveries
      WHERE channel_id = ANY ($1::uuid[]) AND created_at > now() - interval '1 minute'
        AND kind <> 'test' AND status NOT IN ('held', 'digested', 'suppressed')
      GROUP BY channel_id`,
    [channelIds],
  );
  return new Map(rows.map((r) => [r.channel_id, r.n]));
}

/** The channel's digest still collecting held notifications, locked until the caller commits (so its sender waits). */
export async function lockOpenDigest(tx: Queryable, channelId: string): Promise<string | undefined> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id::text FROM notification_deliveries WHERE channel_id = $1 AND kind = 'digest' AND digest_closed_at IS NULL ORDER BY id LIMIT 1 FOR UPDATE`,
    [channelId],
  );
  return rows[0]?.id;
}

/** A delivery row to insert; `jobId` set when a job will send it. */
export interface NewNotification {
  channelId: string;
  ruleId: string | null;
  kind: NotificationKind;
  eventId: string | null;
  eventType: string | null;
  incidentId: string | null;
  hostId: string | null;
  messageKey: string;
  message: NotificationMessage;
  status: NotificationStatus;
  digestId: string | null;
  jobId: string | null;
  lastError: string | null;
}

/** Inserts the rows; returns the delivery id of each row that has a job, by job id. */
export async function insertNotifications(tx: Queryable, rows: NewNotification[]): Promise<Map<string, string>> {
  if (rows.length === 0) return new Map();
  const { rows: ids } = await tx.query<{ id: string; job_id: string }>(
    `INSERT INTO notification_deliveries (channel_id, rule_id, kind, event_id, event_type, incident_id, host_id, message_key, message, status, digest_id, job_id, last_error,
                                          failed_at)
     SELECT r.channel_id, r.rule_id, r.kind, r.event_id, r.event_type, r.incident_id, r.host_id, r.message_key, r.message, r.status, r.digest_id, r.job_id, r.last_error,
            CASE WHEN r.status = 'failed' THEN now() END
       FROM jsonb_to_recordset($1::jsonb) AS r(channel_id uuid, rule_id uuid, kind text, event_id bigint, event_type text, incident_id uuid, host_id uuid,
            message_key text, message jsonb, status text, digest_id bigint, job_id uuid, last_error text, n int)
      ORDER BY r.n
     RETURNING id::text, job_id::text`,
    [
      JSON.stringify(
        rows.map((r, n) => ({
          n,
          channel_id: r.channelId, rule_id: r.ruleId, kind: r.kind, event_id: r.eventId, event_type: r.eventType, incident_id: r.incidentId, host_id: r.hostId,
          message_key: r.messageKey, message: r.message, status: r.status, digest_id: r.digestId, job_id: r.jobId, last_error: r.lastError,
        })),
      ),
    ],
  );
  return new Map(ids.filter((r) => r.job_id !== null).map((r) => [r.job_id, r.id]));
}

// ---- delivery -------------------------------------------------------------------------------

/** What one attempt needs: the delivery and its channel (secrets still sealed). */
export interface NotificationTarget {
  id: string;
  kind: NotificationKind;
  status: NotificationStatus;
  message: NotificationMessage;
  channel_id: string;
  channel_name: string;
  channel_type: ChannelType;
  settings: Record<string, unknown>;
  secrets: Buffer | null;
  enabled: boolean;
}

export async function getNotificationTarget(db: Queryable, deliveryId: string): Promise<NotificationTarget | undefined> {
  const { rows } = await db.query<NotificationTarget>(
    `SELECT d.id::text, d.kind, d.status, d.message, c.id AS channel_id, c.name AS channel_name, c.type AS channel_type, c.settings, c.secrets, c.enabled
       FROM notification_deliveries d JOIN notification_channels c ON c.id = d.channel_id
      WHERE d.id = $1`,
    [deliveryId],
  );
  return rows[0];
}

/** Stops a digest taking held notifications (waits for a dispatcher adding some to commit). */
export async function closeDigest(db: Queryable, digestId: string): Promise<void> {
  await db.query(`UPDATE notification_deliveries SET digest_closed_at = now() WHERE id = $1 AND digest_closed_at IS NULL`, [digestId]);
}

/** Marks a closed digest's held notifications digested and returns all it stands for (a retry gets the same). */
export async function takeDigestItems(db: Queryable, digestId: string): Promise<{ event_type: string | null; created_at: Date; message: NotificationMessage }[]> {
  await db.query(`UPDATE notification_deliveries SET status = 'digested' WHERE digest_id = $1 AND status = 'held'`, [digestId]);
  const { rows } = await db.query<{ event_type: string | null; created_at: Date; message: NotificationMessage }>(
    `SELECT event_type, created_at, message FROM notification_deliveries WHERE digest_id = $1 ORDER BY id`,
    [digestId],
  );
  return rows;
}

export async function setNotificationMessage(db: Queryable, deliveryId: string, message: NotificationMessage): Promise<void> {
  await db.query(`UPDATE notification_deliveries SET message = $2 WHERE id = $1`, [deliveryId, message]);
}

export interface NotificationAttempt {
  statusCode: number | null;
  error: string | null;
  latencyMs: number | null;
  /** pending = will be retried. */
  status: 'pending' | 'delivered' | 'failed';
}

/** Records one attempt on a pending delivery (a finished one is left alone: a duplicate job). */
export async function recordNotificationAttempt(db: Queryable, deliveryId: string, a: NotificationAttempt): Promise<void> {
  await db.query(
    `UPDATE notification_deliveries
        SET attempts = attempts + 1, last_status_code = $2, last_error = $3, last_latency_ms = $4, last_attempt_at = now(), status = $5,
            delivered_at = CASE WHEN $5 = 'delivered' THEN now() END,
            failed_at = CASE WHEN $5 = 'failed' THEN now() END
      WHERE id = $1 AND status = 'pending'`,
    [deliveryId, a.statusCode, a.error, a.latencyMs, a.status],
  );
}

/** Gives up on a pending delivery without an attempt (channel disabled, secrets unreadable). */
export async function abandonNotification(db: Queryable, deliveryId: string, reason: string): Promise<void> {
  await db.query(`UPDATE notification_deliveries SET status = 'failed', last_error = $2, failed_at = now() WHERE id = $1 AND status = 'pending'`, [deliveryId, reason]);
}

/** A test send's outcome, logged like any delivery. */
export async function insertTestDelivery(db: Queryable, channelId: string, message: NotificationMessage, a: NotificationAttempt): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO notification_deliveries (channel_id, kind, message_key, message, status, attempts, last_status_code, last_error, last_latency_ms, last_attempt_at,
                                          delivered_at, failed_at)
     VALUES ($1, 'test', 'test', $2, $3, 1, $4, $5, $6, now(), CASE WHEN $3 = 'delivered' THEN now() END, CASE WHEN $3 = 'failed' THEN now() END)
     RETURNING id::text`,
    [channelId, message, a.status, a.statusCode, a.error, a.latencyMs],
  );
  return rows[0]!.id;
}

// ---- the delivery log -----------------------------------------------------------------------

export interface NotificationLogRow {
  id: string;
  kind: NotificationKind;
  rule_id: string | null;
  event_id: string | null;
  event_type: string | null;
  incident_id: string | null;
  host_id: string | null;
  title: string;
  status: NotificationStatus;
  digest_id: string | null;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  created_at: Date;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
  failed_at: Date | null;
  next_attempt_at: Date | null;
}

/**
 * A channel's deliveries, newest first, a page at a time (`beforeId`: the last id of the previous
 * page). A pending delivery whose job pg-boss already failed (its worker died on the last attempt)
 * shows as failed. `queue` is the pg-boss queue the jobs are on.
 */
export async function listNotificationLog(
  db: Queryable,
  channelId: string,
  opts: { queue: string; status?: NotificationStatus; beforeId?: string; limit: number },
): Promise<NotificationLogRow[]> {
  const { rows } = await db.query<NotificationLogRow>(
    `SELECT * FROM (
       SELECT d.id::text, d.kind, d.rule_id, d.event_id::text, d.event_type, d.incident_id, d.host_id, d.message->>'title' AS title,
              CASE WHEN d.status = 'pending' AND j.state IN ('failed', 'cancelled') THEN 'failed' ELSE d.status END AS status,
              d.digest_id::text, d.attempts, d.last_status_code, d.last_error, d.last_latency_ms, d.created_at, d.last_attempt_at, d.delivered_at,
              CASE WHEN d.status = 'pending' AND j.state IN ('failed', 'cancelled') THEN j.completed_on ELSE d.failed_at END AS failed_at,
              CASE WHEN j.state IN ('created', 'retry') THEN j.start_after END AS next_attempt_at
         FROM notification_deliveries d
         LEFT JOIN LATERAL (SELECT state::text, start_after, completed_on FROM pgboss.job WHERE name = $2 AND id = d.job_id) j ON d.status = 'pending'
        WHERE d.channel_id = $1 AND ($3::bigint IS NULL OR d.id < $3)
        ORDER BY d.id DESC
     ) log
      WHERE $4::text IS NULL OR status = $4
      ORDER BY id::bigint DESC
      LIMIT $5`,
    [channelId, opts.queue, opts.beforeId ?? null, opts.status ?? null, opts.limit],
  );
  return rows;
}
