import type { PagerdutyConfig } from './channel-config.ts';
import { linkOf, messageFacts, type NotificationMessage } from './message.ts';

/**
 * A PagerDuty Events API v2 event (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/).
 * An incident's fingerprint is the dedup_key, so its trigger, acknowledge and resolve land on one
 * PagerDuty alert; a digest triggers an alert of its own. Acknowledge and resolve carry no payload.
 */
export type PagerdutyAction = 'trigger' | 'acknowledge' | 'resolve';

export function pagerdutyAction(m: NotificationMessage): PagerdutyAction {
  if (m.kind === 'event' && m.event?.type === 'incident_acknowledged') return 'acknowledge';
  if (m.kind === 'event' && m.event?.type === 'incident_resolved') return 'resolve';
  return 'trigger';
}

export function pagerdutyDedupKey(m: NotificationMessage, deliveryId: string): string {
  if (m.incident) return m.incident.fingerprint;
  return m.kind === 'test' ? `vigil-test-${deliveryId}` : `vigil-${m.kind}-${deliveryId}`;
}

export function renderPagerduty(m: NotificationMessage, config: Pick<PagerdutyConfig, 'severity'>, routingKey: string, deliveryId: string) {
  const action = pagerdutyAction(m);
  const base = { routing_key: routingKey, event_action: action, dedup_key: pagerdutyDedupKey(m, deliveryId) };
  if (action !== 'trigger') return base;
  return {
    ...base,
    payload: {
      // PagerDuty truncates at 1024 characters.
      summary: m.title.slice(0, 1024),
      source: m.host ? (m.host.address ?? m.host.name) : 'vigil',
      severity: m.kind === 'test' ? 'info' : config.severity,
      timestamp: m.event?.occurred_at ?? m.host?.state_since ?? new Date().toISOString(),
      component: m.host?.name,
      group: m.host?.group ?? undefined,
      class: m.host?.last_error_type ?? m.kind,
      custom_details: Object.fromEntries(messageFacts(m)),
    },
    client: 'Vigil',
    client_url: m.dashboard_url,
    links: [{ href: linkOf(m), text: m.host ? `${m.host.name} in Vigil` : 'Vigil' }],
  };
}
