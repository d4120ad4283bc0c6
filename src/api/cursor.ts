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

/** A timestamptz as PostgreSQL prints it (microseconds kept), for keyset positions. */
export const pgTimestamp = z.string().min(1).max(64);
/** A bigint id as pg returns it (a string). */
export const pgBigint = z.string().regex(/^\d{1,19}$/);
