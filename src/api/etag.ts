import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type { Reply } from './route.ts';

/**
 * Conditional GETs for pollers: a response carries an ETag naming exactly the row versions it was
 * made from, and a request whose If-None-Match names it again gets 304 without a body (and, where
 * the handler checks before its expensive reads, without them).
 */

/** A strong ETag over the given parts (row ids and versions, the query). */
export function etagOf(parts: readonly string[]): string {
  return `"${createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 32)}"`;
}

/** Whether If-None-Match names `etag` (weak comparison, as RFC 9110 prescribes for If-None-Match) or is `*`. */
export function matchesIfNoneMatch(req: Request, etag: string): boolean {
  const header = req.get('if-none-match');
  if (!header) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

/** Headers of a response that has an ETag: pollers must revalidate every time, but may keep the body. */
export function etagHeaders(etag: string): Record<string, string> {
  return { ETag: etag, 'Cache-Control': 'no-cache' };
}

/** The answer when If-None-Match already names the current version. */
export function notModified(etag: string): Reply {
  return { status: 304, headers: etagHeaders(etag) };
}

/** The documented 304 and ETag header of a route that supports conditional GETs. */
export const NOT_MODIFIED = { description: 'Not modified: If-None-Match names the current ETag (no body)' };
export const ETAG_HEADER = { ETag: 'Version of this answer; send it back in If-None-Match to get 304 while nothing changed' };
