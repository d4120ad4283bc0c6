import { Duration } from 'luxon';
import type { Config, HostState } from '../config/config.ts';
import { unitHash } from '../lib/time.ts';

const DESCRIPTIONS: Record<HostState, string> = {
  HEALTHY: 'Stable',
  DEGRADED: 'Showing issues',
  CRITICAL: 'Repeated failures',
  DOWN: 'Confirmed down',
};

/** What the state endpoint shows as check_interval_info, e.g. "Stable - 30 min checks". */
export function describeInterval(state: HostState, config: Config): { minutes: number; description: string } {
  const seconds = config.states[state].intervalSeconds;
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
