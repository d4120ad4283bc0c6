import type { HostState } from '../machine/states.ts';

/**
 * When incidents open, update and resolve (seed 000's alert engine), as a pure decision:
 * - open when a check takes the host into an incident state and none is open (one per host);
 * - update on every further failed check while open;
 * - resolve when the host is HEALTHY again — but not while it is flapping: a flapping host's
 *   incident stays open through its swings and resolves on the first HEALTHY check after;
 * - UNREACHABLE never opens one (it is not an incident state: the parent's incident covers it).
 */
export type IncidentAction = { kind: 'open' } | { kind: 'update' } | { kind: 'resolve' } | { kind: 'none' };

export function decideIncident(c: { state: HostState; success: boolean; hasOpen: boolean; incidentStates: readonly HostState[]; flapping?: boolean }): IncidentAction {
  if (c.hasOpen && c.state === 'HEALTHY') return c.flapping ? { kind: 'none' } : { kind: 'resolve' };
  if (c.hasOpen && !c.success) return { kind: 'update' };
  if (!c.hasOpen && c.state !== 'UNREACHABLE' && c.incidentStates.includes(c.state)) return { kind: 'open' };
  return { kind: 'none' };
}

/** The dedup fingerprint of a host's availability incident. */
export const incidentFingerprint = (hostId: string) => `host:${hostId}:availability`;
