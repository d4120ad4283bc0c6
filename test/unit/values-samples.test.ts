import { describe, expect, it } from 'vitest';
import { breachMessage, breachOf, findBreaches, toNumber, withRates } from '../../src/values/samples.ts';
import type { Sample } from '../../src/values/items.ts';

const sample = (over: Partial<Sample>): Sample => ({ template: 't', item: 'x', unit: '', kind: 'gauge', row: null, value: 0, ...over });

describe('toNumber', () => {
  it.each([
    [42, 42],
    ['18446744073709551615', 18446744073709551615],
    [' 0.75\n', 0.75],
    ['1e3', 1000],
    ['up', null],
    ['', null],
    [null, null],
    [Number.NaN, null],
    ['1.', 1],
    ['.5', 0.5],
    ['-2.5E-3', -0.0025],
    ['1.2.3', null],
    ['1e', null],
  ])('%j -> %j', (raw, expected) => expect(toNumber(raw)).toBe(expected));

  // Target-controlled text (a JSON string value of up to 1 MiB, 64 KiB of SSH output): the former
  // pattern backtracked quadratically here (17 s for 64 KiB of digits; this case would run for hours).
  it.each([
    ['a MiB of digits and a letter', `${'7'.repeat(1 << 20)}x`],
    ['digits, a point, digits and a letter', `${'7'.repeat(1 << 19)}.${'7'.repeat(1 << 19)}x`],
    ['an exponent of a MiB of digits and a letter', `1e${'7'.repeat(1 << 20)}x`],
  ])('reads %s as no number, in linear time', (_case, raw) => expect(toNumber(raw)).toBeNull());
});

describe('breachOf', () => {
  it.each([
    [{ above: 10 }, 11, 'above 10'],
    [{ above: 10 }, 10, null],
    [{ below: 5 }, 4, 'below 5'],
    [{ below: 5, above: 10 }, 7, null],
    [{ below: 5, above: 10 }, 11, 'outside [5, 10]'],
    [{ below: 5, above: 10 }, 1, 'outside [5, 10]'],
  ])('%j on %d -> %j', (threshold, value, expected) => expect(breachOf(value, threshold)).toBe(expected));
});

describe('withRates', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T00:00:10Z');
  const previous = { collected_at: t0.toISOString(), samples: [sample({ kind: 'counter', row: 'eth0', value: 1000 })] };

  it.each([
    ['grows: increase per second', 1500, 50],
    ['goes backwards (reset or wrap): no rate', 10, null],
  ])('%s', (_name, value, rate) => {
    expect(withRates([sample({ kind: 'counter', row: 'eth0', value })], previous, t1)[0]!.rate).toBe(rate);
  });

  it('has no rate for a row not seen before, and leaves gauges alone', () => {
    const [fresh, gauge] = withRates([sample({ kind: 'counter', row: 'eth1', value: 5 }), sample({ item: 'g', value: 3 })], previous, t1);
    expect(fresh!.rate).toBeNull();
    expect(gauge).not.toHaveProperty('rate');
  });
});

describe('findBreaches and breachMessage', () => {
  it('judges a counter on its rate and names item, row and value', () => {
    const thresholds = new Map([['t\u0000x', { above: 100 }]]);
    const breaches = findBreaches([sample({ kind: 'counter', row: 'eth0', value: 1e9, rate: 250 }), sample({ kind: 'counter', row: 'eth1', value: 1e9, rate: null })], thresholds);
    expect(breaches).toEqual([{ template: 't', item: 'x', row: 'eth0', value: 250, measure: 'rate', reason: 'above 100' }]);
    expect(breachMessage(breaches)).toBe('x[eth0] rate 250 above 100');
  });

  it('shortens long lists', () => {
    const many = Array.from({ length: 5 }, (_, i) => ({ template: 't', item: 'x', row: String(i), value: i, measure: 'value' as const, reason: 'below 9' }));
    expect(breachMessage(many)).toMatch(/x\[2\] 2 below 9; and 2 more$/);
  });
});
