import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { HOST_STATES } from '../../src/machine/states.ts';
import { FIELD_PATHS, mergeSettings } from '../../src/policies/fields.ts';
import { machineFor } from '../../src/policies/machines.ts';
import { withProbeRetries } from '../../src/policies/probe-retries.ts';
import { effectivePolicyOf, fleetDefaults, resolvePolicy, type HostPolicyFacts, type PolicyLayer } from '../../src/policies/resolve.ts';
import { validatePolicyValues } from '../../src/policies/validate.ts';
import { applyCheckResult, initialHealth } from '../../src/machine/apply-result.ts';

const config = loadConfig({});
const defaults = fleetDefaults(config);
const limits = { minIntervalSeconds: 10, maxCheckTimeoutMs: 10_000 };
const host = (settings: PolicyLayer['settings']): PolicyLayer => ({ source: { level: 'host' }, settings });
const policy = (name: string, settings: PolicyLayer['settings']): PolicyLayer => ({ source: { level: 'host_policy', policy: name }, settings });
const group = (name: string, settings: PolicyLayer['settings']): PolicyLayer => ({ source: { level: 'group_policy', policy: name, group: 'g' }, settings });

describe('policy fields', () => {
  it('are derived from the host states: an interval and a priority per state, then the scalars', () => {
    expect(FIELD_PATHS).toHaveLength(HOST_STATES.length * 2 + 6);
    for (const s of HOST_STATES) expect(FIELD_PATHS).toContain(`states.${s}.interval_seconds`);
  });

  it.each([
    ['sets a field', { check_timeout_ms: 1000 }, { check_timeout_ms: 2000 }, { check_timeout_ms: 2000 }],
    ['removes a field with null', { check_timeout_ms: 1000, probe_retries: 1 }, { check_timeout_ms: null }, { probe_retries: 1 }],
    ['keeps fields left out', { states: { HEALTHY: { interval_seconds: 60 } } }, { states: { DOWN: { priority: 2 } } }, { states: { HEALTHY: { interval_seconds: 60 }, DOWN: { priority: 2 } } }],
    ['removes a whole state with null', { states: { HEALTHY: { interval_seconds: 60, priority: 1 } } }, { states: { HEALTHY: null } }, {}],
  ])('merge patch %s', (_what, current, patch, expected) => {
    expect(mergeSettings(current, patch as never)).toEqual(expected);
  });
});

describe('resolving a host\'s effective policy', () => {
  it.each([
    ['the fleet defaults when nothing is set', [], 'states.HEALTHY.interval_seconds', 1800, 'defaults'],
    ['the group policy over the defaults', [group('site', { states: { HEALTHY: { interval_seconds: 120 } } })], 'states.HEALTHY.interval_seconds', 120, 'group_policy'],
    ['the host policy over the group policy', [policy('core', { states: { HEALTHY: { interval_seconds: 60 } } }), group('site', { states: { HEALTHY: { interval_seconds: 120 } } })], 'states.HEALTHY.interval_seconds', 60, 'host_policy'],
    ['the host override over everything', [host({ states: { HEALTHY: { interval_seconds: 30 } } }), policy('core', { states: { HEALTHY: { interval_seconds: 60 } } })], 'states.HEALTHY.interval_seconds', 30, 'host'],
    ['a field one level leaves out from the next', [host({ check_timeout_ms: 3000 }), policy('core', { states: { HEALTHY: { interval_seconds: 60 } } })], 'states.HEALTHY.interval_seconds', 60, 'host_policy'],
    ['probe retries left to the probes by default', [], 'probe_retries', null, 'defaults'],
  ] as const)('takes %s', (_what, layers, path, value, level) => {
    const resolved = resolvePolicy(defaults, [...layers]);
    expect(resolved.values[path]).toBe(value);
    expect(resolved.sources[path].level).toBe(level);
  });

  it('builds the machine config, intervals and timeout the machine and worker read', () => {
    const { policy: p } = resolvePolicy(defaults, [policy('p', { degraded_after_failures: 2, check_timeout_ms: 4000, states: { DOWN: { priority: 8 } } })]);
    expect(p.machine).toEqual({ ...config.machine, degradedAfterFailures: 2 });
    expect(p.states.DOWN).toEqual({ intervalSeconds: config.states.DOWN.intervalSeconds, priority: 8 });
    expect(p.checkTimeoutMs).toBe(4000);
  });
});

