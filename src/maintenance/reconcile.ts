import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import { appendEvents, type NewEvent } from '../db/queries/events.ts';
import { databaseNow } from '../db/queries/hosts.ts';
import { applyOpenWindows, listWindows, type OpenWindow, type WindowChange, type WindowRow } from '../db/queries/maintenance-windows.ts';
import { withTransaction } from '../db/transaction.ts';
import { runBackgroundLoop } from '../lib/backoff.ts';
import type { Logger } from '../lib/logger.ts';
import type { SchedulerLeadership } from '../queue/leader.ts';
import { activeOccurrence } from './occurrences.ts';
import { scheduleOf, windowReason } from './windows.ts';

export interface ReconcileDeps {
  pool: Pool;
  config: Config;
  logger: Logger;
}

/** The windows open at `now`, each with the end of its open occurrence. Pure. */
export function openWindowsAt(windows: WindowRow[], now: Date): OpenWindow[] {
  return windows.flatMap((w) => {
    const o = activeOccurrence(scheduleOf(w), now);
    return o ? [{ windowId: w.id, endsAt: o.endsAt }] : [];
  });
}

/** The events a pass announces: a window ended for a host, then one started, as each host moved. Pure. */
export function windowEvents(changes: WindowChange[], windows: Map<string, WindowRow>, now: Date): NewEvent[] {
  return changes.flatMap((c) => {
    const host = { hostId: c.id, hostName: c.name, hostGroup: c.group, occurredAt: now };
    const events: NewEvent[] = [];
    if (c.from) events.push({ ...host, type: 'maintenance_window_ended', reason: windowReason(windows.get(c.from)) });
    if (c.to) events.push({ ...host, type: 'maintenance_window_started', reason: windowReason(windows.get(c.to)) });
    return events;
  });
}

/**
 * One pass: which windows are open now (database time), then in one transaction move hosts into
 * and out of them and append the events announcing it. Returns how many hosts changed.
 */
export async function reconcileWindows(deps: ReconcileDeps): Promise<number> {
  const [now, windows] = await Promise.all([databaseNow(deps.pool), listWindows(deps.pool)]);
  const open = openWindowsAt(windows, now);
  const byId = new Map(windows.map((w) => [w.id, w]));
  return withTransaction(deps.pool, async (tx) => {
    const changes = await applyOpenWindows(tx, open, deps.config.producer.firstCheckSpreadSeconds);
    await appendEvents(tx, windowEvents(changes, byId, now));
    return changes.length;
  });
}

/**
 * The maintenance-window loop, part of the scheduler role: it acts only while this process is the
 * active scheduler (the producer loop holds that lock), every VIGIL_MAINTENANCE_POLL_MS, so hosts
 * enter and leave windows on their own within that of the window's times. A failing pass is
 * logged and retried with backoff; the loop never throws.
 */
export function runMaintenanceWindowLoop(deps: ReconcileDeps, leadership: Pick<SchedulerLeadership, 'isLeader'>, signal: AbortSignal): Promise<void> {
  return runBackgroundLoop({
    name: 'maintenance windows',
    logger: deps.logger,
    signal,
    pass: async () => {
      if (leadership.isLeader) {
        const changed = await reconcileWindows(deps);
        if (changed > 0) deps.logger.info('hosts entered or left maintenance windows', { count: changed });
      }
      return deps.config.maintenance.pollMs;
    },
  });
}
