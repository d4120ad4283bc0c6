import { HOST_STATES, type HostState } from '../machine/states.ts';
import { FEED_START, readHostChanges, type FeedPosition } from '../db/queries/host-changes.ts';
import { readPrunedFeedXid } from '../db/queries/pruning.ts';
import { countHosts, type HostCountRow } from '../db/queries/host-summary.ts';
import { AppError } from '../lib/errors.ts';
import { encodeCursor } from './cursor.ts';
import type { ApiDeps } from './deps.ts';
import { changesQuery, changesSchema, summarySchema } from './inventory-schemas.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import { problemSchema } from './schemas.ts';
import { serializeHost } from './serialize.ts';
import { parentsOf } from '../db/queries/dependencies.ts';
import { changesExample, summaryExample } from './view-examples.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const TAGS = ['monitoring'];

/** Views for dashboards: the fleet at a glance, and what changed since the last poll. */
export function inventoryViewRoutes(deps: ApiDeps): RouteSpec[] {
  return [summaryRoute(deps), changesRoute(deps)];
}

const zeroByState = () => Object.fromEntries(HOST_STATES.map((s) => [s, 0])) as Record<HostState, number>;

/** Folds per-(group, state, enabled) counts into the summary. */
export function summarize(rows: HostCountRow[]) {
  const groups = new Map<string | null, { group: string | null; total: number; by_state: Record<HostState, number> }>();
  const all = { total: 0, enabled: 0, disabled: 0, by_state: zeroByState() };
  for (const r of rows) {
    const g = groups.get(r.group) ?? { group: r.group, total: 0, by_state: zeroByState() };
    groups.set(r.group, g);
    g.total += r.hosts;
    g.by_state[r.monitoring_state] += r.hosts;
    all.total += r.hosts;
    all.by_state[r.monitoring_state] += r.hosts;
    all[r.enabled ? 'enabled' : 'disabled'] += r.hosts;
  }
  const byGroup = [...groups.values()].sort((a, b) => (a.group === null ? 1 : b.group === null ? -1 : a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  return { ...all, by_group: byGroup };
}

function summaryRoute(deps: ApiDeps): RouteSpec {
  return defineRoute({
    method: 'get',
    path: '/api/monitoring/summary',
    operationId: 'getMonitoringSummary',
    summary: 'Hosts by state and by group, enabled and disabled counts',
    tags: TAGS,
    examples: { responses: { 200: [summaryExample] } },
    responses: { 200: { description: 'The summary', schema: summarySchema }, 400: problem('Unknown query parameter') },
    handler: async () => ({ status: 200, body: summarize(await countHosts(deps.pool)) }),
  });
}

/** The later of two feed positions (transaction ids compare as numbers, then host ids). */
const later = (a: FeedPosition, b: FeedPosition): FeedPosition => {
  const byXid = BigInt(a.xid) - BigInt(b.xid);
  return byXid > 0n || (byXid === 0n && a.id > b.id) ? a : b;
};

/** A cursor from before pruned tombstones could miss deletions: the client must list again. */
async function refuseCursorBeforePrunedTombstones(deps: ApiDeps, after: FeedPosition): Promise<void> {
  if (after === FEED_START) return;
  const pruned = await readPrunedFeedXid(deps.pool);
  if (pruned !== null && BigInt(after.xid) < BigInt(pruned)) {
    throw new AppError('cursor_gone', 410, 'deletions after this cursor are past VIGIL_TOMBSTONE_RETENTION_DAYS and were forgotten; list again without since');
  }
}

function changesRoute(deps: ApiDeps): RouteSpec {
  return defineRoute({
    method: 'get',
    path: '/api/monitoring/changes',
    operationId: 'listHostChanges',
    summary: 'Hosts created, changed or deleted since a cursor: poll with the next_cursor of the previous answer',
    description:
      'Every write to a host (API, scheduler, workers) puts it in the feed; a host changed several times between two polls ' +
      'appears once, as it is now. Without `since` the feed starts from the beginning, i.e. lists every host (page with ' +
      '`has_more`). A change is handed out once every older writing transaction on the database server has finished, so ' +
      'none is skipped when commits come out of order; a long-running writing transaction delays the feed, it never loses ' +
      'changes. 410 means the cursor cannot belong to this database (restored from a dump), or is older than the tombstone retention ' +
      '(deletions after it were forgotten): list again without `since`.',
    tags: TAGS,
    query: changesQuery,
    examples: { responses: { 200: [changesExample] } },
    responses: {
      200: { description: 'Changes after the cursor, oldest change first', schema: changesSchema },
      400: problem('Invalid cursor or limit'),
      410: problem('Cursor from another database, or older than the tombstone retention; start again without since'),
    },
    handler: async ({ query }) => {
      const after: FeedPosition = query.since ? { xid: query.since[0], id: query.since[1] } : FEED_START;
      const page = await readHostChanges(deps.pool, after, query.limit);
      const parents = await parentsOf(deps.pool, page.entries.flatMap((e) => (e.kind === 'changed' ? [e.host.id] : [])));
      if (BigInt(after.xid) > BigInt(page.nextXid)) throw new AppError('cursor_gone', 410, 'this cursor is newer than the database (was it restored?); list again without since');
      await refuseCursorBeforePrunedTombstones(deps, after);
      const full = page.entries.length === query.limit;
      // A partial page means everything below the horizon has been handed out.
      const horizon = { xid: page.horizon, id: FEED_START.id };
      const last = page.entries.at(-1)?.position ?? after;
      const next = full ? last : later(last, horizon);
      return {
        status: 200,
        body: {
          changes: page.entries.flatMap((e) => (e.kind === 'changed' ? [serializeHost(e.host, parents.get(e.host.id))] : [])),
          deleted: page.entries.flatMap((e) => (e.kind === 'deleted' ? [{ id: e.id, deleted_at: e.deletedAt.toISOString() }] : [])),
          next_cursor: encodeCursor([next.xid, next.id]),
          has_more: full,
        },
      };
    },
  });
}
