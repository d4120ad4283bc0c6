import type { Response } from 'express';

/**
 * Streaming a response body that may be far larger than memory: write only when the socket has
 * taken the previous chunk, and stop as soon as the client goes away.
 */

/** Aborts when the client disconnects before the response has been fully sent. */
export function disconnectSignal(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * Writes one chunk; when the socket's buffer is full, waits for 'drain', at most `stallMs`: a
 * client that stops reading would otherwise hold its database cursor and buffers for ever, so it
 * is cut off (the response destroyed). Resolves false when the client has gone or was cut off,
 * so the caller stops producing.
 */
export async function writeChunk(res: Response, chunk: string, gone: AbortSignal, stallMs: number): Promise<boolean> {
  if (gone.aborted || res.destroyed) return false;
  if (res.write(chunk)) return true;
  return new Promise<boolean>((resolve) => {
    const finish = (open: boolean) => {
      clearTimeout(stalled);
      res.off('drain', onDrain);
      gone.removeEventListener('abort', onGone);
      resolve(open);
    };
    const onDrain = () => finish(true);
    const onGone = () => finish(false);
    const stalled = setTimeout(() => {
      res.destroy();
      finish(false);
    }, stallMs);
    res.on('drain', onDrain);
    gone.addEventListener('abort', onGone);
  });
}
