import type { z } from 'zod';
import type { ApiExample } from './route.ts';
import type { windowCreateSchema, windowListSchema, windowPatchSchema, windowSchema } from './maintenance-window-schemas.ts';

/** Examples of the maintenance window operations (typed by their schemas). */

const example = <S extends z.ZodType>(name: string, summary: string, value: z.input<S>): ApiExample => ({ name, summary, value });

const WINDOW_ID = '8f7e6d5c-4b3a-4921-8877-665544332211';
const sundays: z.output<typeof windowSchema> = {
  id: WINDOW_ID,
  kind: 'recurring',
  label: 'Sunday patching',
  reason: 'OS updates and reboots',
  time_zone: 'Europe/Berlin',
  starts_at: null,
  ends_at: null,
  cron: '0 2 * * 0',
  duration_seconds: 7200,
  active_from: null,
  active_until: null,
  hosts: [],
  groups: ['dc1'],
  tags: ['linux'],
  open_now: null,
  next_occurrence: { window_id: WINDOW_ID, label: 'Sunday patching', reason: 'OS updates and reboots', starts_at: '2026-05-10T00:00:00.000Z', ends_at: '2026-05-10T02:00:00.000Z' },
  created_at: '2026-05-04T09:00:00.000Z',
  updated_at: '2026-05-04T09:00:00.000Z',
};

export const WINDOW_EXAMPLES = {
  recurring: example<typeof windowCreateSchema>('MaintenanceWindowRecurring', 'Every Sunday 02:00-04:00 Europe/Berlin, for group dc1 and hosts tagged linux', {
    label: 'Sunday patching',
    reason: 'OS updates and reboots',
    time_zone: 'Europe/Berlin',
    cron: '0 2 * * 0',
    duration_seconds: 7200,
    groups: ['dc1'],
    tags: ['linux'],
  }),
  oneOff: example<typeof windowCreateSchema>('MaintenanceWindowOneOff', 'The core switch upgrade on the 14th, 22:00-23:30 local time', {
    label: 'Core switch upgrade',
    time_zone: 'Europe/Berlin',
    starts_at: '2026-12-14T22:00',
    ends_at: '2026-12-14T23:30',
    hosts: ['06909604-8df5-4680-bb1c-e7dc7f17dcbf'],
  }),
  patch: example<typeof windowPatchSchema>('MaintenanceWindowPatch', 'Three hours from now on', { duration_seconds: 10_800 }),
  window: example<typeof windowSchema>('MaintenanceWindow', 'A recurring window', sundays),
  list: example<typeof windowListSchema>('MaintenanceWindowList', 'A week of occurrences', {
    from: '2026-05-04T09:00:00.000Z',
    to: '2026-05-11T09:00:00.000Z',
    windows: [sundays],
    occurrences: [sundays.next_occurrence!],
    truncated: false,
  }),
};
