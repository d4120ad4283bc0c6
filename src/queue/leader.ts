import pg from 'pg';
import type { Logger } from '../lib/logger.ts';
import { coerceError } from '../lib/errors.ts';

/** Arbitrary but fixed: the advisory lock only the active scheduler holds. */
const SCHEDULER_LOCK_KEY = 0x76_69_67_69; // "vigi"

/**
 * Scheduler leadership through a session-level advisory lock on a dedicated connection. The lock
 * lives exactly as long as that session: if the process dies or its connection breaks, PostgreSQL
 * releases it and a standby takes over at its next attempt.
 */
export class SchedulerLeadership {
  private client: pg.Client | undefined;
  private readonly databaseUrl: string;
  private readonly logger: Logger;

  constructor(databaseUrl: string, logger: Logger) {
    this.databaseUrl = databaseUrl;
    this.logger = logger;
  }

  get isLeader(): boolean {
    return this.client !== undefined;
  }

  /** Tries once to become the active scheduler; true when this process holds the lock. */
  async tryAcquire(): Promise<boolean> {
    if (this.client) return true;
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'vigil-scheduler-lock' });
    client.on('error', (err) => this.lose(client, err));
    try {
      await client.connect();
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [SCHEDULER_LOCK_KEY]);
      if (!rows[0]?.ok) {
        await client.end();
        return false;
      }
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    this.client = client;
    this.logger.info('became the active scheduler');
    return true;
  }

  /**
   * Confirms the lock's session is still alive (a silently dead connection would otherwise leave
   * two schedulers). Two active schedulers would still never enqueue a check twice — claims use
   * SKIP LOCKED and leases — but the dispatch rate limit assumes one.
   */
  async confirm(): Promise<boolean> {
    const client = this.client;
    if (!client) return false;
    try {
      await client.query('SELECT 1');
      return true;
    } catch (err) {
      this.lose(client, coerceError(err));
      return false;
    }
  }

  /** Gives the lock up (on shutdown). */
  async release(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private lose(client: pg.Client, err: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.logger.warn('lost the scheduler lock with its connection; standing by', { err: err.message });
    client.end().catch(() => {});
  }
}
