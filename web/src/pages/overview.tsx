import uPlot from 'uplot';
import { api, bodyOf, type Schemas } from '../api.ts';
import { Chart } from '../components/chart.tsx';
import { StateBadge, STATES, stateLabel } from '../components/state-badge.tsx';
import { ago, percent } from '../format.ts';
import { useLiveEvents, useLiveResync } from '../live.ts';
import { useInterval, useLoad, useThrottled } from '../use-load.ts';

const STATE_COLOURS = { HEALTHY: '#1f7a3a', DEGRADED: '#a15c00', CRITICAL: '#c2410c', DOWN: '#b91c1c', UNREACHABLE: '#4b5563' } as const;
const MAINTENANCE_SAMPLE = 100;

interface OverviewData {
  stats: Schemas['MonitoringStats'];
  queue: Schemas['QueueStatus'];
  workers: Schemas['WorkerList']['workers'];
  incidents: Schemas['IncidentList'];
  maintenance: { count: number; more: boolean };
}

async function loadOverview(): Promise<OverviewData> {
  const [stats, queue, workers, incidents, maintenance] = await Promise.all([
    api.GET('/api/monitoring/stats').then(bodyOf),
    api.GET('/api/monitoring/queue').then(bodyOf),
    api.GET('/api/monitoring/workers').then(bodyOf),
    api.GET('/api/incidents', { params: { query: { status: 'open', limit: 5 } } }).then(bodyOf),
    api.GET('/api/hosts', { params: { query: { maintenance: 'true', limit: MAINTENANCE_SAMPLE } } }).then(bodyOf),
  ]);
  return {
    stats, queue, workers: workers.workers, incidents,
    maintenance: { count: maintenance.hosts.length, more: maintenance.next_cursor !== null },
  };
}

/** The fleet at a glance: states (chart and counts), incidents, maintenance, and whether checking keeps up. */
export function OverviewPage() {
  // The counts come first, on their own: the other figures must not hold up the first render.
  const summary = useLoad(() => api.GET('/api/monitoring/summary').then(bodyOf), []);
  const { data, error, reload: reloadRest } = useLoad(loadOverview, []);
  const reload = () => {
    summary.reload();
    reloadRest();
  };
  const refresh = useThrottled(reload, 1000);
  // Every event but a check that could not run changes a figure here (states, incidents, maintenance).
  useLiveEvents((e) => e.type !== 'check_not_run' && refresh());
  useLiveResync(refresh);
  useInterval(reload, 15_000);

  return (
    <section class="overview">
      <h1>Overview</h1>
      {(error ?? summary.error) && <p class="error" role="alert">Could not load the overview: {error ?? summary.error}</p>}
      {summary.data ? <StateCounts summary={summary.data} /> : !summary.error && <p class="loading">Loading…</p>}
      {data && (
        <>
          <div class="cards">
            <Card title="Open incidents" value={String(data.incidents.incidents.length + (data.incidents.next_cursor ? '+' : ''))} href="/incidents" testId="open-incidents" />
            <Card
              title="In maintenance"
              value={`${data.maintenance.count}${data.maintenance.more ? '+' : ''}`}
              href="/hosts?maintenance=true"
              testId="in-maintenance"
            />
            <Card title="Checks / min (1 h)" value={String(Math.round(data.stats.checks.checks_per_minute))} testId="checks-per-minute" />
            <Card title="Success rate (1 h)" value={percent(data.stats.checks.success_rate)} testId="success-rate" />
          </div>
          <Pool queue={data.queue} workers={data.workers} />
          <OpenIncidents incidents={data.incidents.incidents} />
        </>
      )}
    </section>
  );
}

