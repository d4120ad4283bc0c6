import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { HOST_STATES, type HostState, type MachineConfig } from '../../src/machine/states.ts';
import { applyCheckResult, initialHealth, restoreHealth, type PersistedHealth } from '../../src/machine/apply-result.ts';
import { createHealthMachine } from '../../src/machine/health-machine.ts';

const DEFAULTS: MachineConfig = { degradedAfterFailures: 1, criticalAfterFailures: 2, downAfterFailures: 3, healthyAfterSuccesses: 3 };
const machine = createHealthMachine(DEFAULTS);

/** A stored snapshot in `state` with the given counters, round-tripped through JSON like the DB does. */
function stored(state: HostState, failures: number, successes: number): PersistedHealth {
  const start = initialHealth(machine);
  return JSON.parse(JSON.stringify({ ...start, value: state, context: { consecutiveFailures: failures, consecutiveSuccesses: successes } }));
}

describe('health machine: every state × result', () => {
  it.each([
    // state, failures, successes, result, next state, failures after, successes after
    ['HEALTHY', 0, 5, false, 'DEGRADED', 1, 0],
    ['HEALTHY', 0, 5, true, 'HEALTHY', 0, 6],
    ['DEGRADED', 1, 0, false, 'CRITICAL', 2, 0],
    ['DEGRADED', 1, 0, true, 'DEGRADED', 0, 1],
    ['DEGRADED', 0, 2, true, 'HEALTHY', 0, 3],
    ['DEGRADED', 0, 1, false, 'DEGRADED', 1, 0],
    ['CRITICAL', 2, 0, false, 'DOWN', 3, 0],
    ['CRITICAL', 2, 0, true, 'CRITICAL', 0, 1],
    ['CRITICAL', 0, 2, true, 'HEALTHY', 0, 3],
    // A failure after a partial recovery counts from 1 again, but never makes the host healthier.
    ['CRITICAL', 0, 2, false, 'CRITICAL', 1, 0],
    ['DOWN', 3, 0, false, 'DOWN', 4, 0],
    ['DOWN', 3, 0, true, 'DOWN', 0, 1],
    ['DOWN', 0, 1, true, 'DOWN', 0, 2],
    ['DOWN', 0, 2, true, 'HEALTHY', 0, 3],
    ['DOWN', 0, 2, false, 'DOWN', 1, 0],
  ] as const)('%s (f=%i, s=%i) + %s -> %s (f=%i, s=%i)', (state, f, s, success, next, fAfter, sAfter) => {
    const r = applyCheckResult(machine, stored(state, f, s), success);
    expect(r.state).toBe(next);
    expect(r.previousState).toBe(state);
    expect(r.changed).toBe(next !== state);
    expect([r.consecutiveFailures, r.consecutiveSuccesses]).toEqual([fAfter, sAfter]);
    expect(r.persisted.value).toBe(next);
    expect(r.persisted.context).toEqual({ consecutiveFailures: fAfter, consecutiveSuccesses: sAfter });
  });

  it('walks HEALTHY -> DEGRADED -> CRITICAL -> DOWN on consecutive failures and back only after 3 successes', () => {
    let p = initialHealth(machine);
    const seen: HostState[] = [];
    for (const success of [false, false, false, false, true, true, true]) {
      p = applyCheckResult(machine, p, success).persisted;
      seen.push(p.value);
    }
    expect(seen).toEqual(['DEGRADED', 'CRITICAL', 'DOWN', 'DOWN', 'DOWN', 'DOWN', 'HEALTHY']);
  });

  it('never moves toward a healthier state on a failure, from any state and counter', () => {
    const severity = (s: HostState) => HOST_STATES.indexOf(s);
    for (const state of HOST_STATES) {
      for (let f = 0; f < 5; f++) {
        const r = applyCheckResult(machine, stored(state, f, 0), false);
        expect(severity(r.state)).toBeGreaterThanOrEqual(severity(state));
      }
    }
  });
});

describe('health machine: thresholds come from config', () => {
  it.each([
    [{ degradedAfterFailures: 2, criticalAfterFailures: 4, downAfterFailures: 6, healthyAfterSuccesses: 1 }, [false, false, false, false, false, false], ['HEALTHY', 'DEGRADED', 'DEGRADED', 'CRITICAL', 'CRITICAL', 'DOWN']],
    [{ degradedAfterFailures: 1, criticalAfterFailures: 1, downAfterFailures: 1, healthyAfterSuccesses: 1 }, [false, true], ['DOWN', 'HEALTHY']],
    [{ degradedAfterFailures: 1, criticalAfterFailures: 2, downAfterFailures: 3, healthyAfterSuccesses: 5 }, [false, true, true, true, true, true], ['DEGRADED', 'DEGRADED', 'DEGRADED', 'DEGRADED', 'DEGRADED', 'HEALTHY']],
  ] as const)('%j', (thresholds, results, expected) => {
    const m = createHealthMachine(thresholds);
    let p = initialHealth(m);
    const seen = results.map((success) => (p = applyCheckResult(m, p, success).persisted).value);
    expect(seen).toEqual(expected);
  });

  it('reads thresholds from the environment', () => {
    const config = loadConfig({ VIGIL_DOWN_AFTER_FAILURES: '5', VIGIL_HEALTHY_AFTER_SUCCESSES: '2' });
    expect(config.machine).toEqual({ degradedAfterFailures: 1, criticalAfterFailures: 2, downAfterFailures: 5, healthyAfterSuccesses: 2 });
  });
});

describe('persisted snapshots', () => {
  it('round-trips through JSON and restores to the same state and context', () => {
    let p = initialHealth(machine);
    for (const success of [false, false, true]) {
      p = JSON.parse(JSON.stringify(applyCheckResult(machine, p, success).persisted));
      const restored = restoreHealth(machine, p);
      expect(restored.value).toBe(p.value);
      expect(restored.context).toEqual(p.context);
    }
    expect(p).toMatchObject({ value: 'CRITICAL', status: 'active', context: { consecutiveFailures: 0, consecutiveSuccesses: 1 } });
  });

  it('refuses a snapshot whose state is not a host state', () => {
    expect(() => restoreHealth(machine, { ...initialHealth(machine), value: 'ASLEEP' as HostState })).toThrow(/not a host state/);
  });

  it('starts new hosts HEALTHY with zeroed counters', () => {
    expect(initialHealth(machine)).toMatchObject({ value: 'HEALTHY', context: { consecutiveFailures: 0, consecutiveSuccesses: 0 } });
  });
});
