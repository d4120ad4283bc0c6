import client from 'prom-client';

/**
 * Prometheus metrics of one Vigil process. Counters and histograms are updated where things
 * happen (workers, scheduler); gauges that describe the whole fleet (hosts by state, queue depth)
 * are read from the database when scraped, so every process reports the same truth.
 */
export interface Metrics {
  registry: client.Registry;
  checksTotal: client.Counter<'probe' | 'result' | 'error_type'>;
  checkDuration: client.Histogram<'probe'>;
  scheduleLag: client.Histogram;
  activeChecks: client.Gauge;
  webhookDeliveries: client.Counter<'result'>;
  notificationDeliveries: client.Counter<'channel_type' | 'result'>;
  /**
   * Check jobs that ran no check because Vigil itself failed: `retried` per failed attempt (pg-boss
   * retries it), `abandoned` when pg-boss gave up and the host was rescheduled without a result.
   */
  checksNotRun: client.Counter<'outcome'>;
  /** Reports a connection pool's busy, idle and waiting counts under `name` (roles, api, stream). */
  watchPool(name: string, pool: PoolCounts): void;
  /**
   * Another process's metrics to add to this one's when scraped (the worker child of `vigil
   * start`): counters and histograms add up, fleet gauges are taken once.
   */
  addSource(source: MetricsSource): void;
  readonly sources: readonly MetricsSource[];
}

export type MetricsJson = Awaited<ReturnType<client.Registry['getMetricsAsJSON']>>;
/** Undefined when the other process is not there to answer: its part is left out. */
export type MetricsSource = () => Promise<MetricsJson | undefined>;

/** This process's metrics in Prometheus's text format, with its sources' added in. */
export async function renderMetrics(m: Metrics): Promise<string> {
  if (m.sources.length === 0) return m.registry.metrics();
  const [own, ...others] = await Promise.all([m.registry.getMetricsAsJSON(), ...m.sources.map((source) => source())]);
  return client.AggregatorRegistry.aggregate([own, ...others.filter((o): o is MetricsJson => o !== undefined)]).metrics();
}

/** What pg's Pool tells about itself. */
export interface PoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

export interface FleetReader {
  hostsByState(): Promise<Record<string, number>>;
  queueDepth(): Promise<{ lane: string; priority: number; waiting: number }[]>;
  /** Hosts flapping now, with their weighted state-change percentage (few by nature: one series each). */
  flappingHosts?(): Promise<{ name: string; group: string | null; percent: number }[]>;
}

/**
 * prom-client's default totals of active handles, requests and resources are gauges with a
 * counter's `_total` suffix, which Prometheus's own linter (`promtool check metrics`) rejects.
 * Dropped: the per-type gauges beside them (`vigil_nodejs_active_handles{type}`…) sum to the same.
 */
const GAUGES_NAMED_AS_COUNTERS = ['handles', 'requests', 'resources'].map((what) => `vigil_nodejs_active_${what}_total`);