function StateCounts({ summary }: { summary: Schemas['MonitoringSummary'] }) {
  const counts = STATES.map((s) => summary.by_state[s]);
  const label = `Hosts by state: ${STATES.map((s, i) => `${stateLabel(s)} ${counts[i]}`).join(', ')}`;
  // One bar series per state, each present only at its own x, so every bar has its own colour.
  const data: uPlot.AlignedData = [STATES.map((_s, i) => i), ...STATES.map((_s, i) => STATES.map((_t, j) => (i === j ? counts[i]! : null)))];
  return (
    <div class="panel state-panel">
      <h2>Hosts by state <span class="muted">({summary.total} total, {summary.disabled} disabled)</span></h2>
      <ul class="state-counts" aria-label="Hosts by state">
        {STATES.map((s, i) => (
          <li key={s} data-state={s}>
            <a href={`/hosts?state=${s}`}>
              <StateBadge state={s} />
              <strong class="count" data-testid={`count-${s}`}>
                {counts[i]}
              </strong>
            </a>
          </li>
        ))}
      </ul>
      <Chart height={180} label={label} data={data} options={barOptions()} />
    </div>
  );
}

function barOptions(): Omit<uPlot.Options, 'width' | 'height'> {
  return {
    legend: { show: false },
    cursor: { show: false },
    scales: { x: { time: false, range: [-0.5, STATES.length - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    axes: [
      { splits: () => STATES.map((_s, i) => i), values: (_u, splits) => splits.map((i) => stateLabel(STATES[i]!)) },
      { size: 50 },
    ],
    series: [{}, ...STATES.map((s) => ({ label: stateLabel(s), fill: STATE_COLOURS[s], stroke: STATE_COLOURS[s], paths: bars, points: { show: false } }))],
  };
}

const bars = uPlot.paths.bars!({ size: [0.6, 120] });

function Card(props: { title: string; value: string; href?: string; testId: string }) {
  const body = (
    <>
      <span class="card-title">{props.title}</span>
      <strong class="card-value" data-testid={props.testId}>
        {props.value}
      </strong>
    </>
  );
  return <div class="card">{props.href ? <a href={props.href}>{body}</a> : body}</div>;
}

function Pool({ queue, workers }: { queue: Schemas['QueueStatus']; workers: Schemas['WorkerList']['workers'] }) {
  const busy = workers.length ? workers.reduce((sum, w) => sum + w.busy_percent, 0) / workers.length : 0;
  return (
    <div class="panel">
      <h2>Checking pool</h2>
      <p data-testid="pool-status" class={queue.overloaded ? 'bad' : 'good'}>
        <span aria-hidden="true">{queue.overloaded ? '▲ ' : '✓ '}</span>
        {queue.overloaded ? `Overloaded: the oldest due check waits ${Math.round(queue.oldest_lag_seconds)} s (threshold ${queue.delay_threshold_seconds} s)` : 'Keeping up'}
      </p>
      <dl class="facts">
        <dt>Waiting checks</dt>
        <dd>{queue.waiting_total}</dd>
        <dt>Oldest lag</dt>
        <dd>{Math.round(queue.oldest_lag_seconds)} s</dd>
        <dt>Workers</dt>
        <dd>{workers.length}</dd>
        <dt>Busy (average)</dt>
        <dd>{Math.round(busy)} %</dd>
      </dl>
      {workers.length > 0 && (
        <details>
          <summary>Workers</summary>
          <ul class="plain">
            {workers.map((w) => (
              <li key={w.id}>
                {w.hostname} pid {w.pid}: {w.running}/{w.concurrency} running, {Math.round(w.busy_percent)} % busy, {w.checks_done} checks, heartbeat {ago(w.last_heartbeat)}
                {w.saturated ? ' (saturated)' : ''}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function OpenIncidents({ incidents }: { incidents: Schemas['Incident'][] }) {
  return (
    <div class="panel">
      <h2>Open incidents</h2>
      {incidents.length === 0 ? (
        <p class="muted">None open.</p>
      ) : (
        <ul class="plain">
          {incidents.map((i) => (
            <li key={i.id}>
              <StateBadge state={i.current_state} /> <a href={`/hosts/${i.host_id}`}>{i.host_name}</a> opened {ago(i.opened_at)}
              {i.last_error_type && <span class="muted"> · {i.last_error_type}</span>}
              {i.acknowledged_by && <span class="muted"> · acknowledged by {i.acknowledged_by}</span>}
            </li>
          ))}
        </ul>
      )}
      <p>
        <a href="/incidents">All incidents →</a>
      </p>
    </div>
  );
}
