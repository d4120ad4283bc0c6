import { unflattenSettings, type FlatSettings } from '../policies/fields.ts';
import type { ResolvedPolicy } from '../policies/resolve.ts';

/** A host's effective policy as the state endpoint shows it: every value, and where each came from. */
export function serializeEffectivePolicy(policyId: string | null, resolved: ResolvedPolicy) {
  const { probe_retries: probeRetries, ...rest } = resolved.values;
  return {
    policy_id: policyId,
    values: { ...unflattenSettings(rest as FlatSettings), probe_retries: probeRetries },
    sources: resolved.sources,
  };
}
