import { useEffect, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { api, bodyOf, can, type Schemas, type Session } from '../api.ts';
import { Chart } from '../components/chart.tsx';
import { MaintenancePanel, ParentsPanel, PolicyPanel, type Parent } from '../components/host-context.tsx';
import { FlappingBadge, StateBadge } from '../components/state-badge.tsx';
import { Table } from '../components/table.tsx';
import { Timeline } from '../components/timeline.tsx';
import { ago, ms, time, until } from '../format.ts';
import { useLiveEvents, useLiveResync } from '../live.ts';
import { useLoad, useThrottled } from '../use-load.ts';

/** A result younger than this is shown as is on page load; older ones trigger a JIT check (max_age). */
const JIT_ON_LOAD_MAX_AGE_SECONDS = 60;
const RANGES = { '1h': { seconds: 3600, bucket: '1m' }, '24h': { seconds: 86_400, bucket: '15m' }, '7d': { seconds: 7 * 86_400, bucket: '1h' } } as const;
type Range = keyof typeof RANGES;
type CheckEntry = Schemas['HistoryEntry'];

async function loadHost(hostId: string) {
  const path = { host_id: hostId };
  const [host, state, transitions, history, incidents, badges] = await Promise.all([
    api.GET('/api/hosts/{host_id}', { params: { path } }).then(bodyOf),
    api.GET('/api/monitoring/hosts/{host_id}/state', { params: { path } }).then(bodyOf),
    api.GET('/api/monitoring/hosts/{host_id}/transitions', { params: { path, query: { limit: 20 } } }).then(bodyOf),
    api.GET('/api/monitoring/hosts/{host_id}/history', { params: { path, query: { limit: 15 } } }).then(bodyOf),
    api.GET('/api/incidents', { params: { query: { host_id: hostId, limit: 10 } } }).then(bodyOf),
    api.GET('/api/badges').then(bodyOf),
  ]);
  const badge = badges.hosts.find((b) => b.host_id === hostId)?.badge_url;
  const groupPublic = host.group !== null && badges.groups.includes(host.group);
  return { host, state, transitions: transitions.transitions, checks: history.checks, incidents: incidents.incidents, badge: { own: badge, groupPublic } };
}

/** At most this many parents are looked up by name (a host behind more is shown with a count). */
const MAX_PARENTS_SHOWN = 20;

/** The host's parents: its own (depends_on) and its group's gateway, each with its name and state now. */
async function loadParents(host: Schemas['Host']): Promise<{ parents: Parent[]; more: number }> {
  const gateway = host.group ? (await api.GET('/api/groups/{group}', { params: { path: { group: host.group } } }).then(bodyOf)).gateway_host_id : null;
  const ids = [...new Set([...(gateway && gateway !== host.id ? [gateway] : []), ...host.depends_on])];
  const shown = ids.slice(0, MAX_PARENTS_SHOWN);
  const parents = await Promise.all(
    shown.map(async (id): Promise<Parent> => {
      const parent = await api.GET('/api/hosts/{host_id}', { params: { path: { host_id: id } } }).then(bodyOf);
      return { id, name: parent.name, state: parent.monitoring_state, ...(id === gateway && host.group ? { gatewayOf: host.group } : {}) };
    }),
  );
  return { parents, more: ids.length - shown.length };
}

/**
 * One host: its state machine, timeline, response-time trend, recent checks and incidents, with
 * Check now (a JIT check that waits for its result) and the maintenance switch.
 */
export function HostPage({ hostId, session }: { hostId: string; session: Session }) {
  const data = useLoad(() => loadHost(hostId), [hostId]);
  const [range, setRange] = useState<Range>('1h');
  const [checking, setChecking] = useState(false);
  const [checkNote, setCheckNote] = useState<string | undefined>();
  const [fresh, setFresh] = useState<Schemas['JitCheck'] | undefined>();
  const host0 = data.data?.host;
  const parentsKey = host0 ? `${host0.group ?? ''}|${host0.depends_on.join(',')}|${data.data!.state.failing_parents.map((p) => `${p.host_id}:${p.state}`).join(',')}` : '';
  const parents = useLoad(async () => (host0 ? loadParents(host0) : undefined), [parentsKey]);
  const refresh = useThrottled(data.reload, 500);
  // Its own events; a parent's state change shows here too (its badge, and maybe why this host is UNREACHABLE).
  useLiveEvents((e) => (e.host.id === hostId || parents.data?.parents.some((p) => p.id === e.host.id)) && refresh(), [hostId, parents.data]);
  useLiveResync(refresh);

  async function checkNow(maxAgeSeconds?: number) {
    setChecking(true);
    setCheckNote(maxAgeSeconds === undefined ? 'Checking…' : undefined);
    try {
      const query = { wait: 'true' as const, timeout: 20, ...(maxAgeSeconds === undefined ? {} : { max_age: maxAgeSeconds }) };
      const result = bodyOf(await api.POST('/api/monitoring/hosts/{host_id}/check-connectivity', { params: { path: { host_id: hostId }, query } }));
      setFresh(result);
      setCheckNote(result.result ? `${result.message} (${ago(result.last_check)})` : result.message);
      data.reload();
    } catch (err) {
      setCheckNote(`Check failed to run: ${(err as Error).message}`);
    } finally {
      setChecking(false);
    }
  }

  // JIT on page load, only when the last result is old: max_age lets Vigil answer from it otherwise.
  const lastCheck = data.data?.host.last_check;
  const loaded = data.data !== undefined;
  useEffect(() => {
    if (!loaded || !can(session, 'check') || !data.data?.host.enabled) return;
    if (lastCheck && Date.now() - Date.parse(lastCheck) < JIT_ON_LOAD_MAX_AGE_SECONDS * 1000) return;
    void checkNow(JIT_ON_LOAD_MAX_AGE_SECONDS);
  }, [loaded, hostId]);

  if (data.error && !data.data) {
    return (
      <section>
        <h1>Host</h1>
        <p class="error" role="alert">
          Could not load this host: {data.error}
        </p>
      </section>
    );
  }
  if (!data.data) return <p class="loading">Loading…</p>;
  const { host, state, transitions, checks, incidents, badge } = data.data;
  const latest = fresh?.result ?? state.last_result;

  return (
    <section class="host-page">
      <p class="crumbs">
        <a href="/hosts">Hosts</a> /
      </p>
      <h1>
        {host.name} <StateBadge state={state.current_state} /> <FlappingBadge flapping={state.flapping} percent={state.flap_percent} />
      </h1>
      <p class="muted">
        {host.address}
        {host.group && ` · group ${host.group}`}
        {host.tags.length > 0 && ` · tags ${host.tags.join(', ')}`}
        {state.maintenance && ' · in maintenance'}
        {!host.enabled && ' · disabled'}
      </p>
      {state.failing_parents.length > 0 && (
        <p class="notice" role="note" data-testid="behind-failing-parent">
          <span aria-hidden="true">⊘ </span>Behind a failing parent: {state.failing_parents.map((p) => `${p.name} (${p.state.toLowerCase()})`).join(', ')}. Its failed checks count as
          Unreachable, open no incident and notify no one.
        </p>
      )}

      <div class="actions">
        {can(session, 'check') && (
          <button type="button" class="primary" onClick={() => checkNow()} disabled={checking}>
            {checking ? 'Checking…' : 'Check now'}
          </button>
        )}
        {can(session, 'write') && <MaintenanceToggle host={host} onChanged={data.reload} />}
        <p class="status-line" role="status" data-testid="check-note">
          {checkNote}
        </p>
      </div>

      <div class="grid-2">
        <div class="panel">
          <h2>Latest result</h2>
          {latest ? <ResultFacts result={latest} /> : <p class="muted">Not checked yet.</p>}
        </div>
        <div class="panel">
          <h2>State machine</h2>
          <dl class="facts">
            <dt>State</dt>
            <dd>
              <StateBadge state={state.current_state} /> {state.last_state_change ? `since ${ago(state.last_state_change)}` : 'since it was added'}
            </dd>
            <dt>Check interval</dt>
            <dd>{state.check_interval_info.description}</dd>
            <dt>Priority</dt>
            <dd>{state.check_priority}</dd>
            <dt>Failures / successes in a row</dt>
            <dd>
              {state.consecutive_failures} / {state.consecutive_successes}
            </dd>
            <dt>Next check</dt>
            <dd title={time(state.next_check_time)}>{!host.enabled ? 'none while disabled' : state.maintenance ? 'none while in maintenance' : until(state.next_check_time)}</dd>
            <dt>Flapping</dt>
            <dd data-testid="flapping">
              {state.flapping ? <strong>↯ yes</strong> : 'no'}, state changed on {Math.round(state.flap_percent)} % of recent checks (weighted)
            </dd>
          </dl>
        </div>
      </div>

      <div class="grid-2">
        <ParentsPanel parents={parents.data?.parents} more={parents.data?.more ?? 0} failing={state.failing_parents} error={parents.error} />
        <MaintenancePanel state={state} ownFlag={host.maintenance} />
      </div>

      <div class="panel">
        <div class="panel-head">
          <h2>Response time</h2>
          <div role="radiogroup" aria-label="Range" class="segmented">
            {(Object.keys(RANGES) as Range[]).map((r) => (
              <button type="button" key={r} role="radio" aria-checked={range === r} onClick={() => setRange(r)}>
                {r}
              </button>
            ))}
          </div>
        </div>
        <Trend hostId={hostId} range={range} version={host.last_check ?? ''} />
      </div>

      <div class="panel">
        <h2>State changes</h2>
        <Timeline transitions={transitions} />
      </div>

      <div class="panel">
        <h2>Recent checks</h2>
        <Table<CheckEntry>
          caption="Recent checks, newest first"
          rows={checks}
          rowKey={(c) => c.id}
          empty="No checks yet."
          columns={[
            { title: 'When', cell: (c) => <time dateTime={c.check_time} title={time(c.check_time)}>{ago(c.check_time)}</time> },
            { title: 'Result', cell: (c) => (c.success ? <span class="good">✓ ok</span> : <span class="bad">✕ failed</span>) },
            { title: 'State', cell: (c) => <StateBadge state={c.state} /> },
            { title: 'Response', cell: (c) => ms(c.response_time_ms), class: 'num' },
            { title: 'Error', cell: (c) => (c.error_type ? <span><code>{c.error_type}</code> {c.error_message}</span> : <span class="muted">—</span>) },
            { title: 'By', cell: (c) => c.checked_by },
            { title: 'Detail', cell: (c) => <Detail detail={c.detail} /> },
          ]}
        />
      </div>

      <PolicyPanel policy={state.effective_policy} current={state.current_state} />

      <BadgePanel hostId={hostId} own={badge.own} groupPublic={badge.groupPublic} writer={can(session, 'write')} onChanged={data.reload} />

      <div class="panel">
        <h2>Incidents</h2>
        {incidents.length === 0 ? (
          <p class="muted">No incidents.</p>
        ) : (
          <ul class="plain">
            {incidents.map((i) => (
              <li key={i.id}>
                <span class={i.status === 'open' ? 'bad' : 'muted'}>{i.status === 'open' ? '▲ open' : '✓ resolved'}</span> opened {ago(i.opened_at)} ({i.trigger_state.toLowerCase()}
                {i.resolved_at ? `, resolved ${ago(i.resolved_at)}` : ''}){i.acknowledged_by && ` · acknowledged by ${i.acknowledged_by}`}
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

function ResultFacts({ result }: { result: Schemas['CheckResult'] }) {
  return (
    <dl class="facts" data-testid="latest-result">
      <dt>Checked</dt>
      <dd title={time(result.check_time)}>
        <time dateTime={result.check_time}>{ago(result.check_time)}</time> ({result.checked_by})
      </dd>
      <dt>Outcome</dt>
      <dd>{result.success ? <span class="good">✓ success</span> : <span class="bad">✕ failure</span>}</dd>
      <dt>Response time</dt>
      <dd>{ms(result.response_time_ms)}</dd>
      {result.error_type && (
        <>
          <dt>Error</dt>
          <dd>
            <code>{result.error_type}</code> {result.error_message}
          </dd>
        </>
      )}
    </dl>
  );
}

function Detail({ detail }: { detail: Record<string, unknown> }) {
  const entries = Object.entries(detail);
  if (entries.length === 0) return <span class="muted">—</span>;
  return (
    <details>
      <summary>{entries.length} fact(s)</summary>
      <pre>{JSON.stringify(detail, null, 2)}</pre>
    </details>
  );
}

function MaintenanceToggle({ host, onChanged }: { host: Schemas['Host']; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  async function toggle() {
    setBusy(true);
    setError(undefined);
    try {
      bodyOf(await api.PATCH('/api/hosts/{host_id}', { params: { path: { host_id: host.id } }, body: { maintenance: !host.maintenance } }));
      onChanged();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
      <button type="button" aria-pressed={host.maintenance} onClick={toggle} disabled={busy}>
        {host.maintenance ? 'End maintenance' : 'Start maintenance'}
      </button>
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

/** Response times (average and p95 per bucket) from the trend API over the chosen range. */
function Trend({ hostId, range, version }: { hostId: string; range: Range; version: string }) {
  const { seconds, bucket } = RANGES[range];
  const trend = useLoad(
    () =>
      api
        .GET('/api/monitoring/hosts/{host_id}/trend', { params: { path: { host_id: hostId }, query: { from: new Date(Date.now() - seconds * 1000).toISOString(), bucket } } })
        .then(bodyOf),
    [hostId, range, version],
  );
  if (trend.error) return <p class="error">Could not load the trend: {trend.error}</p>;
  if (!trend.data) return <p class="loading">Loading…</p>;
  const buckets = trend.data.buckets;
  if (buckets.length === 0) return <p class="muted">No checks in this range.</p>;
  const data: uPlot.AlignedData = [buckets.map((b) => Date.parse(b.bucket_start) / 1000), buckets.map((b) => b.avg), buckets.map((b) => b.p95)];
  const checks = buckets.reduce((n, b) => n + b.count, 0);
  const failures = buckets.reduce((n, b) => n + b.failures, 0);
  const avg = buckets.filter((b) => b.avg !== null);
  const mean = avg.length ? avg.reduce((n, b) => n + b.avg! * b.count, 0) / avg.reduce((n, b) => n + b.count, 0) : null;
  const label = `Response time over the last ${range}: ${checks} checks, ${failures} failed, average ${ms(mean)}`;
  return (
    <>
      <Chart
        key={range}
        height={200}
        label={label}
        data={data}
        options={{
          legend: { live: false },
          scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1) * 1.1] } },
          axes: [{}, { label: 'ms', size: 55 }],
          series: [{}, { label: 'average', stroke: '#2563eb', width: 2, spanGaps: true }, { label: 'p95', stroke: '#9333ea', dash: [6, 4], spanGaps: true }],
        }}
      />
      <p class="muted small">{label}</p>
    </>
  );
}

/** The host's status badge: public or not, its URL, and (for admins) the switch. */
function BadgePanel(props: { hostId: string; own: string | undefined; groupPublic: boolean; writer: boolean; onChanged: () => void }) {
  const [error, setError] = useState<string | undefined>();
  const url = `${location.origin}/badges/hosts/${props.hostId}.svg`;
  const isPublic = props.own !== undefined || props.groupPublic;
  async function toggle() {
    setError(undefined);
    try {
      const path = { host_id: props.hostId };
      bodyOf(props.own ? await api.DELETE('/api/badges/hosts/{host_id}', { params: { path } }) : await api.POST('/api/badges/hosts/{host_id}', { params: { path } }));
      props.onChanged();
    } catch (err) {
      setError((err as Error).message);
    }
  }
  return (
    <div class="panel">
      <h2>Status badge</h2>
      <p>
        {isPublic ? (
          <>
            Public{props.groupPublic && !props.own ? ' (its group is public)' : ''}: <img src={url} alt="This host's status badge" /> <code>{url}</code>
          </>
        ) : (
          'Not public: the badge URL answers 404 until an admin makes it public.'
        )}
      </p>
      {props.writer && (
        <button type="button" aria-pressed={props.own !== undefined} onClick={toggle}>
          {props.own ? 'Make the badge private' : 'Make the badge public'}
        </button>
      )}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}
