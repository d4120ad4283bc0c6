import type { Request, Response } from 'express';
import { liveSessionIds } from '../auth/session-service.ts';
import type { Principal } from '../auth/token-service.ts';
import type { Config } from '../config/config.ts';
import { eventsAfter, latestEventId, type EventFilter, type EventRow } from '../db/queries/events.ts';
import { liveTokenIds } from '../db/queries/tokens.ts';
import type { Pool } from '../db/pool.ts';
import { serializeEvent } from '../events/serialize.ts';
import { coerceError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { CheckNotifier } from '../queue/check-notifier.ts';
import { disconnectSignal, writeChunk } from './stream.ts';
import { StreamSlots } from './stream-slots.ts';

/** Rows per database read, for the shared live read and for each stream's replay. */
const BATCH = 500;
/** Live frames a stream may have waiting; a stream further behind falls back to reading the database at its own pace. */
const LIVE_QUEUE_MAX = 1000;

export interface SseHubDeps {
  /** Token checks (short queries). */
  pool: Pool;
  /** Event reads (the live fan-out and replays). */
  streamPool: Pool;
  notifier: CheckNotifier;
  config: Config;
  logger: Logger;
}

interface Stream {
  principal: Principal;
  /** The dashboard session it was opened with (cookie), if any: signing out or expiring ends it. */
  sessionId: string | undefined;
  filter: EventFilter;
  res: Response;
  gone: AbortSignal;
  /** Id of the last event queued or written to this stream. */
  cursor: string;
  /** Frames waiting to be written. */
  queue: string[];
  /** Fed by the shared live read; false while it replays (or catches up) from the database itself. */
  live: boolean;
  pumping: boolean;
  end: () => void;
}

/**
 * Server-Sent Event streams of the event outbox. One read per notification serves every live
 * stream (fan-out), so N streams cost one query per event batch, not N. A stream replays what it
 * missed (after Last-Event-ID, at most VIGIL_SSE_REPLAY_MAX_EVENTS ids back, else a `resync`
 * event) from the database at the pace its client reads; every write waits for the socket to
 * drain, at most the stall timeout. A stream whose live backlog grows too long drops it and reads
 * from the database again, so memory per stream stays bounded. Each heartbeat also closes streams
 * whose token has been revoked or has expired, or whose dashboard session has been signed out or
 * has expired. close() ends every stream (shutdown).
 */
export class SseHub {
  private readonly streams = new Set<Stream>();
  private readonly deps: SseHubDeps;
  private readonly slots: StreamSlots;
  /** Highest event id the shared live read has handed out. */
  private cursor: string | undefined;
  private reading = Promise.resolve();
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(deps: SseHubDeps) {
    this.deps = deps;
    const { sseStreamsMax, sseStreamsPerToken } = deps.config.apiLimits;
    this.slots = new StreamSlots('event streams', { max: sseStreamsMax, perToken: sseStreamsPerToken, retryAfterSeconds: 30 });
    this.unsubscribe = deps.notifier.onEvents(() => this.wake());
    this.heartbeat = setInterval(() => void this.beat(), deps.config.sseHeartbeatSeconds * 1000);
  }

  /** Open streams (all tokens). */
  get open(): number {
    return this.streams.size;
  }

  /** Takes a stream slot for the caller, or throws 429; call before anything is written. */
  reserve(principal: Principal): () => void {
    return this.slots.take(principal);
  }

  async serve(
    req: Request,
    res: Response,
    o: { principal: Principal; sessionId: string | undefined; filter: EventFilter; lastEventId: string | undefined; release: () => void },
  ): Promise<void> {
    // Listen for the client going away before anything is awaited: a browser that navigates on
    // while the first read waits for a connection must not leave its stream (and slot) behind.
    const gone = disconnectSignal(res);
    try {
      // With no stream open the live read has not followed the table: start it at the newest event.
      if (this.cursor === undefined || this.streams.size === 0) this.cursor = await latestEventId(this.deps.streamPool);
      if (gone.aborted) return;
      const latest = this.cursor;
      const tooFar = o.lastEventId !== undefined && BigInt(latest) - BigInt(o.lastEventId) > BigInt(this.deps.config.apiLimits.sseReplayMaxEvents);
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
      res.write(': connected\n\n');
      const start = o.lastEventId === undefined || tooFar ? latest : o.lastEventId;
      await new Promise<void>((resolve) => {
        const stream: Stream = { principal: o.principal, sessionId: o.sessionId, filter: o.filter, res, gone, cursor: start, queue: [], live: false, pumping: false, end: () => {} };
        stream.end = () => {
          if (!this.streams.delete(stream)) return;
          res.end();
          resolve();
        };
        this.streams.add(stream);
        req.once('close', stream.end);
        gone.addEventListener('abort', stream.end, { once: true });
        if (gone.aborted || res.destroyed) stream.end();
        if (tooFar) stream.queue.push(resyncFrame(latest, this.deps.config.apiLimits.sseReplayMaxEvents));
        this.pump(stream);
      });
    } finally {
      o.release();
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.unsubscribe();
    for (const stream of [...this.streams]) stream.end();
  }

  /** Reads are chained so a burst of notifications never runs two reads at once. */
  private wake(): void {
    this.reading = this.reading
      .then(() => this.readLive())
      .catch((err: unknown) => void this.deps.logger.warn('event stream read failed', { err: coerceError(err).message }));
  }

  private async readLive(): Promise<void> {
    while (this.streams.size > 0 && this.cursor !== undefined) {
      const rows = await eventsAfter(this.deps.streamPool, this.cursor, {}, BATCH);
      if (rows.length === 0) return;
      // Synchronous from here: a stream switching to live sees the cursor and the queues agree.
      for (const stream of this.streams) if (stream.live) this.offer(stream, rows);
      this.cursor = rows.at(-1)!.id;
    }
  }

  private offer(stream: Stream, rows: EventRow[]): void {
    for (const row of rows) {
      if (BigInt(row.id) <= BigInt(stream.cursor) || !matches(stream.filter, row)) continue;
      if (stream.queue.length >= LIVE_QUEUE_MAX) {
        stream.live = false; // too far behind: it reads the rest from the database at its own pace
        break;
      }
      stream.queue.push(eventFrame(row));
      stream.cursor = row.id;
    }
    this.pump(stream);
  }

  /** Writes a stream's queue with backpressure; when not live, replays from the database until caught up. */
  private pump(stream: Stream): void {
    if (stream.pumping) return;
    stream.pumping = true;
    void this.drain(stream)
      .catch((err) => this.deps.logger.warn('event stream ended by a failed read', { err: coerceError(err).message }))
      .then((open) => (open === false || open === undefined ? stream.end() : undefined))
      .finally(() => (stream.pumping = false));
  }

  /** Resolves false when the stream must end (client gone or stalled). */
  private async drain(stream: Stream): Promise<boolean> {
    const { stallMs } = this.deps.config.apiLimits;
    for (;;) {
      for (let frame = stream.queue.shift(); frame !== undefined; frame = stream.queue.shift()) {
        if (!(await writeChunk(stream.res, frame, stream.gone, stallMs))) return false;
      }
      if (stream.live || !this.streams.has(stream)) return true;
      const through = this.cursor!;
      const rows = await eventsAfter(this.deps.streamPool, stream.cursor, stream.filter, BATCH, through);
      if (rows.length > 0) {
        stream.queue.push(...rows.map(eventFrame));
        stream.cursor = rows.at(-1)!.id;
      } else if (this.cursor === through) {
        stream.cursor = through;
        stream.live = true;
      }
    }
  }

  /** A heartbeat comment on every stream, and the end of streams whose token or session is no longer live. */
  private async beat(): Promise<void> {
    for (const stream of this.streams) {
      if (stream.queue.length < LIVE_QUEUE_MAX) stream.queue.push(': heartbeat\n\n');
      this.pump(stream);
    }
    try {
      for (const stream of await this.unauthorisedStreams()) stream.end();
    } catch (err) {
      this.deps.logger.warn('could not check the tokens of open event streams', { err: coerceError(err).message });
    }
  }

  /** Streams whose token was revoked or has expired, or whose session was signed out or has expired. */
  private async unauthorisedStreams(): Promise<Stream[]> {
    const streams = [...this.streams];
    const tokenIds = [...new Set(streams.map((s) => s.principal.tokenId).filter((id) => id !== 'env'))];
    const sessionIds = [...new Set(streams.flatMap((s) => (s.sessionId === undefined ? [] : [s.sessionId])))];
    const [liveTokens, liveSessions] = await Promise.all([
      tokenIds.length > 0 ? liveTokenIds(this.deps.pool, tokenIds) : new Set<string>(),
      sessionIds.length > 0 ? liveSessionIds(this.deps.pool, sessionIds) : new Set<string>(),
    ]);
    const tokenGone = (s: Stream) => s.principal.tokenId !== 'env' && !liveTokens.has(s.principal.tokenId);
    const sessionGone = (s: Stream) => s.sessionId !== undefined && !liveSessions.has(s.sessionId);
    return streams.filter((s) => tokenGone(s) || sessionGone(s));
  }
}

function matches(f: EventFilter, e: EventRow): boolean {
  return (!f.hostIds || f.hostIds.includes(e.host_id)) && (!f.groups || (e.host_group !== null && f.groups.includes(e.host_group))) && (!f.types || f.types.includes(e.type));
}

function eventFrame(e: EventRow): string {
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(serializeEvent(e))}\n\n`;
}

/** Sent instead of a replay that would reach back too far: reload current state, then follow from here. */
function resyncFrame(latestId: string, maxEvents: number): string {
  const data = { reason: 'replay_too_far', max_replay_events: maxEvents, latest_event_id: latestId };
  return `id: ${latestId}\nevent: resync\ndata: ${JSON.stringify(data)}\n\n`;
}
