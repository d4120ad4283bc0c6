import { HOST_STATES, type HostState } from '../machine/states.ts';

/**
 * The fields of a check policy, defined once and derived from HOST_STATES, so a new state gets its
 * interval and priority fields everywhere (schemas, resolution, validation, sources) with no edit.
 *
 * Words used here:
 * - policy: a named, reusable set of settings (`critical-core`), assigned to hosts and groups;
 * - overrides: single fields set on one host, above its policy;
 * - effective policy: what a host is checked with, each field from the first level that sets it:
 *   host overrides -> host's policy -> group's policy -> fleet defaults (the env configuration).
 */

/** A state's settings in a policy: how often and how urgently hosts in it are checked. */
export interface StateSettings {
  /** Seconds from the end of a check to the next scheduled one. */
  interval_seconds?: number;
  /** pg-boss priority of scheduled checks (higher runs first). */
  priority?: number;
}

/** A policy's settings as stored and as the API shows them: every field optional. */
export interface PolicySettings {
  states?: Partial<Record<HostState, StateSettings>>;
  /** Hard limit for one check (all probes), in milliseconds. */
  check_timeout_ms?: number;
  degraded_after_failures?: number;
  critical_after_failures?: number;
  down_after_failures?: number;
  healthy_after_successes?: number;
  /** Resends of probes that retry (SNMP) when unanswered; unset keeps each probe's own. */
  probe_retries?: number;
}

/** The non-state fields, in the order they are shown. */
export const SCALAR_FIELDS = [
  'check_timeout_ms',
  'degraded_after_failures',
  'critical_after_failures',
  'down_after_failures',
  'healthy_after_successes',
  'probe_retries',
] as const;
export type ScalarField = (typeof SCALAR_FIELDS)[number];

export const STATE_FIELDS = ['interval_seconds', 'priority'] as const;
export type StateField = (typeof STATE_FIELDS)[number];

/** A field's dotted path, e.g. `states.HEALTHY.interval_seconds` or `check_timeout_ms`. */
export type FieldPath = ScalarField | `states.${HostState}.${StateField}`;

/** Every field path, states first (in HOST_STATES order). */
export const FIELD_PATHS: readonly FieldPath[] = [
  ...HOST_STATES.flatMap((s) => STATE_FIELDS.map((f) => `states.${s}.${f}` as const)),
  ...SCALAR_FIELDS,
];

/** Settings as a map of field path -> value, without the fields left out. */
export type FlatSettings = Partial<Record<FieldPath, number>>;

export function flattenSettings(settings: PolicySettings | null | undefined): FlatSettings {
  const flat: FlatSettings = {};
  if (!settings) return flat;
  for (const state of HOST_STATES) {
    for (const field of STATE_FIELDS) {
      const value = settings.states?.[state]?.[field];
      if (typeof value === 'number') flat[`states.${state}.${field}`] = value;
    }
  }
  for (const field of SCALAR_FIELDS) {
    const value = settings[field];
    if (typeof value === 'number') flat[field] = value;
  }
  return flat;
}

export function unflattenSettings(flat: FlatSettings): PolicySettings {
  const settings: PolicySettings = {};
  for (const [path, value] of Object.entries(flat) as [FieldPath, number | undefined][]) {
    if (value === undefined) continue;
    const parts = path.split('.');
    if (parts.length === 3) {
      const [, state, field] = parts as [string, HostState, StateField];
      settings.states ??= {};
      (settings.states[state] ??= {})[field] = value;
    } else {
      settings[path as ScalarField] = value;
    }
  }
  return settings;
}

/**
 * Applies a JSON merge patch (RFC 7396) of settings: a value sets a field, null removes it (so it
 * falls back to the next level), a field left out is kept.
 */
export function mergeSettings(current: PolicySettings, patch: PolicyPatch): PolicySettings {
  const flat = flattenSettings(current);
  const patchFlat = flattenPatch(patch);
  for (const [path, value] of Object.entries(patchFlat) as [FieldPath, number | null][]) {
    if (value === null) delete flat[path];
    else flat[path] = value;
  }
  return unflattenSettings(flat);
}

/** A settings patch: like PolicySettings, with null meaning "remove this field". */
export interface PolicyPatch {
  states?: Partial<Record<HostState, { interval_seconds?: number | null; priority?: number | null } | null>> | null;
  check_timeout_ms?: number | null;
  degraded_after_failures?: number | null;
  critical_after_failures?: number | null;
  down_after_failures?: number | null;
  healthy_after_successes?: number | null;
  probe_retries?: number | null;
}

function flattenPatch(patch: PolicyPatch): Partial<Record<FieldPath, number | null>> {
  const flat: Partial<Record<FieldPath, number | null>> = {};
  for (const state of HOST_STATES) {
    const s = patch.states === null ? null : patch.states?.[state];
    for (const field of STATE_FIELDS) {
      // `states: null` or `states.X: null` removes every field below it.
      const value = s === null || patch.states === null ? null : s?.[field];
      if (value !== undefined) flat[`states.${state}.${field}`] = value;
    }
  }
  for (const field of SCALAR_FIELDS) if (patch[field] !== undefined) flat[field] = patch[field];
  return flat;
}
