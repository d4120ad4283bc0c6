import type { EventRow } from '../db/queries/events.ts';

/**
 * An event as every client sees it: the `data` of a Server-Sent Event on /api/events and the body
 * of a webhook delivery are this same JSON (openapi.yaml's Event), so a consumer parses one shape.
 * Ids of bigint rows (`id`, `check_id`) are decimal strings; `check_id` and `job_id` name the check
 * that caused the event (history row, pg-boss job).
 */
export function serializeEvent(e: EventRow) {
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
