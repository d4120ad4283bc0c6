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
 * Writes one chunk; when the socket's buffer is full, waits for 'drain'. Resolves false when the
 * client has gone (before or while waiting), so the caller stops producing.
 */
export async function writeChunk(res: Response, chunk: string, gone: AbortSignal): Promise<boolean> {
  if (gone.aborted || res.destroyed) return false;
  if (res.write(chunk)) return true;
  return new Promise<boolean>((resolve) => {
    const finish = (open: boolean) => {
      res.off('drain', onDrain);
      gone.removeEventListener('abort', onGone);
      resolve(open);
    };
    const onDrain = () => finish(true);
    const onGone = () => finish(false);
    res.on('drain', onDrain);
    gone.addEventListener('abort', onGone);
  });
}
