import { checkStats, hostsByState, nextDueHosts, oldestLagSeconds, queuedByPriority, type CheckStatsRow } from '../db/queries/introspection.ts';
import { liveWorkers } from '../db/queries/workers.ts';
import { CHECK_QUEUES, QUEUES } from '../queue/names.ts';
import type { ApiDeps } from './deps.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import { problemSchema, queueStatusSchema, statsQuery, statsSchema, workerListSchema } from './schemas.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const TAGS = ['operations'];
const SATURATED_PERCENT = 75;

/** Is the pool keeping up? Queue depth and lag, live workers, check statistics (seed 004's poller API). */
export function operationsRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool, config } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/api/monitoring/queue',
      operationId: 'getQueueStatus',
      summary: 'Checks waiting by priority, the most overdue check, and the next hosts due',
      tags: TAGS,
      responses: { 200: { description: 'Queue status', schema: queueStatusSchema }, 400: problem('Unexpected query') },
      handler: async () => {
        const [waiting, lag, next] = await Promise.all([queuedByPriority(pool, CHECK_QUEUES), oldestLagSeconds(pool, CHECK_QUEUES), nextDueHosts(pool, 10)]);
        return {
          status: 200,
          body: {
            waiting_by_priority: waiting.map((w) => ({ lane: w.queue === QUEUES.failingChecks ? 'failing' : 'normal', priority: w.priority, waiting: w.waiting })),
            waiting_total: waiting.reduce((sum, w) => sum + w.waiting, 0),
            oldest_lag_seconds: Math.round(lag * 1000) / 1000,
            delay_threshold_seconds: config.delayThresholdSeconds,
            overloaded: lag > config.delayThresholdSeconds,
            next_due: next.map((h) => ({ ...h, next_check_time: h.next_check_time.toISOString() })),
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/monitoring/workers',
      operationId: 'listWorkers',
      summary: 'Live worker processes: slots, running checks, busy % over the last minute',
      tags: TAGS,
      responses: { 200: { description: 'Workers heard from recently', schema: workerListSchema }, 400: problem('Unexpected query') },
      handler: async () => {
        const rows = await liveWorkers(pool, config.worker.heartbeatSeconds * 3);
        const workers = rows.map((w) => ({
          ...w,
          checks_done: Number(w.checks_done),
          started_at: w.started_at.toISOString(),
          last_heartbeat: w.last_heartbeat.toISOString(),
          saturated: w.busy_percent > SATURATED_PERCENT,
        }));
        return { status: 200, body: { workers } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/monitoring/stats',
      operationId: 'getMonitoringStats',
      summary: 'Hosts by state; checks per minute, success rate, durations and delayed checks, by probe type',
      tags: TAGS,
      query: statsQuery,
      responses: { 200: { description: 'Statistics', schema: statsSchema }, 400: problem('Invalid query') },
      handler: async ({ query }) => {
        const [states, rows] = await Promise.all([hostsByState(pool), checkStats(pool, query.window, config.delayThresholdSeconds * 1000)]);
        const total = rows.find((r) => r.is_total);
        const byType = Object.fromEntries(rows.filter((r) => !r.is_total).map((r) => [r.probe_type ?? 'unknown', summarise(r)]));
        return { status: 200, body: { window_seconds: query.window, hosts_by_state: states, checks: total ? summarise(total) : summarise(undefined), by_probe_type: byType } };
      },
    }),
  ];
}

function summarise(r: CheckStatsRow | undefined) {
  const round = (n: number | null | undefined) => (n === null || n === undefined ? null : Math.round(n * 10) / 10);
  return {
    checks: r?.checks ?? 0,
    checks_per_minute: round((r?.last_5m ?? 0) / 5)!,
    success_rate: r && r.checks > 0 ? Math.round((r.successes / r.checks) * 1000) / 1000 : null,
    avg_duration_ms: round(r?.avg_ms),
    p95_duration_ms: round(r?.p95_ms),
    delayed: r?.delayed ?? 0,
  };
}
