import { describe, expect, it } from 'vitest';
import { activeOccurrence, nextOccurrence, occurrencesBetween, parseWindowTime, recurringProblems, wallClockToInstant, type WindowSchedule } from '../../src/maintenance/occurrences.ts';

const weekly = (timeZone: string, cron = '30 2 * * 0', durationSeconds = 3600): WindowSchedule => ({
  timeZone, cron, durationSeconds, startsAt: null, endsAt: null, activeFrom: null, activeUntil: null,
});
const iso = (d: Date) => d.toISOString();
const between = (w: WindowSchedule, from: string, to: string) =>
  occurrencesBetween(w, new Date(from), new Date(to)).map((o) => [iso(o.startsAt), iso(o.endsAt)]);

describe('a weekly window "every Sunday 02:30-03:30" across daylight-saving changes', () => {
  it.each([
    // Standard time (CET, +01:00) the week before the clocks go forward.
    ['Europe/Berlin', '2026-03-21T00:00:00Z', '2026-03-23T00:00:00Z', ['2026-03-22T01:30:00.000Z', '2026-03-22T02:30:00.000Z']],
    // 2026-03-29: 02:30 does not exist (02:00 -> 03:00); read with the offset before the jump it is
    // 03:30 CEST (01:30 UTC), and the window lasts its hour of real time, to 04:30 CEST.
    ['Europe/Berlin', '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z', ['2026-03-29T01:30:00.000Z', '2026-03-29T02:30:00.000Z']],
    // Summer time (CEST, +02:00) the week after.
    ['Europe/Berlin', '2026-04-04T00:00:00Z', '2026-04-06T00:00:00Z', ['2026-04-05T00:30:00.000Z', '2026-04-05T01:30:00.000Z']],
    // 2026-10-25: 02:30 happens twice (03:00 CEST -> 02:00 CET); the window opens at the first
    // (02:30 CEST, 00:30 UTC) and lasts one hour of real time, to the second 02:30 (CET).
    ['Europe/Berlin', '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z', ['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']],
    ['Europe/Berlin', '2026-10-31T00:00:00Z', '2026-11-02T00:00:00Z', ['2026-11-01T01:30:00.000Z', '2026-11-01T02:30:00.000Z']],
    // A zone without daylight saving (IST, +05:30): the same wall-clock hour on both nights.
    ['Asia/Kolkata', '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z', ['2026-03-28T21:00:00.000Z', '2026-03-28T22:00:00.000Z']],
    ['Asia/Kolkata', '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z', ['2026-10-24T21:00:00.000Z', '2026-10-24T22:00:00.000Z']],
  ])('in %s between %s and %s', (zone, from, to, expected) => {
    expect(between(weekly(zone), from, to)).toEqual([expected]);
  });

  it('is open inside the shifted occurrence on the spring-forward night and closed where the naive hour would be', () => {
    const w = weekly('Europe/Berlin');
    expect(activeOccurrence(w, new Date('2026-03-29T01:45:00Z'))?.startsAt.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(activeOccurrence(w, new Date('2026-03-29T00:45:00Z'))).toBeUndefined();
    // Fall-back night: open through the first 02:30-03:00 and the repeated 02:00-02:30, closed at the second 02:30.
    expect(activeOccurrence(w, new Date('2026-10-25T01:15:00Z'))).toBeDefined();
    expect(activeOccurrence(w, new Date('2026-10-25T01:30:00Z'))).toBeUndefined();
  });

  it('finds the next occurrence after a time', () => {
    expect(nextOccurrence(weekly('Europe/Berlin'), new Date('2026-03-25T12:00:00Z'))?.startsAt.toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });
});

describe('wall-clock times in a zone', () => {
  it.each([
    ['an ordinary time', '2026-06-01T12:00:00Z', 'Europe/Berlin', '2026-06-01T10:00:00.000Z'],
    ['a time in the spring gap (offset before the gap)', '2026-03-29T02:30:00Z', 'Europe/Berlin', '2026-03-29T01:30:00.000Z'],
    ['a repeated time (its first occurrence)', '2026-10-25T02:30:00Z', 'Europe/Berlin', '2026-10-25T00:30:00.000Z'],
    ['a time just after the repeated hour', '2026-10-25T03:00:00Z', 'Europe/Berlin', '2026-10-25T02:00:00.000Z'],
    ['New York, spring gap', '2007-03-11T02:30:00Z', 'America/New_York', '2007-03-11T07:30:00.000Z'],
  ])('places %s', (_what, floating, zone, expected) => {
    expect(wallClockToInstant(new Date(floating), zone).toISOString()).toBe(expected);
  });

  it('reads one-off times with an offset as given and local times on the zone\'s wall clock', () => {
    expect(parseWindowTime('2026-12-14T22:00', 'Europe/Berlin')?.toISOString()).toBe('2026-12-14T21:00:00.000Z');
    expect(parseWindowTime('2026-12-14T22:00:00+00:00', 'Europe/Berlin')?.toISOString()).toBe('2026-12-14T22:00:00.000Z');
    expect(parseWindowTime('not a time', 'Europe/Berlin')).toBeUndefined();
  });
});

describe('recurring schedules', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('limits occurrences to their active range', () => {
    const w = { ...weekly('UTC', '0 3 * * *', 600), activeFrom: new Date('2026-01-02T00:00:00Z'), activeUntil: new Date('2026-01-04T00:00:00Z') };
    expect(between(w, '2026-01-01T00:00:00Z', '2026-01-10T00:00:00Z').map((o) => o[0])).toEqual(['2026-01-02T03:00:00.000Z', '2026-01-03T03:00:00.000Z']);
  });
  it.each([
    ['a cron that does not parse', 'every sunday', 60, 'cron'],
    ['occurrences that overlap', '*/10 * * * *', 900, 'duration_seconds'],
    ['a cron that never fires', '0 0 30 2 *', 60, 'cron'],
  ])('refuses %s', (_what, cron, duration, field) => {
    expect(recurringProblems(cron, duration, 'UTC', now).map((p) => p.field)).toEqual([field]);
  });
  it('accepts a valid schedule, seconds field included', () => {
    expect(recurringProblems('*/20 * * * * *', 5, 'Europe/Berlin', now)).toEqual([]);
  });
});
