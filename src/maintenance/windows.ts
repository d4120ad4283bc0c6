import type { WindowRow } from '../db/queries/maintenance-windows.ts';
import type { WindowSchedule } from './occurrences.ts';

/** A stored window's schedule, for the occurrence calculation. */
export function scheduleOf(w: WindowRow): WindowSchedule {
  return {
    timeZone: w.time_zone,
    startsAt: w.starts_at,
    endsAt: w.ends_at,
    cron: w.cron,
    durationSeconds: w.duration_seconds,
    activeFrom: w.active_from,
    activeUntil: w.active_until,
  };
}

/** The reason an event gives for a window: its label, and its reason when it has one. */
export const windowReason = (w: Pick<WindowRow, 'label' | 'reason'> | undefined) =>
  w ? (w.reason ? `${w.label}: ${w.reason}` : w.label) : 'a deleted maintenance window';
