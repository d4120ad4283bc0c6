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

  it('never moves toward a healthier state on a failure, from any state on the failure walk and counter', () => {
    const severity = (s: HostState) => HOST_STATES.indexOf(s);
    // UNREACHABLE is off the walk: a host leaving it on its own failure starts over (below).
    for (const state of HOST_STATES.filter((s) => s !== 'UNREACHABLE')) {
      for (let f = 0; f < 5; f++) {
        const r = applyCheckResult(machine, stored(state, f, 0), false);
        expect(severity(r.state)).toBeGreaterThanOrEqual(severity(state));
      }
    }
  });
});

describe('health machine: UNREACHABLE (a failure while a parent is failing)', () => {
  it.each([
    // state, failures, successes, result, parent failing, next state, failures after, successes after
    ['HEALTHY', 0, 5, false, true, 'UNREACHABLE', 0, 0],
    ['DEGRADED', 1, 0, false, true, 'UNREACHABLE', 0, 0],
    ['CRITICAL', 2, 0, false, true, 'UNREACHABLE', 0, 0],
    ['DOWN', 4, 0, false, true, 'UNREACHABLE', 0, 0],
    ['UNREACHABLE', 0, 0, false, true, 'UNREACHABLE', 0, 0],
    // A success proves the host answers: HEALTHY at once, whatever the parent does.
    ['UNREACHABLE', 0, 0, true, false, 'HEALTHY', 0, 1],
    ['UNREACHABLE', 0, 0, true, true, 'HEALTHY', 0, 1],
    // The parent is back but the host still fails: its own walk starts from the first failure.
    ['UNREACHABLE', 0, 0, false, false, 'DEGRADED', 1, 0],
    // A success while the parent fails is an ordinary success.
    ['DEGRADED', 1, 0, true, true, 'DEGRADED', 0, 1],
  ] as const)('%s (f=%i, s=%i) + success=%s, parent failing=%s -> %s (f=%i, s=%i)', (state, f, s, success, parentFailing, next, fAfter, sAfter) => {
    const r = applyCheckResult(machine, stored(state, f, s), success, parentFailing);
    expect(r.state).toBe(next);
    expect(r.changed).toBe(next !== state);
    expect([r.consecutiveFailures, r.consecutiveSuccesses]).toEqual([fAfter, sAfter]);
    expect(restoreHealth(machine, JSON.parse(JSON.stringify(r.persisted))).value).toBe(next);
  });

  it('leaves UNREACHABLE on its own failure for HEALTHY when one failure is below the DEGRADED threshold', () => {
    const m = createHealthMachine({ ...DEFAULTS, degradedAfterFailures: 2, criticalAfterFailures: 3, downAfterFailures: 4 });
    const unreachable = applyCheckResult(m, initialHealth(m), false, true).persisted;
    const r = applyCheckResult(m, unreachable, false, false);
    expect([r.state, r.consecutiveFailures]).toEqual(['HEALTHY', 1]);
    expect(applyCheckResult(m, r.persisted, false, false).state).toBe('DEGRADED');
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
