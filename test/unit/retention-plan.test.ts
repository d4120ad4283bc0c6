import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { parsePartitionName, partitionName, utcDayStart } from '../../src/db/queries/partitions.ts';
import { ConfigError } from '../../src/lib/errors.ts';
import { planPartitions } from '../../src/retention/history-partitions.ts';

const at = (iso: string) => new Date(iso);

describe('daily history partitions', () => {
  it.each([
    ['2026-05-04T00:00:00.000Z', 'host_monitoring_history_p20260504'],
    ['2026-05-04T23:59:59.999Z', 'host_monitoring_history_p20260504'],
    ['2026-05-05T00:00:00.000Z', 'host_monitoring_history_p20260505'],
    ['2026-12-31T12:00:00.000Z', 'host_monitoring_history_p20261231'],
  ])('names the UTC day of %s %s', (time, name) => {
    expect(partitionName(at(time))).toBe(name);
    expect(parsePartitionName(name)).toEqual({ name, from: utcDayStart(at(time)), to: new Date(utcDayStart(at(time)).getTime() + 86_400_000) });
  });

  it.each(['host_monitoring_history_default', 'host_monitoring_history_p20261301', 'host_monitoring_history_p2026050', 'other_p20260504'])(
    'does not take %s for a daily partition',
    (name) => expect(parsePartitionName(name)).toBeUndefined(),
  );
});

describe('planPartitions', () => {
  it.each([
    // now, ahead, retention -> first and last day wanted, cutoff
    ['2026-05-10T12:00:00Z', 3, 30, '2026-05-10', '2026-05-13', '2026-04-10T12:00:00.000Z'],
    ['2026-05-10T00:00:00Z', 1, 2, '2026-05-10', '2026-05-11', '2026-05-08T00:00:00.000Z'],
    ['2026-05-10T23:59:59Z', 3, 0, '2026-05-10', '2026-05-13', null],
  ])('at %s, %i days ahead, %i days kept: partitions %s..%s, rows before %s expire', (now, aheadDays, retentionDays, first, last, cutoff) => {
    const plan = planPartitions({ now: at(now), aheadDays, retentionDays });
    expect(plan.days).toHaveLength(aheadDays + 1);
    expect(plan.days[0]!.toISOString().slice(0, 10)).toBe(first);
    expect(plan.days.at(-1)!.toISOString().slice(0, 10)).toBe(last);
    expect(plan.cutoff?.toISOString() ?? null).toBe(cutoff);
  });
});

describe('retention settings', () => {
  it('default to 30 days kept and 3 days ahead', () => {
    expect(loadConfig({}).history).toEqual({ retentionDays: 30, partitionsAheadDays: 3 });
    expect(loadConfig({ VIGIL_HISTORY_RETENTION_DAYS: '0', VIGIL_PARTITIONS_AHEAD_DAYS: '7' }).history).toEqual({ retentionDays: 0, partitionsAheadDays: 7 });
  });

  it.each([
    ['VIGIL_HISTORY_RETENTION_DAYS', '-1'],
    ['VIGIL_HISTORY_RETENTION_DAYS', '1.5'],
    ['VIGIL_HISTORY_RETENTION_DAYS', 'month'],
    ['VIGIL_PARTITIONS_AHEAD_DAYS', '0'],
    ['VIGIL_PARTITIONS_AHEAD_DAYS', '1000'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
