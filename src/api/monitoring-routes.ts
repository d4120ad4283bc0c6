import { databaseNow, getHostAt, type HostRow } from '../db/queries/hosts.ts';
import { historyForJob, recentHistory, type HistoryRow } from '../db/queries/history.ts';
import { conflict, notFound } from '../lib/errors.ts';
import { describeInterval } from '../machine/schedule.ts';
import { requestJitCheck } from '../queue/jit.ts';
import { hostsOfJob, QUEUES, type CheckJobData } from '../queue/names.ts';
import { JitRateLimiter, principalOf } from './auth.ts';
import type { ApiDeps } from './deps.ts';
import { ETAG_HEADER, etagHeaders, etagOf, matchesIfNoneMatch, NOT_MODIFIED, notModified } from './etag.ts';
import { JIT_EXAMPLES } from './examples.ts';
import { failingAncestors } from '../db/queries/dependencies.ts';
import type { FailingParent } from '../machine/check-outcome.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import {
  checkTaskSchema,
  hostIdParams,
  jitQuery,
  jitResponseSchema,
  problemSchema,
  stateResponseSchema,
  taskIdParams,
} from './schemas.ts';
import { currentStatus, serializeCheck } from './serialize.ts';
import { hostForState } from '../db/queries/policies.ts';
import { effectivePolicyOf } from '../policies/resolve.ts';
import { serializeEffectivePolicy } from './policy-serialize.ts';
import { windowsForHost, type WindowRow } from '../db/queries/maintenance-windows.ts';
import { activeOccurrence, nextOccurrence, type Occurrence } from '../maintenance/occurrences.ts';
import { scheduleOf } from '../maintenance/windows.ts';
import { occurrenceOf } from './maintenance-windows-routes.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const TAGS = ['monitoring'];
const RECENT_CHECKS = 10;

export function monitoringRoutes(deps: ApiDeps): RouteSpec[] {
  return [jitRoute(deps), stateRoute(deps), taskRoute(deps)];
}

/** `now` is the database's time: results are aged on the clock that stamped them, not this process's. */
function jitBody(host: HostRow, now: Date, fields: { result: HistoryRow | undefined; queued: boolean; taskId: string | null; priority: number | null; message: string }) {
  const lastCheck = fields.result?.check_time ?? host.last_check;
  return {
    host_id: host.id,
    hostname: host.name,
    ip_address: host.address,
    current_state: fields.result ? (fields.result.monitoring_state as HostRow['monitoring_state']) : host.monitoring_state,
    current_status: fields.result ? currentStatus({ ...host, last_check: lastCheck, monitoring_state: fields.result.monitoring_state as HostRow['monitoring_state'] }) : currentStatus(host),
    last_check: lastCheck?.toISOString() ?? null,
    result_age_seconds: lastCheck ? Math.max(0, (now.getTime() - lastCheck.getTime()) / 1000) : null,
    response_time_ms: fields.result?.response_time_ms ?? host.last_response_time_ms,
    check_queued: fields.queued,
    task_id: fields.taskId,
    priority: fields.priority,
    message: fields.message,
    result: fields.result ? serializeCheck(fields.result) : null,
  };
}

