import { Duration } from 'luxon';
import type { Config } from '../config/config.ts';
import type { CheckPolicy, HostState } from './states.ts';
import { unitHash } from '../lib/time.ts';

const DESCRIPTIONS: Record<HostState, string> = {
  HEALTHY: 'Stable',
  DEGRADED: 'Showing issues',
  CRITICAL: 'Repeated failures',
  DOWN: 'Confirmed down',
  UNREACHABLE: 'Behind a failing parent',
};

/** What the state endpoint shows as check_interval_info, e.g. "Stable - 30 min checks", from the host's effective policy. */
export function describeInterval(state: HostState, policy: Pick<CheckPolicy, 'states'>): { minutes: number; description: string } {
  const seconds = policy.states[state].intervalSeconds;
  const minutes = Math.round((seconds / 60) * 1000) / 1000;
  const human = Duration.fromObject({ seconds }).rescale().toHuman({ unitDisplay: 'short', listStyle: 'narrow' });
  return { minutes, description: `${DESCRIPTIONS[state]} - ${human} checks` };
}

/**
 * When a new host is first due: soon, but spread by a deterministic per-host offset so a bulk
 * import does not make thousands of hosts due in the same second (Zabbix spreads items the same way).
 */
export function firstCheckDelayMs(hostId: string, config: Config): number {
  return Math.floor(unitHash(hostId) * config.producer.firstCheckSpreadSeconds * 1000);
}

/**
 * Milliseconds from the end of a check to the next one for a host in `state`: the state's
 * interval in the host's effective policy (the fleet's by default), varied by a fixed per-host offset of up to ± intervalJitter (at most 60 s), so hosts
 * sharing an interval — e.g. all recovering after one outage — do not stay due in the same second.
 */
export function nextCheckDelayMs(hostId: string, state: HostState, config: Config, policy: Pick<CheckPolicy, 'states'> = config): number {
  const intervalMs = policy.states[state].intervalSeconds * 1000;
  const spreadMs = Math.min(intervalMs * config.producer.intervalJitter, 60_000);
  return Math.max(0, Math.round(intervalMs + (unitHash(hostId) * 2 - 1) * spreadMs));
}
