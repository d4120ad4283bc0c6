import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../lib/logger.ts';

// A caller's id is reused only when it is a plausible id: no log injection through the header.
const REQUEST_ID = /^[\w.-]{1,128}$/;

/**
 * Gives every request an id (the caller's X-Request-Id, or a new one), echoes it in the response,
 * and logs one line per request with it when the response finishes.
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    res.locals.requestId = id;
    res.locals.log = logger.child({ request_id: id });
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const durationMs = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
      (res.locals.log as Logger).info('request', { method: req.method, path: req.path, status: res.statusCode, duration_ms: durationMs });
    });
    next();
  };
}
