import type { Request, Response } from 'express';
import { eventsAfter, latestEventId, type EventFilter } from '../db/queries/events.ts';
import type { Pool } from '../db/pool.ts';
import { serializeEvent } from '../events/serialize.ts';
import type { CheckNotifier } from '../queue/check-notifier.ts';

const BATCH = 500;

/**
 * Server-Sent Event streams of the event outbox. Each stream replays what the client missed
 * (after Last-Event-ID) and then follows new events, woken by NOTIFY; a comment every heartbeat
 * keeps proxies from closing idle streams. close() ends every stream (shutdown).
 */
export class SseHub {
  private readonly open = new Set<() => void>();
  private readonly pool: Pool;
  private readonly notifier: CheckNotifier;
  private readonly heartbeatMs: number;

  constructor(pool: Pool, notifier: CheckNotifier, heartbeatMs: number) {
    this.pool = pool;
    this.notifier = notifier;
    this.heartbeatMs = heartbeatMs;
  }

  async serve(req: Request, res: Response, filter: EventFilter, lastEventId: string | undefined): Promise<void> {
    let cursor = lastEventId ?? (await latestEventId(this.pool));
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write(': connected\n\n');
    let closed = false;
    let pending = Promise.resolve();
    const drain = async () => {
      for (let rows = await eventsAfter(this.pool, cursor, filter, BATCH); rows.length > 0 && !closed; rows = await eventsAfter(this.pool, cursor, filter, BATCH)) {
        for (const e of rows) res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(serializeEvent(e))}\n\n`);
        cursor = rows[rows.length - 1]!.id;
      }
    };
    // Reads are chained so a burst of notifications never runs two reads at once.
    const wake = () => void (pending = pending.then(drain).catch(() => {}));
    const unsubscribe = this.notifier.onEvents(wake);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), this.heartbeatMs);
    await new Promise<void>((resolve) => {
      const end = () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        clearInterval(heartbeat);
        this.open.delete(end);
        res.end();
        resolve();
      };
      this.open.add(end);
      req.once('close', end);
      wake();
    });
    await pending;
  }

  close(): void {
    for (const end of [...this.open]) end();
  }
}
