/**
 * What happens to each notification a rule asks for: sent, held for a digest, or suppressed, and
 * why. Pure: the dispatcher looks up the facts (cooldowns, last minute's count) and writes the result.
 *
 * The order of the checks:
 * 1. Suppression by the host: nothing is sent for a host in maintenance (its own flag or its
 *    group's), nor for one the event marks UNREACHABLE (behind a failed parent: the parent's own
 *    notification says it). A flapping host sends only its flapping_started / flapping_stopped
 *    notices (its incident is not re-announced on every swing, nor reminded of).
 * 2. Cooldown: the same message (same rule, channel and message key: event type, incident or host,
 *    state) is not sent twice within the rule's cooldown.
 * 3. Rate limit (the storm rule): a channel sends at most `rate_limit_per_minute` messages in any
 *    rolling minute. Beyond it, notifications are held; one digest per channel collects them and is
 *    sent VIGIL_NOTIFY_DIGEST_SECONDS after the first was held, summing them up (counts by event
 *    type, state and group, and the first hosts). A mass outage thus sends the first N messages at
 *    once and then one summary per digest period, never thousands.
 */

/** What suppression looks at. */
export interface SuppressionFacts {
  inMaintenance: boolean;
  /** The state the notification is about (the event's new state, or the incident's). */
  state: string | null;
  flapping: boolean;
  /** The event type (null for reminders). */
  eventType: string | null;
}

export function suppressionReason(f: SuppressionFacts): string | null {
  if (f.inMaintenance) return 'host in maintenance';
  if (f.state === 'UNREACHABLE') return 'host unreachable behind a failed parent';
  if (f.flapping && f.eventType !== 'flapping_started' && f.eventType !== 'flapping_stopped') return 'host flapping (flapping_started was sent instead)';
  return null;
}

export interface Candidate {
  ruleId: string | null;
  channelId: string;
  rateLimitPerMinute: number;
  cooldownSeconds: number;
  messageKey: string;
  suppression: SuppressionFacts;
}

export type Decision = { status: 'pending' } | { status: 'held' } | { status: 'suppressed'; reason: string };

export interface PlanFacts {
  /** cooldownKey(rule, channel, key) of messages sent within their cooldown. */
  cooling: Set<string>;
  /** Messages each channel was sent in the last minute. */
  sentLastMinute: Map<string, number>;
}

export const cooldownKeyOf = (c: Pick<Candidate, 'ruleId' | 'channelId' | 'messageKey'>) => `${c.ruleId}|${c.channelId}|${c.messageKey}`;

/** Decides each candidate in order; earlier ones count against later ones' cooldown and rate limit. */
export function planNotifications(candidates: Candidate[], facts: PlanFacts): Decision[] {
  const cooling = new Set(facts.cooling);
  const sent = new Map(facts.sentLastMinute);
  return candidates.map((c): Decision => {
    const suppressed = suppressionReason(c.suppression);
    if (suppressed) return { status: 'suppressed', reason: suppressed };
    const key = cooldownKeyOf(c);
    if (c.ruleId !== null && cooling.has(key)) return { status: 'suppressed', reason: 'same message sent within the rule cooldown' };
    if (c.cooldownSeconds > 0) cooling.add(key);
    const count = sent.get(c.channelId) ?? 0;
    if (count >= c.rateLimitPerMinute) return { status: 'held' };
    sent.set(c.channelId, count + 1);
    return { status: 'pending' };
  });
}

/** The cooldown's notion of "the same message": what happened, to which incident (or host), into which state. */
export function messageKeyOf(kind: 'event' | 'renotify', eventType: string, incidentId: string | null, hostId: string, state: string | null): string {
  if (kind === 'renotify') return `renotify:${incidentId}`;
  return `${eventType}:${incidentId ?? hostId}:${state ?? ''}`;
}