function jitRoute(deps: ApiDeps): RouteSpec {
  const limiter = new JitRateLimiter(deps.config.jitRatePerMinute);
  return defineRoute({
    method: 'post',
    path: '/api/monitoring/hosts/{host_id}/check-connectivity',
    operationId: 'checkConnectivity',
    summary: 'Just-in-time check at high priority (optionally wait for it, or accept a recent result)',
    description:
      'Queues a check at the JIT priority, or joins the one already queued or running for the host (same task_id). ' +
      'With wait=true answers 200 with the fresh result, or 202 if it is not done within `timeout`. ' +
      'With max_age, a result at most that old is returned at once without a new check.',
    tags: TAGS,
    scope: 'check',
    examples: { responses: { 200: [JIT_EXAMPLES.fresh, JIT_EXAMPLES.cached], 202: [JIT_EXAMPLES.queued] } },
    params: hostIdParams,
    query: jitQuery,
    responses: {
      200: { description: 'A result: fresh (wait=true) or recent enough (max_age)', schema: jitResponseSchema },
      202: { description: 'Check queued (or joined); poll the task', schema: jitResponseSchema },
      400: problem('Invalid id or query'),
      404: problem('No such host'),
      409: problem('Host is disabled'),
      429: problem('Too many JIT checks for this token (see Retry-After)'),
    },
    handler: async ({ params, query }, http) => {
      const host = await getHostAt(deps.pool, params.host_id);
      if (!host) throw notFound('host');
      if (!host.enabled) throw conflict('host is disabled; enable it to check it');
      const now = query.max_age !== undefined && host.last_check ? host.db_now : undefined;
      if (now && host.last_check && now.getTime() - host.last_check.getTime() <= query.max_age! * 1000) {
        const [latest] = await recentHistory(deps.pool, host.id, 1);
        const message = `Result measured ${Math.round((now.getTime() - host.last_check.getTime()) / 1000)} s ago is within max_age`;
        return { status: 200, body: jitBody(host, now, { result: latest, queued: false, taskId: null, priority: null, message }) };
      }
      // Only requests that would queue a check count: answers from max_age cost nothing.
      limiter.take(principalOf(http.res));
      const claim = await requestJitCheck(deps, host.id);
      if (!claim) throw notFound('host');
      const priority = deps.config.jitPriority;
      const joined = claim.shared ? 'Joined the check already queued for this host' : 'Fresh connectivity check queued with high priority';
      if (!query.wait) return { status: 202, body: jitBody(claim.host, await databaseNow(deps.pool), { result: undefined, queued: true, taskId: claim.jobId, priority, message: joined }) };
      const result = await deps.notifier.waitFor(claim.jobId, query.timeout * 1000);
      const read = await getHostAt(deps.pool, host.id);
      const fresh = read ?? claim.host;
      const answeredAt = read?.db_now ?? (await databaseNow(deps.pool));
      if (!result) {
        const message = `${joined}; not finished within ${query.timeout} s`;
        return { status: 202, body: jitBody(fresh, answeredAt, { result: undefined, queued: true, taskId: claim.jobId, priority, message }) };
      }
      return { status: 200, body: jitBody(fresh, answeredAt, { result, queued: true, taskId: claim.jobId, priority, message: `Fresh check completed${unreachableNote(result)}` }) };
    },
  });
}

/** A JIT check of a host behind a failing parent still runs; its answer says which parent is down. */
function unreachableNote(result: HistoryRow): string {
  if (result.monitoring_state !== 'UNREACHABLE') return '';
  const parents = (result.detail.unreachable_because as { name: string; state: string }[] | undefined) ?? [];
  return `: the host is UNREACHABLE, its parent ${parents.map((p) => `${p.name} is ${p.state}`).join(', ')}`;
}