export function createMetrics(fleet?: FleetReader): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'vigil_' });
  for (const name of GAUGES_NAMED_AS_COUNTERS) registry.removeSingleMetric(name);
  const checksTotal = new client.Counter({
    name: 'vigil_checks_total',
    help: 'Checks run by this process, by probe type, result and error type',
    labelNames: ['probe', 'result', 'error_type'] as const,
    registers: [registry],
  });
  const checkDuration = new client.Histogram({
    name: 'vigil_check_duration_seconds',
    help: 'Duration of checks (all their probes), by probe type',
    labelNames: ['probe'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const scheduleLag = new client.Histogram({
    name: 'vigil_schedule_lag_seconds',
    help: 'Start of a scheduled check minus the time it was due',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const activeChecks = new client.Gauge({ name: 'vigil_active_checks', help: 'Checks running now in this process', registers: [registry] });
  const webhookDeliveries = new client.Counter({
    name: 'vigil_webhook_deliveries_total',
    help: 'Webhook delivery attempts by result',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const notificationDeliveries = new client.Counter({
    name: 'vigil_notification_deliveries_total',
    help: 'Notification delivery attempts by channel type and result (delivered, retrying, failed)',
    labelNames: ['channel_type', 'result'] as const,
    registers: [registry],
  });
  const checksNotRun = new client.Counter({
    name: 'vigil_checks_not_run_total',
    help: "Check jobs that ran no check because of Vigil's own failure (not the target's): retried, or abandoned after the last retry",
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  if (fleet) registerFleetGauges(registry, fleet);
  const pools = registerPoolGauges(registry);
  const sources: MetricsSource[] = [];
  return {
    registry, checksTotal, checkDuration, scheduleLag, activeChecks, webhookDeliveries, notificationDeliveries, checksNotRun,
    watchPool: (name, pool) => pools.set(name, pool),
    addSource: (source) => sources.push(source),
    sources,
  };
}

/**
 * Database connections per pool of this process. `waiting` above 0 for long means the pool is
 * saturated: queries queue for a connection (an alert in deploy/prometheus/vigil-alerts.yml).
 */
function registerPoolGauges(registry: client.Registry): Map<string, PoolCounts> {
  const pools = new Map<string, PoolCounts>();
  new client.Gauge({
    name: 'vigil_db_pool_connections',
    help: 'Database connections of this process by pool and state (busy, idle)',
    labelNames: ['pool', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [pool, p] of pools) {
        this.set({ pool, state: 'busy' }, p.totalCount - p.idleCount);
        this.set({ pool, state: 'idle' }, p.idleCount);
      }
    },
  });
  new client.Gauge({
    name: 'vigil_db_pool_waiting',
    help: 'Queries of this process waiting for a database connection, by pool',
    labelNames: ['pool'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [pool, p] of pools) this.set({ pool }, p.waitingCount);
    },
  });
  return pools;
}

function registerFleetGauges(registry: client.Registry, fleet: FleetReader): void {
  new client.Gauge({
    name: 'vigil_hosts',
    help: 'Hosts by health state',
    labelNames: ['state'] as const,
    registers: [registry],
    // Read from the database: every process reports the same truth, so it counts once.
    aggregator: 'first',
    async collect() {
      this.reset();
      for (const [state, n] of Object.entries(await fleet.hostsByState())) this.set({ state }, n);
    },
  });
  new client.Gauge({
    name: 'vigil_host_flap_percent',
    help: 'Weighted state-change percentage of each host flapping now (hosts not flapping have no series)',
    labelNames: ['host', 'group'] as const,
    registers: [registry],
    // Read from the database: every process reports the same truth, so it counts once.
    aggregator: 'first',
    async collect() {
      this.reset();
      for (const h of (await fleet.flappingHosts?.()) ?? []) this.set({ host: h.name, group: h.group ?? '' }, h.percent);
    },
  });
  new client.Gauge({
    name: 'vigil_queue_depth',
    help: 'Checks waiting in the queue, by lane and priority',
    labelNames: ['lane', 'priority'] as const,
    registers: [registry],
    // Read from the database: every process reports the same truth, so it counts once.
    aggregator: 'first',
    async collect() {
      this.reset();
      for (const q of await fleet.queueDepth()) this.set({ lane: q.lane, priority: String(q.priority) }, q.waiting);
    },
  });
}

/** Records one finished check. `probe` is the host's probe types joined with '+'. */
export function observeCheck(m: Metrics, c: { probe: string; success: boolean; errorType: string | null; durationMs: number; lagMs: number | null }): void {
  m.checksTotal.inc({ probe: c.probe, result: c.success ? 'success' : 'failure', error_type: c.errorType ?? 'none' });
  m.checkDuration.observe({ probe: c.probe }, c.durationMs / 1000);
  if (c.lagMs !== null) m.scheduleLag.observe(c.lagMs / 1000);
}
