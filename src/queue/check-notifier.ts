import { CHECK_DONE_CHANNEL } from '../db/queries/checks.ts';
import { EVENTS_CHANNEL } from '../db/queries/events.ts';
import { historyForJob, type HistoryRow } from '../db/queries/history.ts';
import type { Pool } from '../db/pool.ts';
import type { Logger } from '../lib/logger.ts';
import { PgListener } from '../db/listener.ts';

/** How often a waiter re-reads the database, in case a notification was missed during a reconnect. */
const FALLBACK_POLL_MS = 1000;

/**
 * Lets API requests wait for a check to be recorded, whichever process ran it: workers NOTIFY the
 * job id when the check's transaction commits; this holds one LISTEN connection for the process
 * and wakes the waiters. A periodic re-read covers notifications lost while reconnecting.
 */
export class CheckNotifier {
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Called when new events were committed (or after a reconnect, when some may have been missed). */
  private readonly eventListeners = new Set<() => void>();
  private readonly pool: Pool;
  private readonly listener: PgListener;

  constructor(pool: Pool, databaseUrl: string, logger: Logger) {
    this.pool = pool;
    this.listener = new PgListener({
      databaseUrl,
      channels: [CHECK_DONE_CHANNEL, EVENTS_CHANNEL],
      onNotify: (channel, payload) => (channel === EVENTS_CHANNEL ? this.eventsArrived() : this.wake(payload)),
      onReconnect: () => this.eventsArrived(),
      logger,
    });
  }

  start(): Promise<void> {
    return this.listener.start();
  }

  /** Subscribes to "new events may be there"; returns the unsubscribe function. */
  onEvents(listener: () => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private eventsArrived(): void {
    for (const listener of [...this.eventListeners]) listener();
  }

  /** Resolves with the recorded check of `jobId`, or undefined if none is recorded by `timeoutMs`. */
  async waitFor(jobId: string, timeoutMs: number): Promise<HistoryRow | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const row = await historyForJob(this.pool, jobId);
      if (row || this.listener.isClosed) return row;
      const leftMs = deadline - Date.now();
      if (leftMs <= 0) return undefined;
      await this.nextWake(jobId, Math.min(leftMs, FALLBACK_POLL_MS));
    }
  }

  async stop(): Promise<void> {
    await this.listener.stop();
    for (const id of this.waiters.keys()) this.wake(id);
  }

  private nextWake(jobId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(jobId) ?? new Set();
      this.waiters.set(jobId, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(jobId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  private wake(jobId: string): void {
    for (const done of [...(this.waiters.get(jobId) ?? [])]) done();
  }
}
