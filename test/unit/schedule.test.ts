import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { describeInterval } from '../../src/machine/schedule.ts';

describe('check_interval_info', () => {
  it.each([
    ['HEALTHY', {}, { minutes: 30, description: 'Stable - 30 min checks' }],
    ['DEGRADED', {}, { minutes: 5, description: 'Showing issues - 5 min checks' }],
    ['CRITICAL', {}, { minutes: 2, description: 'Repeated failures - 2 min checks' }],
    ['DOWN', {}, { minutes: 30, description: 'Confirmed down - 30 min checks' }],
    ['CRITICAL', { VIGIL_CRITICAL_INTERVAL_SECONDS: '90' }, { minutes: 1.5, description: 'Repeated failures - 1 min, 30 sec checks' }],
    ['HEALTHY', { VIGIL_HEALTHY_INTERVAL_SECONDS: '0.3' }, { minutes: 0.005, description: 'Stable - 300 ms checks' }],
  ] as const)('%s with %j', (state, env, expected) => {
    expect(describeInterval(state, loadConfig(env))).toEqual(expected);
  });
});
