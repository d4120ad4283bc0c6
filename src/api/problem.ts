import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../db/sqlstate.ts';
import { AppError, coerceError, type FieldError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';

export const PROBLEM_TYPE = 'application/problem+json';

/** zod issues -> field errors named by where they came from (`body.probes.0.port`). */
export function fieldErrors(where: string, error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    field: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

function problemBody(status: number, title: string, detail: string, errors?: FieldError[]) {
  return { type: 'about:blank', title, status, detail, ...(errors && errors.length > 0 ? { errors } : {}) };
}

/** The title of a problem by its status (what RFC 9110 calls it). */
export const PROBLEM_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).type(PROBLEM_TYPE).json(problemBody(404, 'Not Found', `no route for ${req.method} ${req.path}`));
};

/**
 * The one place errors become responses. AppErrors and body-parser's client errors keep their
 * status; anything else is a bug: logged with the request id, answered with a bare 500.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) {
      // A streamed body failed midway: the status is gone, so cut the connection; the client sees
      // a truncated transfer rather than a complete-looking file.
      logger.error('error while streaming a response', { method: req.method, path: req.path, err: coerceError(err).stack });
      res.destroy();
      return;
    }
    // A stream that failed before its first write set attachment headers a problem must not keep.
    res.removeHeader('Content-Disposition');
    const status = clientStatus(err);
    if (status) {
      const e = err as AppError & { type?: string };
      const errors = err instanceof AppError ? err.fieldErrors : undefined;
      const detail = err instanceof AppError ? err.message : bodyParserDetail(e);
      if (err instanceof AppError) res.set(err.headers);
      res.status(status).type(PROBLEM_TYPE).json(problemBody(status, PROBLEM_TITLES[status] ?? 'Error', detail, errors));
      return;
    }
    if (isDatabaseUnavailable(err)) {
      logger.warn('database unavailable during request', { request_id: res.locals.requestId, method: req.method, path: req.path, err: coerceError(err).message });
      res.status(503).set('Retry-After', '5').type(PROBLEM_TYPE).json(problemBody(503, PROBLEM_TITLES[503]!, 'the database is unreachable; retry shortly'));
      return;
    }
    logger.error('unhandled error in request', { request_id: res.locals.requestId, method: req.method, path: req.path, err: coerceError(err).stack });
    res.status(500).type(PROBLEM_TYPE).json(problemBody(500, PROBLEM_TITLES[500]!, 'an unexpected error occurred; it has been logged'));
  };
}

function clientStatus(err: unknown): number | undefined {
  if (err instanceof AppError) return err.status;  // includes 503 for missing configuration
  const status = (err as { status?: unknown; expose?: unknown } | null)?.status;
  // body-parser marks client errors (bad JSON, too large, bad charset) as exposable 4xx; the
  // router's URIError for a path parameter with a bad %-escape (`/api/hosts/%ZZ`) carries a 400 only.
  if (typeof status === 'number' && status >= 400 && status < 500 && ((err as { expose?: boolean }).expose || err instanceof URIError)) return status;
  return undefined;
}

function bodyParserDetail(err: { type?: string; message: string }): string {
  if (err.type === 'entity.parse.failed') return 'request body is not valid JSON';
  if (err.type === 'entity.too.large') return 'request body is too large';
  if (err instanceof URIError) return 'the path has a malformed %-escape; percent-encode path parameters as UTF-8';
  return err.message;
}
