import { HOST_STATES } from '../machine/states.ts';
import type { FieldError } from '../lib/errors.ts';
import type { FieldPath } from './fields.ts';

/** Bounds a policy is checked against: a floor under intervals, a ceiling over the timeout. */
export interface PolicyLimits {
  /** No state may be checked more often than this (VIGIL_POLICY_MIN_INTERVAL_SECONDS). */
  minIntervalSeconds: number;
  /** The fleet's check timeout: the queue's job expiry and the lease are sized for it. */
  maxCheckTimeoutMs: number;
}

/**
 * Checks an effective set of values (a policy merged over what it falls back to) and names each
 * bad field that `present` says the caller set: an interval below the floor, a timeout not shorter
 * than the shortest interval, thresholds out of order. Pure. Fields are reported as `prefix + path`.
 */
export function validatePolicyValues(
  values: Record<FieldPath, number | null>,
  limits: PolicyLimits,
  prefix: string,
  present: (path: FieldPath) => boolean = () => true,
): FieldError[] {
  const errors: FieldError[] = [];
  // A problem is the caller's only when it set one of the fields involved: the fleet defaults
  // alone are the operator's configuration, checked at start-up.
  const blame = (paths: FieldPath[], message: string) => {
    const named = paths.find(present);
    if (named) errors.push({ field: `${prefix}${named}`, message });
  };
  let shortest = { path: `states.${HOST_STATES[0]}.interval_seconds` as FieldPath, seconds: Infinity };
  for (const state of HOST_STATES) {
    const path = `states.${state}.interval_seconds` as const;
    const seconds = values[path]!;
    if (seconds < limits.minIntervalSeconds) blame([path], `must be at least ${limits.minIntervalSeconds} s (VIGIL_POLICY_MIN_INTERVAL_SECONDS)`);
    if (seconds < shortest.seconds) shortest = { path, seconds };
  }
  const timeoutMs = values.check_timeout_ms!;
  if (timeoutMs > limits.maxCheckTimeoutMs) {
    blame(['check_timeout_ms'], `must be at most ${limits.maxCheckTimeoutMs} ms (VIGIL_CHECK_TIMEOUT_MS; the queue and leases are sized for it)`);
  }
  if (timeoutMs >= shortest.seconds * 1000) {
    blame(['check_timeout_ms', shortest.path], `the check timeout (${timeoutMs} ms) must be shorter than the shortest interval (${shortest.path} = ${shortest.seconds} s)`);
  }
  const order: FieldPath[] = ['degraded_after_failures', 'critical_after_failures', 'down_after_failures'];
  for (let i = 0; i + 1 < order.length; i++) {
    const [low, high] = [order[i]!, order[i + 1]!];
    if (values[low]! > values[high]!) {
      blame([high, low], `thresholds must be in order: ${low} (${values[low]}) <= ${high} (${values[high]})`);
    }
  }
  return errors;
}
