import { randomUUID } from 'node:crypto';
import { databaseNow } from '../db/queries/hosts.ts';
import { countWindows, deleteWindow, getWindow, insertWindow, listWindows, replaceWindow, type WindowRow, type WindowWrite } from '../db/queries/maintenance-windows.ts';
import { badRequest, conflict, notFound, type FieldError } from '../lib/errors.ts';
import { activeOccurrence, isValidTimeZone, nextOccurrence, occurrencesBetween, parseWindowTime, recurringProblems, type Occurrence } from '../maintenance/occurrences.ts';
import { scheduleOf } from '../maintenance/windows.ts';
import type { ApiDeps } from './deps.ts';
import { WINDOW_EXAMPLES as EX } from './maintenance-window-examples.ts';
import {
  MAX_OCCURRENCES,
  MAX_RANGE_DAYS,
  MAX_WINDOWS,
  windowCreateSchema,
  windowIdParams,
  windowListQuery,
  windowListSchema,
  windowPatchSchema,
  windowSchema,
} from './maintenance-window-schemas.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import { problemSchema } from './schemas.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const TAGS = ['maintenance-windows'];
const DAY_MS = 86_400_000;

/** A window as the API takes it (create, or a stored window with a patch applied). */
interface WindowInput {
  label: string;
  reason: string;
  time_zone: string;
  starts_at: string | null;
  ends_at: string | null;
  cron: string | null;
  duration_seconds: number | null;
  active_from: string | null;
  active_until: string | null;
  hosts: string[];
  groups: string[];
  tags: string[];
}

/**
 * Scheduled maintenance windows. The scheduler moves hosts in and out of them on its own
 * (src/maintenance/reconcile.ts); these routes only keep the definitions and show occurrences.
 */
