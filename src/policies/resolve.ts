import type { Config } from '../config/config.ts';
import { HOST_STATES, type CheckPolicy, type HostState, type StatePolicy } from '../machine/states.ts';
import { FIELD_PATHS, flattenSettings, type FieldPath, type FlatSettings, type PolicySettings } from './fields.ts';

/** Where an effective field's value came from. */
export type PolicySource =
  | { level: 'host' }
  | { level: 'host_policy'; policy: string }
  | { level: 'group_policy'; policy: string; group: string }
  | { level: 'defaults' };

/** One level of a host's policy chain, most specific first. */
export interface PolicyLayer {
  source: PolicySource;
  settings: PolicySettings | null | undefined;
}

/** The policy a host is checked with: the machine's thresholds, the schedule, the timeout and retries. */
export interface EffectivePolicy extends CheckPolicy {
  checkTimeoutMs: number;
  /** Resends of probes that retry (SNMP); null keeps each probe's own setting. */
  probeRetries: number | null;
}

export interface ResolvedPolicy {
  policy: EffectivePolicy;
  /** Every field's effective value (null: probe_retries left to the probes). */
  values: Record<FieldPath, number | null>;
  sources: Record<FieldPath, PolicySource>;
}

/** The fleet defaults, from the env configuration, as a flat map of every field. */
export function fleetDefaults(config: Pick<Config, 'states' | 'machine' | 'worker'>): Record<FieldPath, number | null> {
  const values = {} as Record<FieldPath, number | null>;
  for (const state of HOST_STATES) {
    values[`states.${state}.interval_seconds`] = config.states[state].intervalSeconds;
    values[`states.${state}.priority`] = config.states[state].priority;
  }
  values.check_timeout_ms = config.worker.checkTimeoutMs;
  values.degraded_after_failures = config.machine.degradedAfterFailures;
  values.critical_after_failures = config.machine.criticalAfterFailures;
  values.down_after_failures = config.machine.downAfterFailures;
  values.healthy_after_successes = config.machine.healthyAfterSuccesses;
  values.probe_retries = null;
  return values;
}

/**
 * Resolves a host's effective policy: each field from the first layer that sets it, else the fleet
 * default. Pure.
 */
export function resolvePolicy(defaults: Record<FieldPath, number | null>, layers: PolicyLayer[]): ResolvedPolicy {
  const flats: { source: PolicySource; flat: FlatSettings }[] = layers.map((l) => ({ source: l.source, flat: flattenSettings(l.settings) }));
  const values = {} as Record<FieldPath, number | null>;
  const sources = {} as Record<FieldPath, PolicySource>;
  for (const path of FIELD_PATHS) {
    const layer = flats.find((l) => l.flat[path] !== undefined);
    values[path] = layer ? layer.flat[path]! : defaults[path];
    sources[path] = layer ? layer.source : { level: 'defaults' };
  }
  return { policy: toEffectivePolicy(values), values, sources };
}

export function toEffectivePolicy(values: Record<FieldPath, number | null>): EffectivePolicy {
  const states = Object.fromEntries(
    HOST_STATES.map((s) => [s, { intervalSeconds: values[`states.${s}.interval_seconds`]!, priority: values[`states.${s}.priority`]! }]),
  ) as Record<HostState, StatePolicy>;
  return {
    states,
    machine: {
      degradedAfterFailures: values.degraded_after_failures!,
      criticalAfterFailures: values.critical_after_failures!,
      downAfterFailures: values.down_after_failures!,
      healthyAfterSuccesses: values.healthy_after_successes!,
    },
    checkTimeoutMs: values.check_timeout_ms!,
    probeRetries: values.probe_retries,
  };
}

/** The policy facts of a host row, as the queries that load hosts for checking return them. */
export interface HostPolicyFacts {
  group: string | null;
  policy_overrides: PolicySettings;
  host_policy_name: string | null;
  host_policy_settings: PolicySettings | null;
  group_policy_name: string | null;
  group_policy_settings: PolicySettings | null;
}

/** A host's layers, most specific first: its overrides, its policy, its group's policy. */
export function layersOf(host: HostPolicyFacts): PolicyLayer[] {
  const layers: PolicyLayer[] = [{ source: { level: 'host' }, settings: host.policy_overrides }];
  if (host.host_policy_name !== null) layers.push({ source: { level: 'host_policy', policy: host.host_policy_name }, settings: host.host_policy_settings });
  if (host.group_policy_name !== null && host.group !== null) {
    layers.push({ source: { level: 'group_policy', policy: host.group_policy_name, group: host.group }, settings: host.group_policy_settings });
  }
  return layers;
}

/** The fleet defaults resolved, once per configuration: what most hosts are checked with. */
const resolvedDefaults = new WeakMap<object, ResolvedPolicy>();

/**
 * A host's effective policy from its row's policy facts and the fleet configuration.
 *
 * A host without overrides or policies (most of a fleet) gets the fleet defaults, resolved once
 * per configuration and frozen: the recorder and the worker ask for every check, and resolving
 * each time was about 3 % of a worker's CPU under load (bench `--cpu-prof`).
 */
export function effectivePolicyOf(config: Pick<Config, 'states' | 'machine' | 'worker'>, host: HostPolicyFacts): ResolvedPolicy {
  const layers = layersOf(host);
  if (layers.length > 1 || hasSettings(host.policy_overrides)) return resolvePolicy(fleetDefaults(config), layers);
  let resolved = resolvedDefaults.get(config);
  if (!resolved) {
    resolved = deepFreeze(resolvePolicy(fleetDefaults(config), []));
    resolvedDefaults.set(config, resolved);
  }
  return resolved;
}

function hasSettings(settings: PolicySettings | null | undefined): boolean {
  return settings != null && Object.keys(settings).length > 0;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
