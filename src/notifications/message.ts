import type { EventRow } from '../db/queries/events.ts';
import { serializeEvent } from '../events/serialize.ts';

/**
 * What a notification says, fixed when it is queued and stored on the delivery row, so a retry
 * sends the same text even after the host changed, and a channel renders it in its own format
 * (./render-*.ts). It carries what an on-call engineer needs at 3 a.m.: host name and address,
 * state and since when, the last error, the group, and a link to the host's dashboard page.
 * It never carries a secret.
 */
export type MessageKind = 'event' | 'renotify' | 'digest' | 'test';

export interface MessageHost {
  id: string;
  name: string;
  /** null once the host was deleted. */
  address: string | null;
  group: string | null;
  tags: string[];
  /** The state the message is about (the event's new state, or the host's). */
  state: string | null;
  /** ISO time the host entered `state`. */
  state_since: string | null;
  last_error_type: string | null;
  last_error_message: string | null;
  /** The host's dashboard page. */
  url: string;
}

export interface MessageIncident {
  id: string;
  /** PagerDuty's dedup_key: one per host and kind of incident. */
  fingerprint: string;
  status: string;
  opened_at: string;
  /** Hosts this incident's host made UNREACHABLE (they open no incident of their own). */
  unreachable_count: number;
  acknowledged_by: string | null;
}

export interface DigestSummary {
  /** Notifications the digest stands for. */
  count: number;
  /** ISO times of the first and last of them. */
  first_at: string;
  last_at: string;
  by_event_type: Record<string, number>;
  by_state: Record<string, number>;
  /** Hosts per group, the largest groups first (at most 10; `null` key = no group). */
  by_group: Record<string, number>;
  /** The first few hosts, to see at a glance what failed. */
  hosts: { name: string; state: string | null; group: string | null; url: string }[];
}

export interface NotificationMessage {
  kind: MessageKind;
  /** One line: what happened to what. */
  title: string;
  /** The event as every client sees it (src/events/serialize.ts); null for digests and tests. */
  event: ReturnType<typeof serializeEvent> | null;
  host: MessageHost | null;
  incident: MessageIncident | null;
  digest: DigestSummary | null;
  /** Vigil's dashboard, for the digest and test messages' link. */
  dashboard_url: string;
}

/** What the dispatcher knows about an event's host and incident when it queues the message. */
export interface EventContext {
  event: EventRow;
  address: string | null;
  tags: string[] | null;
  host_state: string | null;
  state_since: Date | null;
  host_error_type: string | null;
  host_error_message: string | null;
  incident_fingerprint: string | null;
  incident_status: string | null;
  incident_opened_at: Date | null;
  incident_acknowledged_by: string | null;
  incident_error_type: string | null;
  incident_error_message: string | null;
  unreachable_count: number;
}

export const hostPageUrl = (publicUrl: string, hostId: string) => `${publicUrl}/hosts/${encodeURIComponent(hostId)}`;

export function buildEventMessage(kind: 'event' | 'renotify', c: EventContext, publicUrl: string): NotificationMessage {
  const e = c.event;
  const state = kind === 'renotify' ? c.host_state : (e.to_state ?? c.host_state);
  const host: MessageHost = {
    id: e.host_id,
    name: e.host_name,
    address: c.address,
    group: e.host_group,
    tags: c.tags ?? [],
    state,
    state_since: (kind === 'event' && e.to_state ? e.occurred_at : c.state_since)?.toISOString() ?? null,
    last_error_type: c.incident_error_type ?? c.host_error_type,
    last_error_message: c.incident_error_message ?? c.host_error_message,
    url: hostPageUrl(publicUrl, e.host_id),
  };
  const incident: MessageIncident | null =
    e.incident_id && c.incident_fingerprint && c.incident_opened_at
      ? { id: e.incident_id, fingerprint: c.incident_fingerprint, status: c.incident_status ?? 'open', opened_at: c.incident_opened_at.toISOString(), acknowledged_by: c.incident_acknowledged_by, unreachable_count: c.unreachable_count }
      : null;
  return { kind, title: titleOf(kind, e, host), event: kind === 'event' ? serializeEvent(e) : null, host, incident, digest: null, dashboard_url: publicUrl };
}

function titleOf(kind: 'event' | 'renotify', e: EventRow, h: MessageHost): string {
  const who = h.address && h.address !== h.name ? `${h.name} (${h.address})` : h.name;
  if (kind === 'renotify') return `Still ${h.state ?? 'failing'}: ${who}, incident open since ${h.state_since ?? 'earlier'}`;
  switch (e.type) {
    case 'incident_opened':
      return `${e.to_state ?? 'FAILING'}: ${who} — incident opened`;
    case 'incident_updated':
      return `${e.to_state ?? 'FAILING'}: ${who} — incident updated`;
    case 'incident_acknowledged':
      return `Acknowledged: ${who}${e.reason ? ` — ${e.reason}` : ''}`;
    case 'incident_resolved':
      return `RESOLVED: ${who} is ${e.to_state ?? 'HEALTHY'} again`;
    case 'check_not_run':
      return `Check not run: ${who}`;
    default:
      return `${who}: ${e.from_state ?? '?'} → ${e.to_state ?? '?'}`;
  }
}

