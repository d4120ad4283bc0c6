import type { Pool } from '../db/pool.ts';
import { databaseNow } from '../db/queries/hosts.ts';

/**
 * The database's clock, read locally. Schedules, leases and token expiry are compared with the
 * database's now() by every process, so a check's time and its schedule lag must be on that clock
 * too: a worker whose own clock is a minute off would otherwise shift history times (and the daily
 * partition a row lands in) and report a minute of lag that never happened. The offset is measured
 * at start and refreshed now and then; reading it costs nothing per check.
 */
export class DatabaseClock {
  private offsetMs = 0;
  private readonly pool: Pool;
  private readonly localNow: () => number;

  /** `localNow` is this process's clock. */
  constructor(pool: Pool, localNow: () => number = Date.now) {
    this.pool = pool;
    this.localNow = localNow;
  }

  /** Measures the offset to the database's clock, assuming the query's two legs took equally long. */
  async sync(): Promise<void> {
    const before = this.localNow();
    const db = (await databaseNow(this.pool)).getTime();
    const after = this.localNow();
    this.offsetMs = db - (before + after) / 2;
  }

  /** The current time on the database's clock, as of the last sync. */
  now(): Date {
    return new Date(this.localNow() + this.offsetMs);
  }
}

/** How often a worker re-measures the offset (clocks drift, NTP steps them). */
export const CLOCK_SYNC_INTERVAL_MS = 60_000;
