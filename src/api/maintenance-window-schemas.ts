import { z } from 'zod';
import { named } from './registry.ts';

/** Maintenance window shapes (src/maintenance). */

const isoTime = z.iso.datetime({ offset: true });
export const MAX_WINDOWS = 1000;
export const MAX_OCCURRENCES = 5000;
export const MAX_RANGE_DAYS = 366;

const windowTime = z
  .string()
  .min(1)
  .max(64)
  .describe("ISO 8601 date-time: with an offset as given, without one (2026-12-14T22:00) on the window's time zone's wall clock");

const windowFields = {
  label: z.string().trim().min(1).max(200).describe('Author-supplied label, shown in events and calendars'),
  reason: z.string().max(1000).describe('Why (shown in events)'),
  time_zone: z.string().min(1).max(64).describe('IANA time zone the window is defined in, e.g. Europe/Berlin'),
  starts_at: windowTime.nullable().describe('One-off window: start'),
  ends_at: windowTime.nullable().describe('One-off window: end (after the start)'),
  cron: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .nullable()
    .describe('Recurring window: cron expression on the zone\'s wall clock (5 fields, or 6 with seconds first), e.g. "30 2 * * 0" = Sundays 02:30'),
  duration_seconds: z.int().min(1).max(7 * 86_400).nullable().describe('Recurring window: length of each occurrence in real time (shorter than the gap between two)'),
  active_from: isoTime.nullable().describe('Recurring window: no occurrence starts before this'),
  active_until: isoTime.nullable().describe('Recurring window: no occurrence starts at or after this'),
  hosts: z.array(z.uuid()).max(1000).describe('Host ids it applies to'),
  groups: z.array(z.string().min(1).max(255)).max(100).describe('Groups it applies to (all their hosts)'),
  tags: z.array(z.string().min(1).max(64)).max(100).describe('Tags it applies to (hosts with any of them)'),
};

export const windowCreateSchema = named(
  'MaintenanceWindowCreate',
  z
    .object({
      label: windowFields.label,
      reason: windowFields.reason.default(''),
      time_zone: windowFields.time_zone.default('UTC'),
      starts_at: windowFields.starts_at.default(null),
      ends_at: windowFields.ends_at.default(null),
      cron: windowFields.cron.default(null),
      duration_seconds: windowFields.duration_seconds.default(null),
      active_from: windowFields.active_from.default(null),
      active_until: windowFields.active_until.default(null),
      hosts: windowFields.hosts.default([]),
      groups: windowFields.groups.default([]),
      tags: windowFields.tags.default([]),
    })
    .strict()
    .describe('One-off (starts_at, ends_at) or recurring (cron, duration_seconds); applied to hosts, groups and/or tags'),
);

export const windowPatchSchema = named(
  'MaintenanceWindowPatch',
  z
    .object(windowFields)
    .partial()
    .strict()
    .refine((p) => Object.keys(p).length > 0, 'give at least one field to change')
    .describe('Fields to change; the window is validated whole again (null clears a field, e.g. to turn a recurring window into a one-off)'),
);

export const occurrenceSchema = named(
  'MaintenanceOccurrence',
  z.object({
    window_id: z.uuid(),
    label: z.string(),
    reason: z.string(),
    starts_at: isoTime,
    ends_at: isoTime,
  }),
);

export const windowSchema = named(
  'MaintenanceWindow',
  z.object({
    id: z.uuid(),
    kind: z.enum(['one_off', 'recurring']),
    label: z.string(),
    reason: z.string(),
    time_zone: z.string(),
    starts_at: isoTime.nullable(),
    ends_at: isoTime.nullable(),
    cron: z.string().nullable(),
    duration_seconds: z.int().nullable(),
    active_from: isoTime.nullable(),
    active_until: isoTime.nullable(),
    hosts: z.array(z.uuid()),
    groups: z.array(z.string()),
    tags: z.array(z.string()),
    open_now: occurrenceSchema.nullable().describe('The occurrence open now, if any'),
    next_occurrence: occurrenceSchema.nullable().describe('The next occurrence to start (within 400 days)'),
    created_at: isoTime,
    updated_at: isoTime,
  }),
);

export const windowIdParams = z.object({ window_id: z.uuid().describe('Maintenance window id') }).strict();

export const windowListQuery = z
  .object({
    from: isoTime.optional().describe('Start of the range (default: now)'),
    to: isoTime.optional().describe(`End of the range (default: 7 days after from; at most ${MAX_RANGE_DAYS} days after it)`),
  })
  .strict();

export const windowListSchema = named(
  'MaintenanceWindowList',
  z.object({
    from: isoTime,
    to: isoTime,
    windows: z.array(windowSchema),
    occurrences: z.array(occurrenceSchema).describe('Occurrences overlapping [from, to), by start: what a calendar draws'),
    truncated: z.boolean().describe(`True when the range held more than ${MAX_OCCURRENCES} occurrences (only the first are listed)`),
  }),
);

/** What the state endpoint shows of a host's windows. */
export const hostWindowsSchema = named(
  'HostMaintenanceWindows',
  z.object({
    active: occurrenceSchema.nullable().describe('The window the host is in now (no scheduled checks; the machine is frozen)'),
    next: occurrenceSchema.nullable().describe('The next window to open for the host'),
  }),
);