/** One notification held for a digest, as the digest sums it up. */
export interface HeldItem {
  event_type: string | null;
  created_at: Date;
  message: NotificationMessage;
}

const DIGEST_HOSTS = 20;
const DIGEST_GROUPS = 10;

export function buildDigestMessage(items: HeldItem[], publicUrl: string): NotificationMessage {
  const count = (pick: (i: HeldItem) => string) => {
    const out: Record<string, number> = {};
    for (const i of items) out[pick(i)] = (out[pick(i)] ?? 0) + 1;
    return out;
  };
  const groups = Object.entries(count((i) => i.message.host?.group ?? '(no group)')).sort((a, b) => b[1] - a[1]).slice(0, DIGEST_GROUPS);
  const seen = new Set<string>();
  const hosts = items
    .map((i) => i.message.host)
    .filter((h): h is MessageHost => h !== null && !seen.has(h.id) && Boolean(seen.add(h.id)))
    .slice(0, DIGEST_HOSTS)
    .map((h) => ({ name: h.name, state: h.state, group: h.group, url: h.url }));
  const times = items.map((i) => i.created_at.getTime());
  const byType = count((i) => (i.message.kind === 'renotify' ? 'renotify' : (i.event_type ?? 'other')));
  const digest: DigestSummary = {
    count: items.length,
    first_at: new Date(Math.min(...times)).toISOString(),
    last_at: new Date(Math.max(...times)).toISOString(),
    by_event_type: byType,
    by_state: count((i) => i.message.host?.state ?? 'unknown'),
    by_group: Object.fromEntries(groups),
    hosts,
  };
  const parts = Object.entries(byType).map(([type, n]) => `${n} ${type.replace(/_/g, ' ')}`);
  const title = `Vigil summary: ${items.length} notifications held by the rate limit (${parts.join(', ')})`;
  return { kind: 'digest', title, event: null, host: null, incident: null, digest, dashboard_url: publicUrl };
}

/** The sample a test send delivers: realistic, and saying plainly that it is a test. */
export function buildTestMessage(channelName: string, publicUrl: string, now: Date): NotificationMessage {
  return {
    kind: 'test',
    title: `Test message from Vigil to channel "${channelName}": delivery works`,
    event: null,
    host: {
      id: '00000000-0000-4000-8000-000000000000',
      name: 'example-host',
      address: '192.0.2.10',
      group: 'example-group',
      tags: ['example'],
      state: 'DOWN',
      state_since: now.toISOString(),
      last_error_type: 'connection_refused',
      last_error_message: 'This is a test: no host is failing',
      url: `${publicUrl}/hosts`,
    },
    incident: null,
    digest: null,
    dashboard_url: publicUrl,
  };
}

/** Label/value lines every format shows, in this order. */
export function messageFacts(m: NotificationMessage): [string, string][] {
  const facts: [string, string][] = [];
  const h = m.host;
  if (h) {
    facts.push(['Host', h.name]);
    if (h.address) facts.push(['Address', h.address]);
    if (h.state) facts.push(['State', h.state_since ? `${h.state} since ${h.state_since}` : h.state]);
    facts.push(['Group', h.group ?? '(none)']);
    if (h.last_error_type || h.last_error_message) facts.push(['Last error', [h.last_error_type, h.last_error_message].filter(Boolean).join(': ')]);
  }
  if (m.incident) {
    facts.push(['Incident', `${m.incident.status}, opened ${m.incident.opened_at}`]);
    if (m.incident.acknowledged_by) facts.push(['Acknowledged by', m.incident.acknowledged_by]);
    if (m.incident.unreachable_count > 0) facts.push(['Unreachable behind it', `${m.incident.unreachable_count} host(s)`]);
  }
  if (m.digest) {
    facts.push(['Held', `${m.digest.count} between ${m.digest.first_at} and ${m.digest.last_at}`]);
    facts.push(['By state', formatCounts(m.digest.by_state)]);
    facts.push(['By group', formatCounts(m.digest.by_group)]);
  }
  return facts;
}

export const formatCounts = (c: Record<string, number>) =>
  Object.entries(c)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');

/** Where the message's link goes: the host's page, or the dashboard. */
export const linkOf = (m: NotificationMessage) => m.host?.url ?? m.dashboard_url;
