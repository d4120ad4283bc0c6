import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { restoreHealth } from '../../src/machine/apply-result.ts';
import { createHealthMachine } from '../../src/machine/health-machine.ts';
import { healthIn } from '../helpers/hosts.ts';

describe('healthIn (the snapshot seedHosts stores)', () => {
  it.each([
    ['HEALTHY', {}, 0],
    ['DEGRADED', {}, 1],
    ['CRITICAL', {}, 2],
    ['DOWN', {}, 3],
    ['CRITICAL', { VIGIL_CRITICAL_AFTER_FAILURES: '4', VIGIL_DOWN_AFTER_FAILURES: '6' }, 4],
    ['DOWN', { VIGIL_CRITICAL_AFTER_FAILURES: '4', VIGIL_DOWN_AFTER_FAILURES: '6' }, 6],
  ] as const)('builds a %s host (%j) the machine restores, after %i failed checks', (state, env, failures) => {
    const machineConfig = loadConfig(env).machine;
    const health = healthIn(state, machineConfig);
    expect(health).toMatchObject({ value: state, context: { consecutiveFailures: failures, consecutiveSuccesses: 0 } });
    expect(restoreHealth(createHealthMachine(machineConfig), health).value).toBe(state);
  });
});
