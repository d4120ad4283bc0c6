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
  const minutes = Math.round((config.states[state].intervalSeconds / 60) * 1000) / 1000;
  const unit = minutes >= 1 ? `${minutes} min` : `${Math.round(minutes * 60 * 1000) / 1000} s`;
  return { minutes, description: `${DESCRIPTIONS[state]} - ${unit} checks` };
}

/**
 * When a new host is first due: soon, but spread by a deterministic per-host offset so a bulk
 * import does not make thousands of hosts due in the same second (Zabbix spreads items the same way).
 */
export function firstCheckDelayMs(hostId: string, config: Config): number {
  return Math.floor(unitHash(hostId) * config.producer.firstCheckSpreadSeconds * 1000);
}
