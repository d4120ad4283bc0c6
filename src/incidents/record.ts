import type { Config } from '../config/config.ts';
import type { CheckOutcome, LockedHost } from '../db/queries/checks.ts';
import { appendEvents, type NewEvent } from '../db/queries/events.ts';
import { openIncident, openIncidentFor, resolveIncident, updateIncident } from '../db/queries/incidents.ts';
import type { Queryable } from '../db/pool.ts';
import { decideIncident, incidentFingerprint } from './policy.ts';

/**
 * What a recorded check means beyond the host row, in the check's own transaction: a
 * state_changed event for a transition, and the host's incident opened, updated or resolved
 * (with its event). A check in maintenance changes nothing here.
 */
export async function recordCheckEffects(tx: Queryable, host: LockedHost, o: CheckOutcome, check: { historyId: string; jobId: string }, config: Config): Promise<void> {
  if (o.inMaintenance) return;
  const base = { hostId: host.id, hostName: host.name, hostGroup: host.group, occurredAt: o.checkTime, checkId: check.historyId, jobId: check.jobId };
  const events: NewEvent[] = [];
  if (o.changed) events.push({ ...base, type: 'state_changed', fromState: o.previousState, toState: o.state, reason: o.success ? 'check succeeded' : o.errorMessage });
  const fingerprint = incidentFingerprint(host.id);
  const open = await openIncidentFor(tx, fingerprint);
  const action = decideIncident({ state: o.state, success: o.success, hasOpen: open !== undefined, incidentStates: config.incidentStates });
  const change = { state: o.state, at: o.checkTime, errorType: o.errorType, errorMessage: o.errorMessage };
  if (action.kind === 'open') {
    const incident = await openIncident(tx, { hostId: host.id, fingerprint, ...change });
    events.push({ ...base, type: 'incident_opened', incidentId: incident.id, fromState: o.previousState, toState: o.state, reason: o.errorMessage });
  } else if (action.kind === 'update' && open) {
    await updateIncident(tx, open.id, change);
    events.push({ ...base, type: 'incident_updated', incidentId: open.id, fromState: o.previousState, toState: o.state, reason: o.errorMessage });
  } else if (action.kind === 'resolve' && open) {
    await resolveIncident(tx, open.id, o.checkTime);
    events.push({ ...base, type: 'incident_resolved', incidentId: open.id, fromState: o.previousState, toState: o.state, reason: 'host is HEALTHY again' });
  }
  await appendEvents(tx, events);
}
