import type { Schemas } from '../api.ts';
import { span, time, until } from '../format.ts';
import { StateBadge, STATES, stateLabel } from './state-badge.tsx';

/**
 * What governs a host beyond its own checks, as the state endpoint reports it: the check policy in
 * force (each value and where it came from), maintenance (why now, and the next window), and the
 * parents it sits behind. Pure views: the host page loads the data.
 */

type State = Schemas['HostMonitoringState'];
type Sources = State['effective_policy']['sources'];
type Source = Sources[keyof Sources];
type Values = State['effective_policy']['values'];

/** "critical-core (host policy)", "best-effort (group core)", "host override", "defaults". */
export function sourceText(source: Source | undefined): string {
  if (!source || source.level === 'defaults') return 'defaults';
  if (source.level === 'host') return 'host override';
  if (source.level === 'host_policy') return `policy ${source.policy ?? '?'}`;
  return `policy ${source.policy ?? '?'} (group ${source.group ?? '?'})`;
}

/** An interval as set: "30 min", "5 s", "0.3 s" (span() alone would floor a sub-second one to 0). */
function interval(seconds: number): string {
  return seconds < 60 && !Number.isInteger(seconds) ? `${Number(seconds.toFixed(1))} s` : span(seconds);
}

/** The named policies any value comes from, host's first: "critical-core, best-effort (group core's)". */
function policyNames(policy: State['effective_policy']): string {
  const names = new Set<string>();
  for (const level of ['host_policy', 'group_policy'] as const) {
    for (const s of Object.values(policy.sources)) {
      if (s.level === level) names.add(level === 'host_policy' ? `${s.policy}` : `${s.policy} (group ${s.group}'s)`);
    }
  }
  return names.size ? [...names].join(', ') : 'none, the fleet defaults';
}

const THRESHOLDS: [Exclude<keyof Values, 'states'> & keyof Sources, string, (v: number) => string][] = [
  ['check_timeout_ms', 'Check timeout', (v) => `${v} ms`],
  ['degraded_after_failures', 'Degraded after', (v) => `${v} failure(s) in a row`],
  ['critical_after_failures', 'Critical after', (v) => `${v} failure(s) in a row`],
  ['down_after_failures', 'Down after', (v) => `${v} failure(s) in a row`],
  ['healthy_after_successes', 'Healthy again after', (v) => `${v} success(es) in a row`],
  ['probe_retries', 'Probe retries', (v) => String(v)],
];
/** What an unset value means (probe_retries unset: each probe keeps its own). */
const UNSET: Partial<Record<keyof Values, string>> = { probe_retries: "each probe's own" };

export function PolicyPanel({ policy, current }: { policy: State['effective_policy']; current: Schemas['HostState'] }) {
  const { values, sources } = policy;
  return (
    <div class="panel" data-testid="policy">
      <h2>Check policy</h2>
      <p>
        Policy: <strong data-testid="policy-names">{policyNames(policy)}</strong>
      </p>
      <div class="table-wrap">
        <table>
          <caption class="sr-only">Effective check policy: every value and where it came from</caption>
          <thead>
            <tr>
              <th scope="col">Setting</th>
              <th scope="col">Value</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {STATES.map((s) => {
              const state = values.states?.[s];
              return (
                <tr key={s} aria-current={s === current ? 'true' : undefined} class={s === current ? 'current' : undefined}>
                  <th scope="row">
                    When {stateLabel(s).toLowerCase()}
                    {s === current && <span class="muted"> (now)</span>}
                  </th>
                  <td>
                    every {state?.interval_seconds === undefined ? '—' : interval(state.interval_seconds)}, priority {state?.priority ?? '—'}
                  </td>
                  <td class="muted">{sourceText(sources[`states.${s}.interval_seconds`])}</td>
                </tr>
              );
            })}
            {THRESHOLDS.map(([key, label, show]) => {
              const value = values[key];
              return (
                <tr key={key}>
                  <th scope="row">{label}</th>
                  <td>{typeof value === 'number' ? show(value) : (UNSET[key] ?? '—')}</td>
                  <td class="muted">{sourceText(sources[key])}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** Why the host is in maintenance now (its flag, a window, its group), and the next window. */
export function MaintenancePanel({ state, ownFlag }: { state: State; ownFlag: boolean }) {
  const { active, next } = state.maintenance_window;
  const why = active ? `window “${active.label}”` : ownFlag ? 'its own maintenance switch' : 'its group is in maintenance';
  return (
    <div class="panel" data-testid="maintenance">
      <h2>Maintenance</h2>
      <dl class="facts">
        <dt>Now</dt>
        <dd data-testid="maintenance-now">
          {state.maintenance ? (
            <>
              <strong>In maintenance</strong> ({why}
              {active && <>, ends {until(active.ends_at)} at {time(active.ends_at)}</>}): no scheduled checks
            </>
          ) : (
            'Not in maintenance'
          )}
        </dd>
        {active?.reason && (
          <>
            <dt>Reason</dt>
            <dd>{active.reason}</dd>
          </>
        )}
        <dt>Next window</dt>
        <dd data-testid="maintenance-next">
          {next ? (
            <>
              “{next.label}” {until(next.starts_at)}: <time dateTime={next.starts_at}>{time(next.starts_at)}</time> to{' '}
              <time dateTime={next.ends_at}>{time(next.ends_at)}</time>
              {next.reason && <span class="muted"> · {next.reason}</span>}
            </>
          ) : (
            <span class="muted">none booked</span>
          )}
        </dd>
      </dl>
    </div>
  );
}

export interface Parent {
  id: string;
  name: string;
  state: Schemas['HostState'];
  /** The group this host is the gateway of, when it is a parent as the group's gateway. */
  gatewayOf?: string;
}

/** The hosts this one sits behind, and which of them (or their own parents) are failing now. */
export function ParentsPanel(props: { parents: Parent[] | undefined; more: number; failing: State['failing_parents']; error: string | undefined }) {
  return (
    <div class="panel" data-testid="parents">
      <h2>Depends on</h2>
      {props.error && <p class="error">Could not load the parents: {props.error}</p>}
      {props.parents === undefined ? (
        !props.error && <p class="loading">Loading…</p>
      ) : props.parents.length === 0 ? (
        <p class="muted">No parents: every failure is this host's own.</p>
      ) : (
        <ul class="plain">
          {props.parents.map((p) => (
            <li key={p.id} data-parent={p.name}>
              <a href={`/hosts/${p.id}`}>{p.name}</a> <StateBadge state={p.state} />
              {p.gatewayOf && <span class="muted"> · gateway of group {p.gatewayOf}</span>}
            </li>
          ))}
          {props.more > 0 && <li class="muted">and {props.more} more</li>}
        </ul>
      )}
      {props.failing.length > 0 && (
        <p data-testid="failing-parents">
          <strong>Failing now:</strong>{' '}
          {props.failing.map((p, i) => (
            <span key={p.host_id}>
              {i > 0 && ', '}
              <a href={`/hosts/${p.host_id}`}>{p.name}</a> <StateBadge state={p.state} />
            </span>
          ))}
          . A failed check of this host counts as Unreachable: no incident, no notification.
        </p>
      )}
    </div>
  );
}
