import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.ts';
import { eventsAfter, type EventRow } from '../db/queries/events.ts';
import {
  advanceNotificationCursor,
  dueRenotifications,
  hasRenotifyingRules,
  hasUndispatchedNotificationEvents,
  insertNotifications,
  keysInCooldown,
  lockNotificationCursor,
  lockOpenDigest,
  matchEventRules,
  messagesLastMinute,
  type HostIncidentContext,
  type NewNotification,
} from '../db/queries/notification-deliveries.ts';
import type { Client, Pool } from '../db/pool.ts';
import { withTransaction } from '../db/transaction.ts';
import { runBackgroundLoop } from '../lib/backoff.ts';
import type { Logger } from '../lib/logger.ts';
import { transactionDb, type Boss } from '../queue/boss.ts';
import type { SchedulerLeadership } from '../queue/leader.ts';
import { QUEUES, type NotificationJobData } from '../queue/names.ts';
import { carriesEvent } from './channel-config.ts';
import { buildEventMessage, type NotificationMessage } from './message.ts';
import { messageKeyOf, planNotifications, type Candidate } from './plan.ts';

export interface NotificationDispatcherDeps {
  pool: Pool;
  boss: Boss;
  config: Config;
  logger: Logger;
}

/** Events looked at per transaction. */
const EVENTS_PER_TRANSACTION = 500;
/** Re-notifications queued per pass at most (the rest come next pass). */
const RENOTIFY_PER_PASS = 1000;

/** A notification to decide on: the facts the plan needs and the row it becomes. */
interface Pending {
  candidate: Candidate;
  row: Omit<NewNotification, 'status' | 'digestId' | 'jobId' | 'lastError'>;
}

/**
 * Turns the next events after the notification cursor into deliveries (and their jobs) and
 * advances the cursor, in one transaction: a crash keeps all of it or none, and an event of a
 * rolled-back check was never in host_events to begin with. Returns the events looked at.
 */
async function dispatchNextEvents(deps: NotificationDispatcherDeps): Promise<number> {
  return withTransaction(deps.pool, async (tx) => {
    const cursor = await lockNotificationCursor(tx);
    const events = await eventsAfter(tx, cursor, {}, EVENTS_PER_TRANSACTION);
    const upto = events.at(-1)?.id;
    if (upto === undefined) return 0;
    const matches = (await matchEventRules(tx, cursor, upto)).filter((m) => carriesEvent(m.channel_type, m.event.type));
    const pending = matches.map((m) =>
      toPending('event', m.event, m, { ruleId: m.rule_id, channelId: m.channel_id, rateLimit: m.rate_limit_per_minute, cooldown: m.cooldown_seconds }, deps.config),
    );
    await queueNotifications(deps, tx, pending);
    await advanceNotificationCursor(tx, upto);
    return events.length;
  });
}

/**
 * Queues reminders of open, unacknowledged incidents whose rule re-notifies (src/db/queries:
 * dueRenotifications). One transaction, taken under the dispatch cursor's lock so the rate limit
 * counts the event dispatch and the reminders in one order.
 */
async function queueRenotifications(deps: NotificationDispatcherDeps): Promise<number> {
  return withTransaction(deps.pool, async (tx) => {
    await lockNotificationCursor(tx);
    const due = await dueRenotifications(tx, RENOTIFY_PER_PASS);
    const pending = due.map((d) => {
      const event = {
        id: '0', type: 'incident_opened', host_id: d.host_id, host_name: d.host_name, host_group: d.host_group, from_state: null, to_state: d.incident_state,
        occurred_at: d.incident_opened_at, check_id: null, job_id: null, incident_id: d.incident_id, reason: null,
      } satisfies EventRow;
      // A reminder is about the incident: its state, open since it opened.
      const context = { ...d, host_state: d.incident_state, state_since: d.incident_opened_at };
      return toPending('renotify', event, context, { ruleId: d.rule_id, channelId: d.channel_id, rateLimit: d.rate_limit_per_minute, cooldown: 0 }, deps.config);
    });
    // A reminder for a host now in maintenance (or unreachable) is not sent, and not logged every pass either.
    await queueNotifications(deps, tx, pending, { logSuppressed: false });
    return pending.length;
  });
}

function toPending(
  kind: 'event' | 'renotify',
  event: EventRow,
  context: HostIncidentContext,
  target: { ruleId: string; channelId: string; rateLimit: number; cooldown: number },
  config: Config,
): Pending {
  const message: NotificationMessage = buildEventMessage(kind, { event, ...context }, config.notifications.publicUrl);
  const state = kind === 'renotify' ? context.host_state : (event.to_state ?? context.host_state);
  return {
    candidate: {
      ruleId: target.ruleId,
      channelId: target.channelId,
      rateLimitPerMinute: target.rateLimit,
      cooldownSeconds: target.cooldown,
      messageKey: messageKeyOf(kind, event.type, event.incident_id, event.host_id, event.to_state),
      suppression: { inMaintenance: context.in_maintenance, state, flapping: context.flapping, eventType: kind === 'event' ? event.type : null },
    },
    row: {
      channelId: target.channelId,
      ruleId: target.ruleId,
      kind,
      eventId: kind === 'event' ? event.id : null,
      eventType: event.type,
      incidentId: event.incident_id,
      hostId: event.host_id,
      messageKey: messageKeyOf(kind, event.type, event.incident_id, event.host_id, event.to_state),
      message,
    },
  };
}

