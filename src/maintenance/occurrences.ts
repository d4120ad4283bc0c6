import { CronExpressionParser } from 'cron-parser';
import { DateTime, IANAZone } from 'luxon';
import { coerceError } from '../lib/errors.ts';

/**
 * When maintenance windows are open. Pure: a window's schedule and a time range in, occurrences out.
 *
 * Words used here:
 * - window: a scheduled maintenance definition (one-off, or recurring by a cron expression);
 * - occurrence: one concrete [startsAt, endsAt) interval of a window.
 *
 * Recurring windows are defined on the wall clock of their IANA time zone ("every Sunday
 * 02:30 Europe/Berlin") and last `durationSeconds` of real time. The cron expression is evaluated
 * on the wall clock (cron-parser in UTC, standing for "floating" local time), and each wall-clock
 * start is then placed in the zone by the rules of iCalendar (RFC 5545, 3.3.5):
 * - a start that does not exist (the clocks jump over it, e.g. 02:30 on 2026-03-29 in Berlin) is
 *   read with the offset before the jump: 02:30 CET = 03:30 CEST, one hour of real time later
 *   than 01:30 CET;
 * - a start that occurs twice (the clocks fall back over it, e.g. 02:30 on 2026-10-25 in Berlin)
 *   is its first occurrence: 02:30 CEST (00:30 UTC).
 * The occurrence then lasts its duration in real time (1 h from 02:30 CEST ends at 02:30 CET).
 */

/** A window's schedule: one-off (startsAt, endsAt) or recurring (cron, durationSeconds). */
export interface WindowSchedule {
  timeZone: string;
  startsAt: Date | null;
  endsAt: Date | null;
  cron: string | null;
  durationSeconds: number | null;
  /** A recurring window's occurrences start within [activeFrom, activeUntil) when set. */
  activeFrom: Date | null;
  activeUntil: Date | null;
}

export interface Occurrence {
  startsAt: Date;
  endsAt: Date;
}

/** The largest jump of a zone's UTC offset we look around a wall-clock time for (DST is 1 h; a few zones moved 2 h). */
const OFFSET_MARGIN_MS = 3 * 3600_000;
/** Cron firings examined in one call at most: a bound on the work any window can cause. */
const MAX_FIRINGS = 20_000;

export const isValidTimeZone = (zone: string) => IANAZone.isValidZone(zone);


/**
 * The instant a wall-clock time in `zone` stands for, by RFC 5545's rules: the first of two
 * (clocks falling back), or, inside a gap (clocks springing forward), read with the offset before it.
 */
export function wallClockToInstant(floating: Date, zone: string): Date {
  const wallMs = floating.getTime();
  const offsetAt = (ms: number) => DateTime.fromMillis(ms, { zone }).offset * 60_000;
  // Candidate offsets: those in force somewhat before and after this wall-clock time.
  const offsets = [...new Set([offsetAt(wallMs - OFFSET_MARGIN_MS), offsetAt(wallMs), offsetAt(wallMs + OFFSET_MARGIN_MS)])];
  const matching = offsets.map((o) => wallMs - o).filter((instant) => offsetAt(instant) === wallMs - instant);
  if (matching.length > 0) return new Date(Math.min(...matching));
  // In a gap: the offset in force before it.
  return new Date(wallMs - offsetAt(wallMs - OFFSET_MARGIN_MS));
}

/** The wall-clock time (as a floating Date) of an instant in `zone`. */
export function instantToWallClock(instant: Date, zone: string): Date {
  const local = DateTime.fromJSDate(instant, { zone });
  return new Date(instant.getTime() + local.offset * 60_000);
}

