import type { EventRow } from '../db/queries/events.ts';

/**
 * An event as every client sees it: the `data` of a Server-Sent Event on /api/events and the body
 * of a webhook delivery are this same JSON (openapi.yaml's Event), so a consumer parses one shape.
 * Ids of bigint rows (`id`, `check_id`) are decimal strings.
 */
export interface EventPayload {
  id: string;
  type: EventRow['type'];
  /** ISO 8601, UTC. */
  occurred_at: string;
  host: { id: string; name: string; group: string | null };
  from_state: string | null;
  to_state: string | null;
  reason: string | null;
  incident_id: string | null;
  /** History row of the check that caused it. */
  check_id: string | null;
  /** pg-boss job of that check. */
  job_id: string | null;
}

export function serializeEvent(e: EventRow): EventPayload {
  return {
    id: e.id,
    type: e.type,
    occurred_at: e.occurred_at.toISOString(),
    host: { id: e.host_id, name: e.host_name, group: e.host_group },
    from_state: e.from_state,
    to_state: e.to_state,
    reason: e.reason,
    incident_id: e.incident_id,
    check_id: e.check_id,
    job_id: e.job_id,
  };
}
