import type { Config } from '../config/config.ts';
import { linkDescendantsToIncidents, linkUnreachableToIncidents, type OpenedIncident } from '../db/queries/dependencies.ts';
import { appendEvents, type NewEvent } from '../db/queries/events.ts';
import { openIncident, openIncidentsFor, resolveIncident, updateIncidents, type IncidentUpdate } from '../db/queries/incidents.ts';
import type { Queryable } from '../db/pool.ts';
import type { ResetHost } from '../db/queries/groups.ts';
import type { CheckOutcome } from '../machine/check-outcome.ts';
import { decideIncident, incidentFingerprint } from './policy.ts';

/** A check recorded in the current transaction, as incidents and events need it. */
export interface RecordedCheck {
  host: { id: string; name: string; group: string | null };
  outcome: CheckOutcome;
  historyId: string;
  check: { jobId: string };
}

/**
 * What a batch of recorded checks means beyond the host rows, in the checks' own transaction: a
 * state_changed event for each transition, and each host's incident opened, updated or resolved.
 * An update is written for every failed check (count, last error) but announced as an
 * incident_updated event only when the incident's state or error type changed, so subscribers
 * hear about changes, not about every failed poll. A check in maintenance changes nothing here.
 *
 * A flapping host announces flapping_started and flapping_stopped instead of its swings: no
 * state_changed or incident_updated while it flaps, and its incident stays open. A host entering
 * UNREACHABLE gets its state_changed (to_state UNREACHABLE, so notifications can skip it) and is
 * linked to the open incidents of the ancestors that made it so; it opens none itself.
 */
export async function recordCheckEffects(tx: Queryable, checks: RecordedCheck[], config: Config): Promise<void> {
  const live = checks.filter((c) => !c.outcome.inMaintenance);
  if (live.length === 0) return;
  const open = await openIncidentsFor(tx, live.map((c) => incidentFingerprint(c.host.id)));
  const events: NewEvent[] = [];
  const updates: IncidentUpdate[] = [];
  const openedNow: OpenedIncident[] = [];
  for (const { host, outcome: o, historyId, check } of live) {
    const base = { hostId: host.id, hostName: host.name, hostGroup: host.group, occurredAt: o.checkTime, checkId: historyId, jobId: check.jobId };
    const flapping = o.flap.flapping;
    if (o.flap.transition) events.push({ ...base, ...flapEvent(o.flap.transition, o.flap.percent), fromState: o.previousState, toState: o.state });
    if (o.changed && !flapping) events.push({ ...base, type: 'state_changed', fromState: o.previousState, toState: o.state, reason: stateChangeReason(o) });
    const fingerprint = incidentFingerprint(host.id);
    const incident = open.get(fingerprint);
    const action = decideIncident({ state: o.state, success: o.success, hasOpen: incident !== undefined, incidentStates: config.incidentStates, flapping });
    const change = { state: o.state, at: o.checkTime, errorType: o.errorType, errorMessage: o.errorMessage };
    if (action.kind === 'open') {
      const opened = await openIncident(tx, { hostId: host.id, fingerprint, ...change });
      openedNow.push({ incidentId: opened.id, hostId: host.id, at: o.checkTime });
      events.push({ ...base, type: 'incident_opened', incidentId: opened.id, fromState: o.previousState, toState: o.state, reason: o.errorMessage });
    } else if (action.kind === 'update' && incident) {
      updates.push({ id: incident.id, ...change });
      if (!flapping && (incident.current_state !== o.state || incident.last_error_type !== o.errorType)) {
        events.push({ ...base, type: 'incident_updated', incidentId: incident.id, fromState: o.previousState, toState: o.state, reason: o.errorMessage });
      }
    } else if (action.kind === 'resolve' && incident) {
      await resolveIncident(tx, incident.id, o.checkTime);
      events.push({ ...base, type: 'incident_resolved', incidentId: incident.id, fromState: o.previousState, toState: o.state, reason: 'host is HEALTHY again' });
    }
  }
  await updateIncidents(tx, updates);
  await linkDescendantsToIncidents(tx, openedNow, config.dependencies.maxDepth);
  const unreachable = live.filter((c) => c.outcome.state === 'UNREACHABLE');
  await linkUnreachableToIncidents(tx, unreachable.map((c) => ({ hostId: c.host.id, parentIds: c.outcome.failingParents.map((p) => p.id) })));
  await appendEvents(tx, events);
}

function stateChangeReason(o: CheckOutcome): string | null {
  if (o.state === 'UNREACHABLE') return `parent ${o.failingParents.map((p) => `${p.name} is ${p.state}`).join(', ')}: ${o.errorMessage ?? 'check failed'}`;
  return o.success ? 'check succeeded' : o.errorMessage;
}

function flapEvent(transition: 'started' | 'stopped', percent: number): Pick<NewEvent, 'type' | 'reason'> {
  return transition === 'started'
    ? { type: 'flapping_started', reason: `state changed on ${percent}% of recent checks (weighted); state changes are not announced while flapping` }
    : { type: 'flapping_stopped', reason: `state change rate down to ${percent}%` };
}

/**
 * What a group reset means beyond the host rows, in the reset's transaction: a reset is a state
 * change like any other, so each host it moved gets a state_changed event, and each open incident
 * of a reset host is resolved (with its event) rather than left open until the next check.
 */
export async function recordResetEffects(tx: Queryable, hosts: ResetHost[], historyIds: Map<string, string>): Promise<void> {
  const open = await openIncidentsFor(tx, hosts.map((h) => incidentFingerprint(h.id)));
  const events: NewEvent[] = [];
  for (const h of hosts) {
    const base = { hostId: h.id, hostName: h.name, hostGroup: h.group, occurredAt: h.reset_at, checkId: historyIds.get(h.id) ?? null };
    if (h.previous !== 'HEALTHY') events.push({ ...base, type: 'state_changed', fromState: h.previous, toState: 'HEALTHY', reason: 'group reset' });
    const incident = open.get(incidentFingerprint(h.id));
    if (!incident) continue;
    await resolveIncident(tx, incident.id, h.reset_at);
    events.push({ ...base, type: 'incident_resolved', incidentId: incident.id, fromState: h.previous, toState: 'HEALTHY', reason: 'group reset' });
  }
  await appendEvents(tx, events);
}
