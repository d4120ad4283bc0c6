import { coerceError } from '../lib/errors.ts';

/** SQLSTATE codes Vigil reacts to, by name. */
export const SQLSTATE = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  /** PostgreSQL 18 reports ON DELETE RESTRICT with this instead of 23503. */
  restrictViolation: '23001',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  invalidTextRepresentation: '22P02',
} as const;

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Errors worth retrying the whole transaction for. */
export function isRetryable(err: unknown): boolean {
  const code = sqlState(err);
  return code === SQLSTATE.serializationFailure || code === SQLSTATE.deadlockDetected;
}

/** A write refused because other rows still reference (or no longer offer) what it touches. */
export function isReferenceViolation(err: unknown): boolean {
  const code = sqlState(err);
  return code === SQLSTATE.foreignKeyViolation || code === SQLSTATE.restrictViolation;
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '53300']);

/**
 * The database cannot be reached right now (down, restarting, out of connections). pg-pool's
 * "timeout exceeded when trying to connect" (every pooled connection busy for connectionTimeoutMillis)
 * belongs here too: it passes like an outage, so the API answers 503 and the recorder holds results.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = sqlState(err);
  if (code && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  const message = coerceError(err).message;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
}