/** Occurrences of a recurring window in start order, from the first that could still be open at `from`. */
function* recurringOccurrences(w: WindowSchedule, from: Date): Generator<Occurrence> {
  const durationMs = w.durationSeconds! * 1000;
  const earliest = new Date(Math.max(from.getTime() - durationMs, w.activeFrom?.getTime() ?? -Infinity));
  const startFloating = new Date(instantToWallClock(earliest, w.timeZone).getTime() - OFFSET_MARGIN_MS - 1000);
  const firings = CronExpressionParser.parse(w.cron!, { currentDate: startFloating, tz: 'UTC' });
  for (let i = 0; i < MAX_FIRINGS && firings.hasNext(); i++) {
    const startsAt = wallClockToInstant(firings.next().toDate(), w.timeZone);
    if (w.activeUntil && startsAt >= w.activeUntil) return;
    if (w.activeFrom && startsAt < w.activeFrom) continue;
    const endsAt = new Date(startsAt.getTime() + durationMs);
    if (endsAt > from) yield { startsAt, endsAt };
  }
}

/** Occurrences overlapping [from, to), in start order, at most `limit`. */
export function occurrencesBetween(w: WindowSchedule, from: Date, to: Date, limit = 1000): Occurrence[] {
  if (w.startsAt && w.endsAt) return w.startsAt < to && w.endsAt > from ? [{ startsAt: w.startsAt, endsAt: w.endsAt }] : [];
  const found: Occurrence[] = [];
  for (const o of recurringOccurrences(w, from)) {
    if (o.startsAt >= to || found.length >= limit) break;
    found.push(o);
  }
  return found;
}

/** The occurrence open at `at` (startsAt <= at < endsAt), if any. */
export function activeOccurrence(w: WindowSchedule, at: Date): Occurrence | undefined {
  return occurrencesBetween(w, at, new Date(at.getTime() + 1), 1).find((o) => o.startsAt <= at && o.endsAt > at);
}

/** The first occurrence starting after `after`, looking at most `horizonDays` ahead. */
export function nextOccurrence(w: WindowSchedule, after: Date, horizonDays = 400): Occurrence | undefined {
  if (w.startsAt && w.endsAt) return w.startsAt > after ? { startsAt: w.startsAt, endsAt: w.endsAt } : undefined;
  const horizon = after.getTime() + horizonDays * 86_400_000;
  for (const o of recurringOccurrences(w, after)) {
    if (o.startsAt.getTime() > horizon) return undefined;
    if (o.startsAt > after) return o;
  }
  return undefined;
}

/**
 * What is wrong with a recurring schedule, by field: a cron expression that does not parse, one
 * that never fires, or occurrences that overlap (the duration longer than the gap between two).
 */
export function recurringProblems(cron: string, durationSeconds: number, timeZone: string, now: Date): { field: 'cron' | 'duration_seconds'; message: string }[] {
  try {
    CronExpressionParser.parse(cron, { tz: 'UTC' });
  } catch (err) {
    return [{ field: 'cron', message: `not a cron expression: ${coerceError(err).message}` }];
  }
  const schedule: WindowSchedule = { timeZone, cron, durationSeconds, startsAt: null, endsAt: null, activeFrom: null, activeUntil: null };
  const sample = occurrencesBetween(schedule, now, new Date(now.getTime() + 400 * 86_400_000), 50);
  if (sample.length === 0) return [{ field: 'cron', message: 'never fires in the next 400 days' }];
  for (let i = 1; i < sample.length; i++) {
    const gapSeconds = (sample[i]!.startsAt.getTime() - sample[i - 1]!.startsAt.getTime()) / 1000;
    if (gapSeconds < durationSeconds) {
      return [{ field: 'duration_seconds', message: `occurrences would overlap: the cron fires ${gapSeconds} s apart, less than the duration` }];
    }
  }
  return [];
}

/** Reads a one-off window's time: with an offset as given, without one on the window's wall clock. */
export function parseWindowTime(text: string, zone: string): Date | undefined {
  const dt = DateTime.fromISO(text, { zone, setZone: false });
  if (!dt.isValid) return undefined;
  const hasOffset = /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(text);
  if (hasOffset) return dt.toJSDate();
  // A local time: placed by the same rules as recurring starts.
  const floating = DateTime.fromISO(text, { zone: 'UTC' });
  return wallClockToInstant(floating.toJSDate(), zone);
}