/**
 * Decides each notification (src/notifications/plan.ts) and writes the outcome in the caller's
 * transaction: pending ones with a job each, held ones attached to their channel's open digest
 * (created, with a job starting after the digest period, when there is none), suppressed ones
 * logged with the reason.
 */
async function queueNotifications(deps: NotificationDispatcherDeps, tx: Client, pending: Pending[], opts = { logSuppressed: true }): Promise<void> {
  if (pending.length === 0) return;
  const candidates = pending.map((p) => p.candidate);
  const cooling = await keysInCooldown(
    tx,
    candidates.filter((c) => c.ruleId !== null).map((c) => ({ ruleId: c.ruleId!, channelId: c.channelId, messageKey: c.messageKey, cooldownSeconds: c.cooldownSeconds })),
  );
  const sentLastMinute = await messagesLastMinute(tx, [...new Set(candidates.map((c) => c.channelId))]);
  const decisions = planNotifications(candidates, { cooling, sentLastMinute });
  const digests = new Map<string, string>();
  const rows: NewNotification[] = [];
  for (const [i, p] of pending.entries()) {
    const d = decisions[i]!;
    if (d.status === 'suppressed' && !opts.logSuppressed) continue;
    const digestId = d.status === 'held' ? await digestFor(deps, tx, p.row.channelId, digests) : null;
    rows.push({ ...p.row, status: d.status, digestId, jobId: d.status === 'pending' ? randomUUID() : null, lastError: d.status === 'suppressed' ? d.reason : null });
  }
  const ids = await insertNotifications(tx, rows);
  const jobs = rows.flatMap((r) => (r.jobId ? [job(r.jobId, ids.get(r.jobId)!, r.channelId)] : []));
  if (jobs.length > 0) await deps.boss.insert(QUEUES.notifications, jobs, { db: transactionDb(tx) });
}

/** One job per delivery; grouped by channel so a channel holds at most one worker slot at a time. */
const job = (id: string, deliveryId: string, channelId: string, startAfterSeconds?: number) => ({
  id,
  data: { delivery_id: deliveryId } satisfies NotificationJobData,
  group: { id: channelId },
  ...(startAfterSeconds ? { startAfter: startAfterSeconds } : {}),
});

/** The channel's open digest (locked), or a new one whose job starts after the digest period. */
async function digestFor(deps: NotificationDispatcherDeps, tx: Client, channelId: string, known: Map<string, string>): Promise<string> {
  const cached = known.get(channelId);
  if (cached) return cached;
  let id = await lockOpenDigest(tx, channelId);
  if (!id) {
    const jobId = randomUUID();
    const placeholder: NotificationMessage = {
      kind: 'digest', title: 'Vigil summary (collecting)', event: null, host: null, incident: null, digest: null, dashboard_url: deps.config.notifications.publicUrl,
    };
    const ids = await insertNotifications(tx, [
      { channelId, ruleId: null, kind: 'digest', eventId: null, eventType: null, incidentId: null, hostId: null, messageKey: 'digest', message: placeholder, status: 'pending', digestId: null, jobId, lastError: null },
    ]);
    id = ids.get(jobId);
    await deps.boss.insert(QUEUES.notifications, [job(jobId, id!, channelId, deps.config.notifications.digestSeconds)], { db: transactionDb(tx) });
  }
  known.set(channelId, id!);
  return id!;
}

/** One pass: every undispatched event, then the reminders due (an idle pass is two index probes and a tiny scan of rules). */
export async function dispatchNotifications(deps: NotificationDispatcherDeps): Promise<void> {
  if (await hasUndispatchedNotificationEvents(deps.pool)) {
    while ((await dispatchNextEvents(deps)) === EVENTS_PER_TRANSACTION);
  }
  if (!(await hasRenotifyingRules(deps.pool))) return;
  const reminders = await queueRenotifications(deps);
  if (reminders > 0) deps.logger.debug('notification reminders queued', { count: reminders });
}

/**
 * The notification dispatcher, part of the scheduler role beside the webhook dispatcher: it runs
 * only while this process is the active scheduler and polls every producer interval (an idle pass
 * is two index probes).
 */
export function runNotificationDispatchLoop(deps: NotificationDispatcherDeps, leadership: Pick<SchedulerLeadership, 'isLeader'>, signal: AbortSignal): Promise<void> {
  return runBackgroundLoop({
    name: 'notification dispatch',
    logger: deps.logger,
    signal,
    pass: async () => {
      if (leadership.isLeader) await dispatchNotifications(deps);
      return deps.config.producer.intervalMs;
    },
  });
}