export function maintenanceWindowRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/api/maintenance-windows',
      operationId: 'listMaintenanceWindows',
      summary: 'Maintenance windows, and their occurrences in a time range (for a calendar)',
      tags: TAGS,
      query: windowListQuery,
      examples: { responses: { 200: [EX.list] } },
      responses: { 200: { description: 'Windows and occurrences', schema: windowListSchema }, 400: problem('Invalid range') },
      handler: async ({ query }) => {
        const now = await databaseNow(pool);
        const from = query.from ? new Date(query.from) : now;
        const to = query.to ? new Date(query.to) : new Date(from.getTime() + 7 * DAY_MS);
        if (to <= from) throw badRequest('empty range', [{ field: 'query.to', message: 'must be after from' }]);
        if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) throw badRequest('range too long', [{ field: 'query.to', message: `at most ${MAX_RANGE_DAYS} days after from` }]);
        const windows = await listWindows(pool);
        const all = windows.flatMap((w) => occurrencesBetween(scheduleOf(w), from, to, MAX_OCCURRENCES + 1).map((o) => occurrenceOf(w, o)));
        all.sort((a, b) => a.starts_at.localeCompare(b.starts_at));
        return {
          status: 200,
          body: {
            from: from.toISOString(),
            to: to.toISOString(),
            windows: windows.map((w) => serializeWindow(w, now)),
            occurrences: all.slice(0, MAX_OCCURRENCES),
            truncated: all.length > MAX_OCCURRENCES,
          },
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/maintenance-windows',
      operationId: 'createMaintenanceWindow',
      summary: 'Schedule a maintenance window (one-off or recurring) over hosts, groups or tags',
      description:
        'Inside an open window a host is as in manual maintenance: no scheduled checks, JIT checks recorded but flagged, the machine frozen, ' +
        'no incidents; it leaves on its own at the end, its next check spread like a first check. Events announce each host entering and leaving.',
      tags: TAGS,
      body: windowCreateSchema,
      examples: { request: [EX.recurring, EX.oneOff], responses: { 201: [EX.window] } },
      responses: { 201: { description: 'Created', schema: windowSchema }, 400: problem('Invalid window, each field named'), 409: problem(`More than ${MAX_WINDOWS} windows`) },
      handler: async ({ body }) => {
        const now = await databaseNow(pool);
        const write = toWrite(body, now);
        if ((await countWindows(pool)) >= MAX_WINDOWS) throw conflict(`at most ${MAX_WINDOWS} maintenance windows; delete some first`);
        const row = await insertWindow(pool, randomUUID(), write);
        return { status: 201, body: serializeWindow(row, now), headers: { Location: `/api/maintenance-windows/${row.id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/maintenance-windows/{window_id}',
      operationId: 'getMaintenanceWindow',
      summary: 'One maintenance window, with the occurrence open now and the next',
      tags: TAGS,
      params: windowIdParams,
      examples: { responses: { 200: [EX.window] } },
      responses: { 200: { description: 'The window', schema: windowSchema }, 400: problem('Malformed id'), 404: problem('No such window') },
      handler: async ({ params }) => {
        const row = await getWindow(pool, params.window_id);
        if (!row) throw notFound('maintenance window');
        return { status: 200, body: serializeWindow(row, await databaseNow(pool)) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/maintenance-windows/{window_id}',
      operationId: 'updateMaintenanceWindow',
      summary: 'Change a maintenance window; hosts follow within VIGIL_MAINTENANCE_POLL_MS',
      tags: TAGS,
      params: windowIdParams,
      body: windowPatchSchema,
      examples: { request: [EX.patch], responses: { 200: [EX.window] } },
      responses: { 200: { description: 'The window', schema: windowSchema }, 400: problem('Invalid window, each field named'), 404: problem('No such window') },
      handler: async ({ params, body }) => {
        const current = await getWindow(pool, params.window_id);
        if (!current) throw notFound('maintenance window');
        const now = await databaseNow(pool);
        const row = await replaceWindow(pool, params.window_id, toWrite({ ...inputOf(current), ...body }, now));
        if (!row) throw notFound('maintenance window');
        return { status: 200, body: serializeWindow(row, now) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/maintenance-windows/{window_id}',
      operationId: 'deleteMaintenanceWindow',
      summary: 'Delete a maintenance window; hosts inside it leave it (with events) within VIGIL_MAINTENANCE_POLL_MS',
      tags: TAGS,
      params: windowIdParams,
      responses: { 204: { description: 'Deleted' }, 400: problem('Malformed id'), 404: problem('No such window') },
      handler: async ({ params }) => {
        if (!(await deleteWindow(pool, params.window_id))) throw notFound('maintenance window');
        return { status: 204 };
      },
    }),
  ];
}

/** Validates a window as a whole and turns it into its stored form; every problem names its field. */
function toWrite(w: WindowInput, now: Date): WindowWrite {
  const errors: FieldError[] = [];
  const err = (field: string, message: string) => errors.push({ field: `body.${field}`, message });
  const zone = w.time_zone;
  if (!isValidTimeZone(zone)) err('time_zone', `${JSON.stringify(zone)} is not an IANA time zone (e.g. Europe/Berlin)`);
  const oneOff = w.starts_at !== null || w.ends_at !== null;
  const recurring = w.cron !== null || w.duration_seconds !== null;
  if (oneOff === recurring) err(oneOff ? 'cron' : 'starts_at', 'give either starts_at and ends_at (one-off) or cron and duration_seconds (recurring)');
  let startsAt: Date | null = null;
  let endsAt: Date | null = null;
  if (oneOff && !recurring) {
    if (w.starts_at === null) err('starts_at', 'a one-off window needs a start');
    if (w.ends_at === null) err('ends_at', 'a one-off window needs an end');
    startsAt = w.starts_at === null ? null : (parseWindowTime(w.starts_at, zone) ?? null);
    endsAt = w.ends_at === null ? null : (parseWindowTime(w.ends_at, zone) ?? null);
    if (w.starts_at !== null && !startsAt) err('starts_at', 'not an ISO 8601 date-time');
    if (w.ends_at !== null && !endsAt) err('ends_at', 'not an ISO 8601 date-time');
    if (startsAt && endsAt && endsAt <= startsAt) err('ends_at', 'must be after starts_at');
  }
  if (recurring && !oneOff) {
    if (w.cron === null) err('cron', 'a recurring window needs a cron expression');
    if (w.duration_seconds === null) err('duration_seconds', 'a recurring window needs a duration');
    if (w.cron !== null && w.duration_seconds !== null && isValidTimeZone(zone)) {
      for (const p of recurringProblems(w.cron, w.duration_seconds, zone, now)) err(p.field, p.message);
    }
  }
  if (w.active_from && w.active_until && w.active_until <= w.active_from) err('active_until', 'must be after active_from');
  if (w.hosts.length + w.groups.length + w.tags.length === 0) err('hosts', 'name at least one host, group or tag');
  if (errors.length > 0) throw badRequest('invalid maintenance window', errors);
  return {
    label: w.label, reason: w.reason, time_zone: zone, starts_at: startsAt, ends_at: endsAt,
    cron: recurring ? w.cron : null, duration_seconds: recurring ? w.duration_seconds : null,
    active_from: w.active_from ? new Date(w.active_from) : null, active_until: w.active_until ? new Date(w.active_until) : null,
    host_ids: [...new Set(w.hosts)], groups: [...new Set(w.groups)], tags: [...new Set(w.tags)],
  };
}

/** A stored window in the API's input form, for patching. */
function inputOf(w: WindowRow): WindowInput {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    label: w.label, reason: w.reason, time_zone: w.time_zone, starts_at: iso(w.starts_at), ends_at: iso(w.ends_at), cron: w.cron,
    duration_seconds: w.duration_seconds, active_from: iso(w.active_from), active_until: iso(w.active_until), hosts: w.host_ids, groups: w.groups, tags: w.tags,
  };
}

export function occurrenceOf(w: Pick<WindowRow, 'id' | 'label' | 'reason'>, o: Occurrence) {
  return { window_id: w.id, label: w.label, reason: w.reason, starts_at: o.startsAt.toISOString(), ends_at: o.endsAt.toISOString() };
}

function serializeWindow(w: WindowRow, now: Date) {
  const schedule = scheduleOf(w);
  const open = activeOccurrence(schedule, now);
  const next = nextOccurrence(schedule, now);
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    id: w.id,
    kind: w.cron ? ('recurring' as const) : ('one_off' as const),
    label: w.label,
    reason: w.reason,
    time_zone: w.time_zone,
    starts_at: iso(w.starts_at),
    ends_at: iso(w.ends_at),
    cron: w.cron,
    duration_seconds: w.duration_seconds,
    active_from: iso(w.active_from),
    active_until: iso(w.active_until),
    hosts: w.host_ids,
    groups: w.groups,
    tags: w.tags,
    open_now: open ? occurrenceOf(w, open) : null,
    next_occurrence: next ? occurrenceOf(w, next) : null,
    created_at: w.created_at.toISOString(),
    updated_at: w.updated_at.toISOString(),
  };
}
