import type pg from 'pg';
import { apiCall, type Api } from './api-client.ts';
import { SlotSampler, type ActivitySampler, type SlotUse } from './activity.ts';
import { checkTimeline, databaseSize, historyFootprint, tableWrites, transactionCounts, vacuumedFootprint, windowChecks, type CheckTimeline, type VacuumedFootprint, type WindowChecks } from './db-metrics.ts';
import { jitRequest, runOpenLoop, stateRequest, type LoadResult } from './load.ts';
import { serverCpuSeconds, type UsageSampler } from './measure.ts';
import type { BenchOptions } from './options.ts';

/**
 * The measured window: after the warm-up, for --duration seconds, the JIT and state-read clients
 * run beside the scheduled load while processes and the database are sampled. Everything is
 * bounded by the window; afterwards we wait one check timeout so checks started in the window are
 * recorded, then read the history.
 */

export interface WindowDeps {
  opts: BenchOptions;
  pool: pg.Pool;
  api: Api;
  usage: UsageSampler;
  activity: ActivitySampler;
  postmasterPid: number;
  hostIds: string[];
  jitTargets: string[];
}

export interface QueueSnapshot {
  waiting_total: number;
  oldest_lag_seconds: number;
  overloaded: boolean;
}

export interface WorkerSnapshot {
  pid: number;
  concurrency: number;
  running: number;
  busy_percent: number;
  checks_done: number;
}

export interface WindowMeasurement {
  start: Date;
  end: Date;
  seconds: number;
  checks: WindowChecks;
  /** Null when pg-boss's job table could not be read (its layout is pg-boss's business). */
  timeline: CheckTimeline | null;
  /** The same for the JIT checks of the window (their callers waited for them). */
  jitTimeline: CheckTimeline | null;
  slots: SlotUse;
  jit: LoadResult;
  stateReads: LoadResult;
  sizeBefore: number;
  sizeAfter: number;
  /** Size and reusable space after a VACUUM, at the window's start and end (null: no pg_freespacemap). */
  vacuumedBefore: VacuumedFootprint | null;
  vacuumedAfter: VacuumedFootprint | null;
  /** The history table at the window's end: its rows, heap and index bytes. */
  history: { rows: number; heapBytes: number; indexBytes: number };
  rowsWritten: { table: string; inserted: number; updated: number; deleted: number }[];
  /** Transactions committed in the bench database during the window (every client, this benchmark's own included). */
  commits: number;
  /** CPU of the whole PostgreSQL server in the window (every database on it). */
  serverCpuSeconds: number;
  queue: QueueSnapshot | null;
  workers: WorkerSnapshot[];
  notes: string[];
}

/** In-flight requests per client at most; beyond it a tick is dropped (and counted). */
const MAX_IN_FLIGHT = 64;
const ASH_PERIOD_MS = 200;

export async function measureWindow(deps: WindowDeps): Promise<WindowMeasurement> {
  const { opts, pool, usage, activity } = deps;
  const durationMs = opts.duration * 1000;
  const notes: string[] = [];
  // Before the window's clocks start, so the VACUUM's own work is not counted in it.
  const vacuumedBefore = await vacuumedFootprint(pool);
  if (!vacuumedBefore) notes.push('pg_freespacemap could not be created in the bench database: no growth after vacuum.');
  const sizeBefore = await databaseSize(pool);
  const writesBefore = await tableWrites(pool);
  const transactionsBefore = await transactionCounts(pool);
  const serverBefore = serverCpuSeconds(deps.postmasterPid);
  usage.markWindowStart();
  activity.recording = true;
  const start = new Date();
  const ash = repeat(ASH_PERIOD_MS, () => activity.sample());
  const slotSampler = new SlotSampler(pool);
  const slotSampling = repeat(1000, () => slotSampler.sample());
  const loads = Promise.all([
    runOpenLoop({ ratePerSecond: opts.jitRate, durationMs, maxInFlight: MAX_IN_FLIGHT, request: jitRequest(deps.api, deps.jitTargets) }),
    runOpenLoop({ ratePerSecond: opts.stateRate, durationMs, maxInFlight: MAX_IN_FLIGHT, request: stateRequest(deps.api, deps.hostIds) }),
  ]);
  await new Promise((r) => setTimeout(r, start.getTime() + durationMs - Date.now()));
  const end = new Date();
  await ash.stop();
  await slotSampling.stop();
  activity.recording = false;
  usage.markWindowEnd();
  const serverAfter = serverCpuSeconds(deps.postmasterPid);
  const sizeAfter = await databaseSize(pool);
  const writesAfter = await tableWrites(pool);
  const transactionsAfter = await transactionCounts(pool);
  const history = await historyFootprint(pool);
  const queue = await snapshot<QueueSnapshot>(deps.api, '/api/monitoring/queue', notes);
  const workers = (await snapshot<{ workers: WorkerSnapshot[] }>(deps.api, '/api/monitoring/workers', notes))?.workers ?? [];
  const [jit, stateReads] = await loads;
  const vacuumedAfter = vacuumedBefore ? await vacuumedFootprint(pool) : null;
  // Checks that started in the window and are still running get one timeout (and a second) to be recorded.
  await new Promise((r) => setTimeout(r, opts.timeoutMs + 1000));
  return {
    start,
    end,
    seconds: (end.getTime() - start.getTime()) / 1000,
    checks: await windowChecks(pool, start, end),
    timeline: await checkTimeline(pool, start, end, opts.workers * opts.concurrency).catch((err: Error) => {
      notes.push(`The check timeline needs pgboss.job: ${err.message}`);
      return null;
    }),
    jitTimeline: await checkTimeline(pool, start, end, opts.workers * opts.concurrency, 'jit').catch(() => null),
    slots: slotSampler.summary(),
    jit,
    stateReads,
    sizeBefore,
    sizeAfter,
    vacuumedBefore,
    vacuumedAfter,
    history,
    rowsWritten: diffWrites(writesBefore, writesAfter),
    commits: transactionsAfter.commits - transactionsBefore.commits,
    serverCpuSeconds: serverAfter - serverBefore,
    queue: queue && { waiting_total: queue.waiting_total, oldest_lag_seconds: queue.oldest_lag_seconds, overloaded: queue.overloaded },
    workers: workers.map((w) => ({ pid: w.pid, concurrency: w.concurrency, running: w.running, busy_percent: w.busy_percent, checks_done: w.checks_done })),
    notes,
  };
}

async function snapshot<T>(api: Api, path: string, notes: string[]): Promise<T | null> {
  try {
    return (await apiCall<T>(api, 'GET', path, undefined, 30_000)).body;
  } catch (err) {
    notes.push(`GET ${path} at the window's end failed: ${(err as Error).message}`);
    return null;
  }
}

type Writes = Awaited<ReturnType<typeof tableWrites>>;

function diffWrites(before: Writes, after: Writes): WindowMeasurement['rowsWritten'] {
  return [...after.entries()]
    .map(([table, a]) => {
      const b = before.get(table) ?? { ins: 0, upd: 0, del: 0 };
      return { table, inserted: a.ins - b.ins, updated: a.upd - b.upd, deleted: a.del - b.del };
    })
    .filter((w) => w.inserted + w.updated + w.deleted > 0)
    .sort((x, y) => y.inserted + y.updated + y.deleted - (x.inserted + x.updated + x.deleted));
}

/** Runs `task` every `periodMs` (never two at once; errors ignored) until stop() resolves. */
export function repeat(periodMs: number, task: () => Promise<void> | void): { stop(): Promise<void> } {
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      await Promise.resolve()
        .then(task)
        .catch(() => {});
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, periodMs);
      });
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
