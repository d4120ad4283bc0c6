import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { FLAP_WINDOW, flapPercent, updateFlapping, type FlapState } from '../../src/machine/flapping.ts';

const THRESHOLDS = { lowPercent: 25, highPercent: 30 };
const START: FlapState = { changes: '', percent: 0, flapping: false };

/** Feeds results one by one; returns the state after each. */
function run(results: boolean[], from = START, previous: boolean | null = null) {
  let state = from;
  let last = previous;
  return results.map((success) => {
    const next = updateFlapping(state, last, success, THRESHOLDS);
    state = next;
    last = success;
    return next;
  });
}

describe('flap detection (Icinga 2 weighted state-change percentage)', () => {
  it.each([
    ['no change', '0'.repeat(FLAP_WINDOW), 0],
    ['every check a change', '1'.repeat(FLAP_WINDOW), 100],
    // Newest changes weigh 1.2, oldest 0.8: the same count of changes scores higher when recent.
    ['one change, newest', '0'.repeat(FLAP_WINDOW - 1) + '1', 6],
    ['one change, oldest', '1' + '0'.repeat(FLAP_WINDOW - 1), 4],
  ])('%s: %s -> %d %%', (_what, changes, percent) => {
    expect(flapPercent(changes)).toBeCloseTo(percent, 5);
  });

  it('a host alternating success and failure starts flapping once the percentage passes the high threshold, once', () => {
    const states = run(Array.from({ length: 12 }, (_, i) => i % 2 === 0));
    const started = states.findIndex((s) => s.flapping);
    expect(started).toBeGreaterThan(0);
    expect(states[started]!.transition).toBe('started');
    expect(states[started]!.percent).toBeGreaterThan(THRESHOLDS.highPercent);
    expect(states[started - 1]!.percent).toBeLessThanOrEqual(THRESHOLDS.highPercent);
    expect(states.filter((s) => s.transition !== null)).toHaveLength(1);
  });

  it('stops flapping only below the low threshold (hysteresis), once', () => {
    const flapping = run(Array.from({ length: 20 }, (_, i) => i % 2 === 0)).at(-1)!;
    expect(flapping.flapping).toBe(true);
    const steady = run(Array.from({ length: 20 }, () => true), flapping, true);
    const stopped = steady.findIndex((s) => !s.flapping);
    expect(stopped).toBeGreaterThan(0);
    expect(steady[stopped]!.transition).toBe('stopped');
    expect(steady[stopped]!.percent).toBeLessThan(THRESHOLDS.lowPercent);
    // Between the thresholds it kept flapping: the hysteresis.
    expect(steady.slice(0, stopped).some((s) => s.percent <= THRESHOLDS.highPercent && s.flapping)).toBe(true);
    expect(steady.filter((s) => s.transition !== null)).toHaveLength(1);
  });

  it('counts no change for the first result of a host never checked', () => {
    expect(updateFlapping(START, null, false, THRESHOLDS)).toMatchObject({ changes: '0', percent: 0, flapping: false, transition: null });
  });

  it('reads the thresholds from the environment and refuses low above high', () => {
    expect(loadConfig({ VIGIL_FLAP_THRESHOLD_LOW: '10', VIGIL_FLAP_THRESHOLD_HIGH: '40' }).flapping).toEqual({ lowPercent: 10, highPercent: 40 });
    expect(loadConfig({}).flapping).toEqual({ lowPercent: 25, highPercent: 30 });
    expect(() => loadConfig({ VIGIL_FLAP_THRESHOLD_LOW: '50', VIGIL_FLAP_THRESHOLD_HIGH: '40' })).toThrow(/VIGIL_FLAP_THRESHOLD_LOW/);
  });
});
