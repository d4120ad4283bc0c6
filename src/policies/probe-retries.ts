/** Probe types that resend unanswered requests, and so take a policy's probe_retries. */
const RETRYING_PROBES = new Set(['snmp']);

/**
 * A host's probes with the policy's probe_retries applied to the probes that retry (SNMP); other
 * probes, and every probe when the policy leaves retries to them (null), are unchanged. Pure.
 */
export function withProbeRetries(probes: unknown[], retries: number | null): unknown[] {
  if (retries === null) return probes;
  return probes.map((p) => {
    const probe = p as { type?: unknown };
    return typeof probe.type === 'string' && RETRYING_PROBES.has(probe.type) ? { ...probe, retries } : p;
  });
}