function stateRoute(deps: ApiDeps): RouteSpec {
  return defineRoute({
    method: 'get',
    path: '/api/monitoring/hosts/{host_id}/state',
    operationId: 'getHostState',
    summary: "A host's health state machine: state, counters, schedule and recent checks",
    tags: TAGS,
    scope: 'check',
    params: hostIdParams,
    responses: {
      200: { description: 'Current state', schema: stateResponseSchema, headers: ETAG_HEADER },
      304: NOT_MODIFIED,
      400: problem('Malformed id'),
      404: problem('No such host'),
    },
    handler: async ({ params }, { req }) => {
      const host = await hostForState(deps.pool, params.host_id);
      if (!host) throw notFound('host');
      const groupMaintenance = host.group_maintenance;
      // Most hosts have no windows and most fleets no parents: then this is the only read before the history.
      const [windows, failingByHost] = await Promise.all([
        host.has_windows ? windowsForHost(deps.pool, host) : [],
        host.any_parent_edges ? failingAncestors(deps.pool, [host.id], deps.config.dependencies.maxDepth) : new Map<string, FailingParent[]>(),
      ]);
      const failingParents = failingByHost.get(host.id) ?? [];
      const effective = effectivePolicyOf(deps.config, host);
      const hostWindows = hostWindowsAt(host, windows, host.db_now);
      // History rows are written in the same transaction as the host row, so the row's version
      // (change_xid), the group's flag, the effective policy, the windows and the failing parents
      // name the whole answer: a 304 skips the history read.
      const etag = etagOf([
        host.id, host.change_xid, String(groupMaintenance), JSON.stringify(effective.values), JSON.stringify(effective.sources), JSON.stringify(hostWindows),
        ...failingParents.map((p) => `${p.id}:${p.state}`),
      ]);
      if (matchesIfNoneMatch(req, etag)) return notModified(etag);
      const history = await recentHistory(deps.pool, host.id, RECENT_CHECKS);
      return {
        status: 200,
        headers: etagHeaders(etag),
        body: {
          host_id: host.id,
          hostname: host.name,
          ip_address: host.address,
          current_state: host.monitoring_state,
          current_status: currentStatus(host),
          consecutive_failures: host.consecutive_failures,
          consecutive_successes: host.consecutive_successes,
          next_check_time: host.next_check_time.toISOString(),
          last_state_change: host.last_state_change?.toISOString() ?? null,
          check_priority: host.check_priority,
          response_time_ms: host.last_response_time_ms,
          last_check: host.last_check?.toISOString() ?? null,
          check_interval_info: describeInterval(host.monitoring_state, effective.policy),
          effective_policy: serializeEffectivePolicy(host.policy_id, effective),
          maintenance: host.maintenance || groupMaintenance || host.maintenance_window_id !== null,
          maintenance_window: hostWindows,
          flapping: host.flapping,
          flap_percent: host.flap_percent,
          failing_parents: failingParents.map((p) => ({ host_id: p.id, name: p.name, state: p.state })),
          last_result: history[0] ? serializeCheck(history[0]) : null,
          recent_history: history.map(serializeCheck),
          latest_values: ((host as { latest_values?: unknown }).latest_values ?? null) as never,
        },
      };
    },
  });
}

function taskRoute(deps: ApiDeps): RouteSpec {
  return defineRoute({
    method: 'get',
    path: '/api/monitoring/checks/{task_id}',
    operationId: 'getCheckTask',
    summary: 'State of a check task and, when done, its result',
    tags: TAGS,
    scope: 'check',
    params: taskIdParams,
    responses: { 200: { description: 'The task', schema: checkTaskSchema }, 400: problem('Malformed id'), 404: problem('No such task') },
    handler: async ({ params }) => {
      const [normal, failing, result] = await Promise.all([
        deps.boss.getJobById<CheckJobData>(QUEUES.checks, params.task_id),
        deps.boss.getJobById<CheckJobData>(QUEUES.failingChecks, params.task_id),
        historyForJob(deps.pool, params.task_id),
      ]);
      const job = normal ?? failing;
      // A task is one check: a scheduled job carrying several hosts is not one.
      if ((!job && !result) || (job && hostsOfJob(job.data).length !== 1)) throw notFound('check task');
      const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);
      return {
        status: 200,
        body: {
          task_id: params.task_id,
          host_id: job ? hostsOfJob(job.data)[0]!.host_id : result!.host_id,
          checked_by: job?.data.checked_by ?? result!.checked_by,
          // A recorded result is final: pg-boss marks the job completed a moment later (when its
          // whole fetched batch is done), and deletes completed jobs after a while.
          state: result ? 'completed' : (job?.state ?? 'completed'),
          priority: job?.priority ?? null,
          created_on: iso(job?.createdOn),
          started_on: iso(job?.startedOn),
          completed_on: iso(job?.completedOn),
          result: result ? serializeCheck(result) : null,
        },
      };
    },
  });
}

/** The window a host is in (as the scheduler last marked it) and the next to open for it. */
function hostWindowsAt(host: HostRow, windows: WindowRow[], now: Date) {
  const current = windows.find((w) => w.id === host.maintenance_window_id);
  const open = current && activeOccurrence(scheduleOf(current), now);
  let next: { window: WindowRow; occurrence: Occurrence } | undefined;
  for (const w of windows) {
    const o = nextOccurrence(scheduleOf(w), now);
    if (o && (!next || o.startsAt < next.occurrence.startsAt)) next = { window: w, occurrence: o };
  }
  return {
    active: current && open ? occurrenceOf(current, open) : null,
    next: next ? occurrenceOf(next.window, next.occurrence) : null,
  };
}
