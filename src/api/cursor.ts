import { z } from 'zod';

/**
 * Opaque page cursors: base64url of a JSON array holding the last row's sort key. Clients pass
 * `next_cursor` back unchanged; the array's shape is checked on the way in, so a cursor of another
 * operation (or a hand-made one) is a 400, not a query error.
 */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

/** A query parameter holding a cursor that decodes to `tuple`'s output. */
export function cursorParam<T extends z.ZodType>(tuple: T, description: string) {
  return z
    .string()
    .min(1)
    .max(2048)
    .transform((text, ctx): z.output<T> => {
      const decoded = tuple.safeParse(decode(text));
      if (decoded.success) return decoded.data;
      ctx.addIssue({ code: 'custom', message: 'not a cursor this operation issued; pass next_cursor back unchanged' });
      return z.NEVER;
    })
    .describe(description);
}

function decode(text: string): unknown {
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * A timestamptz as PostgreSQL prints it (microseconds kept), for keyset positions. Only real
 * instants PostgreSQL takes back: a hand-made `0000-01-01 …` or `… +99` is a 400, not a query error.
 */
export const pgTimestamp = z.string().max(64).refine(isPgTimestamp);
/** A bigint id as pg returns it (a string), within bigint's range. */
export const pgBigint = z.string().refine((v) => /^\d{1,19}$/.test(v) && BigInt(v) <= 9_223_372_036_854_775_807n);

/**
 * An ISO time (validated as such elsewhere) whose UTC year is 1–9999: what PostgreSQL stores and
 * toISOString writes back in the documented form (`0000-…` is 1 BC, `+010000-…` no date-time).
 */
export function isStorableInstant(iso: string): boolean {
  const year = new Date(iso).getUTCFullYear();
  return year >= 1 && year <= 9999;
}

const PG_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?[+-](\d{2})(?::(\d{2}))?(?::(\d{2}))?$/;

function isPgTimestamp(text: string): boolean {
  const m = PG_TIMESTAMP.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes = 0, offsetSeconds = 0] = m.slice(1).map((v) => (v === undefined ? undefined : Number(v))) as number[];
  // setUTCFullYear, not Date.UTC: the latter reads years below 100 as 19xx. A day past the month's end rolls over.
  const date = new Date(0);
  date.setUTCFullYear(year!, month! - 1, day!);
  const realDay = year! >= 1 && date.getUTCFullYear() === year && date.getUTCMonth() === month! - 1 && date.getUTCDate() === day;
  return realDay && hour! < 24 && minute! < 60 && second! < 60 && offsetHours! <= 15 && offsetMinutes < 60 && offsetSeconds < 60;
}
