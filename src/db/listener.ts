import pg from 'pg';
import type { Logger } from '../lib/logger.ts';
import { delay } from '../lib/time.ts';
import { backoffMs, type Backoff } from '../lib/backoff.ts';
import { coerceError } from '../lib/errors.ts';

/** Reconnects after 250 ms, 500 ms, 1 s … up to 10 s. */
const RECONNECT_BACKOFF: Backoff = { baseMs: 250, maxMs: 10_000 };

/**
 * One LISTEN connection for a process, reconnecting with backoff when the database goes away.
 * A notification is only ever a latency hint: after a reconnect `onReconnect` runs, since
 * notifications sent meanwhile are lost, and callers keep a slow poll as a fallback.
 */
export class PgListener {
  private client: pg.Client | undefined;
  private closed = false;
  private readonly databaseUrl: string;
  private readonly channels: readonly string[];
  private readonly onNotify: (channel: string, payload: string) => void;
  private readonly onReconnect: () => void;
  private readonly logger: Logger;

  constructor(o: {
    databaseUrl: string;
    channels: readonly string[];
    onNotify: (channel: string, payload: string) => void;
    /** Runs after every (re)connect: notifications sent while disconnected were lost. */
    onReconnect?: () => void;
    logger: Logger;
  }) {
    this.databaseUrl = o.databaseUrl;
    this.channels = o.channels;
    this.onNotify = o.onNotify;
    this.onReconnect = o.onReconnect ?? (() => {});
    this.logger = o.logger;
  }

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'vigil-listen' });
    client.on('notification', (msg) => this.onNotify(msg.channel, msg.payload ?? ''));
    client.on('error', (err) => void this.reconnect(err));
    await client.connect();
    await client.query(this.channels.map((c) => `LISTEN ${c}`).join('; '));
    this.client = client;
    this.onReconnect();
  }

  async stop(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => {});
    this.client = undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private async reconnect(err: Error): Promise<void> {
    this.logger.warn('LISTEN connection lost; reconnecting', { err: err.message });
    this.client?.end().catch(() => {});
    this.client = undefined;
    for (let attempt = 1; !this.closed; attempt++) {
      await delay(backoffMs(attempt, RECONNECT_BACKOFF));
      if (this.closed) return;
      try {
        await this.start();
        return;
      } catch (e) {
        this.logger.warn('LISTEN reconnect failed', { err: coerceError(e).message });
      }
    }
  }
}
