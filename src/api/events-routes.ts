import { acknowledgeWithEvent, getIncident, incidentTimeline, listIncidents, type ListedIncident } from '../db/queries/incidents.ts';
import { notFound } from '../lib/errors.ts';
import { principalOf, sessionOf } from './auth.ts';
import { encodeCursor } from './cursor.ts';
import type { ApiDeps } from './deps.ts';
import { EVENT_STREAM_EXAMPLE } from './examples.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import { incidentUnreachableRoute } from './dependency-routes.ts';
import { eventsQuery, incidentDetailSchema, incidentIdParams, incidentListQuery, incidentListSchema, incidentSchema, problemSchema } from './schemas.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const iso = (d: Date | null) => (d ? d.toISOString() : null);

function serializeIncident(i: ListedIncident) {
  return {
    id: i.id,
    host_id: i.host_id,
    host_name: i.host_name,
    host_group: i.host_group,
    status: i.status,
    trigger_state: i.trigger_state,
    current_state: i.current_state,
    failure_count: i.failure_count,
    last_error_type: i.last_error_type,
    last_error_message: i.last_error_message,
    opened_at: i.opened_at.toISOString(),
    updated_at: i.updated_at.toISOString(),
    resolved_at: iso(i.resolved_at),
    acknowledged_at: iso(i.acknowledged_at),
    acknowledged_by: i.acknowledged_by,
    unreachable_count: i.unreachable_count,
  };
}

/** The event stream (SSE) and incidents. */
export function eventRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/api/events',
      operationId: 'streamEvents',
      summary: 'Server-Sent Events: state changes and incidents, resumable with Last-Event-ID',
      description:
        'A text/event-stream of events (`id`, `event` = type, `data` = the Event as JSON), filtered by host, group and type. ' +
        'A comment line is sent every heartbeat. Reconnecting with the Last-Event-ID header (or last_event_id) replays every ' +
        'matching event after it, none twice; without it the stream starts with the next event. A replay reaches back at most ' +
        'VIGIL_SSE_REPLAY_MAX_EVENTS event ids (default 10000): asked for more, the stream sends one `resync` event ' +
        '(`data`: reason, max_replay_events, latest_event_id; its `id` is the newest event) and follows new events from there, ' +
        'so the client should reload current state. A client that reads nothing for VIGIL_STREAM_STALL_SECONDS is disconnected, ' +
        'and a stream ends within one heartbeat of its token being revoked or expiring.',
      tags: ['events'],
      query: eventsQuery,
      responses: {
        200: { description: 'The event stream', content: { 'text/event-stream': undefined } },
        400: problem('Invalid filter'),
        429: problem('Too many event streams open, for this token or this server (Retry-After says when to try again)'),
        503: problem('The database is unreachable or busy (Retry-After)'),
      },
      examples: { responses: { 200: [EVENT_STREAM_EXAMPLE] } },
      handler: async ({ query }, { req, res }) => {
        const header = req.headers['last-event-id'];
        const fromHeader = typeof header === 'string' && /^\d{1,18}$/.test(header) ? header : undefined;
        const filter = { hostIds: query.host_id, groups: query.group, types: query.type };
        const principal = principalOf(res);
        const release = deps.sse.reserve(principal);
        const sessionId = sessionOf(res)?.id;
        return { status: 200, stream: (out) => deps.sse.serve(req, out, { principal, sessionId, filter, lastEventId: query.last_event_id ?? fromHeader, release }) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/incidents',
      operationId: 'listIncidents',
      summary: 'Incidents, newest first, by status, host or group',
      tags: ['incidents'],
      query: incidentListQuery,
      responses: { 200: { description: 'A page of incidents', schema: incidentListSchema }, 400: problem('Invalid query') },
      handler: async ({ query }) => {
        const before = query.before && { openedAt: query.before[0], id: query.before[1] };
        const rows = await listIncidents(pool, { status: query.status, hostId: query.host_id, group: query.group, limit: query.limit + 1, before });
        const page = rows.slice(0, query.limit);
        const last = page[page.length - 1];
        const next = rows.length > query.limit && last ? encodeCursor([last.opened_at.toISOString(), last.id]) : null;
        return { status: 200, body: { incidents: page.map(serializeIncident), next_cursor: next } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/incidents/{incident_id}',
      operationId: 'getIncident',
      summary: 'One incident with its timeline',
      tags: ['incidents'],
      params: incidentIdParams,
      responses: { 200: { description: 'The incident', schema: incidentDetailSchema }, 400: problem('Malformed id'), 404: problem('No such incident') },
      handler: async ({ params }) => {
        const incident = await getIncident(pool, params.incident_id);
        if (!incident) throw notFound('incident');
        const timeline = (await incidentTimeline(pool, incident.id)).map((e) => ({
          event_id: e.id, type: e.type, at: e.occurred_at.toISOString(), from_state: e.from_state, to_state: e.to_state, reason: e.reason, check_id: e.check_id,
        }));
        return { status: 200, body: { ...serializeIncident(incident), timeline } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/incidents/{incident_id}/acknowledge',
      operationId: 'acknowledgeIncident',
      summary: 'Acknowledge an incident (someone is on it)',
      tags: ['incidents'],
      scope: 'admin',
      params: incidentIdParams,
      responses: { 200: { description: 'The acknowledged incident', schema: incidentSchema }, 400: problem('Malformed id'), 404: problem('No such incident') },
      handler: async ({ params }, { res }) => {
        const row = await acknowledgeWithEvent(pool, params.incident_id, principalOf(res).name);
        if (!row) throw notFound('incident');
        return { status: 200, body: serializeIncident((await getIncident(pool, row.id))!) };
      },
    }),
    incidentUnreachableRoute(deps),
  ];
}
