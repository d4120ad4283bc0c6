/**
 * Expected failures carry a code and an HTTP status; the API's error middleware turns them into
 * problem+json. Anything else reaching the middleware is a bug and becomes a logged 500.
 */
export interface FieldError {
  /** Dotted path of the bad field, e.g. `body.probes.0.port`. */
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fieldErrors: FieldError[];
  /** Response headers the error calls for (WWW-Authenticate, Retry-After). */
  readonly headers: Record<string, string>;

  constructor(code: string, status: number, message: string, fieldErrors: FieldError[] = [], headers: Record<string, string> = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.fieldErrors = fieldErrors;
    this.headers = headers;
  }
}

export const notFound = (what: string) => new AppError('not_found', 404, `${what} not found`);
export const conflict = (message: string) => new AppError('conflict', 409, message);
export const badRequest = (message: string, fieldErrors: FieldError[] = []) =>
  new AppError('validation_failed', 400, message, fieldErrors);

/** Normalise anything thrown into an Error, once, at the catch site (graphile-worker's coerceError). */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  // JSON.stringify(undefined) is undefined: a rejection without a value still gets words.
  if (err === undefined || err === null) return new Error(`an error without a message (${String(err)})`);
  return new Error(typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err)));
}

/** Thrown at start-up for bad configuration; main prints the message and exits 1 without a stack. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