describe('a host row\'s effective policy', () => {
  const facts = (extra: Partial<HostPolicyFacts> = {}): HostPolicyFacts => ({
    group: 'g', policy_overrides: {}, host_policy_name: null, host_policy_settings: null, group_policy_name: null, group_policy_settings: null, ...extra,
  });

  it('is the fleet defaults, resolved once per configuration, for a host without overrides or policies', () => {
    const first = effectivePolicyOf(config, facts());
    expect(first).toEqual(resolvePolicy(defaults, []));
    expect(effectivePolicyOf(config, facts({ group: null }))).toBe(first);
    // Shared between hosts, so nobody may change it.
    expect(Object.isFrozen(first.policy.states.HEALTHY)).toBe(true);
    const other = loadConfig({ VIGIL_HEALTHY_INTERVAL_SECONDS: '90' });
    expect(effectivePolicyOf(other, facts()).values['states.HEALTHY.interval_seconds']).toBe(90);
  });

  it('resolves overrides and policies whenever a host has any', () => {
    expect(effectivePolicyOf(config, facts({ policy_overrides: { check_timeout_ms: 3000 } })).policy.checkTimeoutMs).toBe(3000);
    expect(effectivePolicyOf(config, facts({ host_policy_name: 'p', host_policy_settings: { down_after_failures: 9 } })).policy.machine.downAfterFailures).toBe(9);
    const grouped = effectivePolicyOf(config, facts({ group_policy_name: 'site', group_policy_settings: { states: { HEALTHY: { interval_seconds: 120 } } } }));
    expect(grouped.sources['states.HEALTHY.interval_seconds']).toEqual({ level: 'group_policy', policy: 'site', group: 'g' });
  });
});

describe('validating effective values', () => {
  const check = (layers: PolicyLayer[]) => {
    const { values, sources } = resolvePolicy(defaults, layers);
    return validatePolicyValues(values, limits, 'body.', (p) => sources[p].level !== 'defaults').map((e) => e.field);
  };
  it.each([
    // Under the floor, and the fleet's 10 s timeout is not shorter: two messages on the one field.
    ['an interval under the floor', { states: { CRITICAL: { interval_seconds: 5 } } }, ['body.states.CRITICAL.interval_seconds', 'body.states.CRITICAL.interval_seconds']],
    ['a timeout above the fleet timeout', { check_timeout_ms: 20_000 }, ['body.check_timeout_ms']],
    ['a timeout not shorter than the shortest interval (blamed on the field set)', { check_timeout_ms: 9000, states: { DEGRADED: { interval_seconds: 10 } } }, []],
    ['an interval the fleet timeout is not shorter than', { states: { DEGRADED: { interval_seconds: 10 } } }, ['body.states.DEGRADED.interval_seconds']],
    ['thresholds out of order', { degraded_after_failures: 3 }, ['body.degraded_after_failures']],
    ['down before critical', { down_after_failures: 1, degraded_after_failures: 1 }, ['body.down_after_failures']],
    ['a valid policy', { states: { HEALTHY: { interval_seconds: 60 } }, check_timeout_ms: 5000, down_after_failures: 5 }, []],
  ])('names %s', (_what, settings, fields) => {
    expect(check([host(settings)])).toEqual(fields);
  });
  it('leaves the fleet defaults alone (the operator\'s configuration, checked at start-up)', () => {
    const fast = fleetDefaults(loadConfig({ VIGIL_HEALTHY_INTERVAL_SECONDS: '0.3', VIGIL_DEGRADED_INTERVAL_SECONDS: '0.3' }));
    const { values, sources } = resolvePolicy(fast, [host({ probe_retries: 1 })]);
    expect(validatePolicyValues(values, limits, '', (p) => sources[p].level !== 'defaults')).toEqual([]);
  });
});

describe('machines per threshold set', () => {
  it('moves a host by the policy\'s thresholds and shares one machine per set', () => {
    const m = { ...config.machine, degradedAfterFailures: 2, criticalAfterFailures: 3, downAfterFailures: 4 };
    expect(machineFor(m)).toBe(machineFor({ ...m }));
    let health = initialHealth(machineFor(m));
    const states: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = applyCheckResult(machineFor(m), health, false);
      health = r.persisted;
      states.push(r.state);
    }
    expect(states).toEqual(['HEALTHY', 'DEGRADED', 'CRITICAL', 'DOWN']);
  });
  it('applies probe retries to the probes that retry only', () => {
    const probes = [{ type: 'tcp', port: 1 }, { type: 'snmp', retries: 0 }];
    expect(withProbeRetries(probes, 2)).toEqual([{ type: 'tcp', port: 1 }, { type: 'snmp', retries: 2 }]);
    expect(withProbeRetries(probes, null)).toBe(probes);
  });
});
