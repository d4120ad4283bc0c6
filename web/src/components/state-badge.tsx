import type { HostState } from '../api.ts';

/** Icon, word and colour: the state reads without colour (shape and word) and without the icon. */
const LOOK: Record<HostState, { icon: string; label: string }> = {
  HEALTHY: { icon: '✓', label: 'Healthy' },
  DEGRADED: { icon: '!', label: 'Degraded' },
  CRITICAL: { icon: '▲', label: 'Critical' },
  DOWN: { icon: '✕', label: 'Down' },
  UNREACHABLE: { icon: '⊘', label: 'Unreachable' },
};

export const STATES = ['HEALTHY', 'DEGRADED', 'CRITICAL', 'DOWN', 'UNREACHABLE'] as const satisfies readonly HostState[];

export function stateLabel(state: HostState): string {
  return LOOK[state].label;
}

export function StateBadge({ state }: { state: HostState }) {
  const look = LOOK[state];
  return (
    <span class={`badge state-${state}`} data-state={state}>
      <span class="badge-icon" aria-hidden="true">{look.icon}</span>
      {look.label}
    </span>
  );
}

/** Shown beside the state of a host whose state changes too often; the word carries it, not a colour. */
export function FlappingBadge({ flapping, percent }: { flapping: boolean; percent: number }) {
  if (!flapping) return null;
  return (
    <span class="badge flapping" data-flapping="true" title={`State changed on ${percent}% of recent checks (weighted)`}>
      <span class="badge-icon" aria-hidden="true">↯</span>
      Flapping {Math.round(percent)}%
    </span>
  );
}
