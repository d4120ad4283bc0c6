import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Pool } from '../db/pool.ts';
import { useToken } from '../db/queries/tokens.ts';
import { deleteExpiredWebSessions, deleteWebSession, findLiveWebSession, insertWebSession, liveWebSessionHashes } from '../db/queries/web-sessions.ts';
import { MINUTE_MS } from '../lib/time.ts';
import { forbidden, unauthorized, type Principal } from './token-service.ts';
import { hashToken, tokensEqual } from './tokens.ts';

/** The dashboard's session cookie (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'vigil_session';
/** The header a cookie-authenticated write must carry: a cross-site form or image cannot send it. */
export const CSRF_HEADER = 'x-vigil-csrf';
/** How long a session lasts at most; never longer than its token. */
export const SESSION_TTL_MS = 12 * 60 * MINUTE_MS;

/** A signed-in browser: who it acts as, and the CSRF value its writes must present. */
export interface WebSession {
  principal: Principal;
  expiresAt: Date;
  csrfToken: string;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * The CSRF value is derived from the session id (which only the cookie holds), so it needs no
 * storage and the page can fetch it again after a reload; knowing it does not reveal the id.
 */
export function csrfTokenFor(sessionId: string): string {
  return createHash('sha256').update(`vigil-csrf:${sessionId}`, 'utf8').digest('base64url');
}

/**
 * Exchanges an API token for a new session, or throws 401 with a message a person can act on. The
 * expiry is set on the database's clock; `maxAgeSeconds` is what is left of it, for the cookie.
 */
export async function signIn(
  pool: Pool,
  adminToken: string | undefined,
  presented: string,
): Promise<WebSession & { sessionId: string; maxAgeSeconds: number }> {
  const sessionId = randomBytes(32).toString('base64url');
  const stored = { idHash: sha256(sessionId), ttlMs: SESSION_TTL_MS };
  let principal: Principal;
  let session: { expires_at: Date; seconds_left: number };
  if (adminToken && tokensEqual(presented, adminToken)) {
    principal = { tokenId: 'env', name: 'VIGIL_ADMIN_TOKEN', scopes: ['admin'] };
    session = await insertWebSession(pool, { ...stored, tokenId: null, envTokenHash: hashToken(adminToken), tokenExpiresAt: null });
  } else {
    const row = await useToken(pool, hashToken(presented));
    if (!row) throw unauthorized('that token is unknown, revoked or expired: check it and try again');
    principal = { tokenId: row.id, name: row.name, scopes: row.scopes };
    session = await insertWebSession(pool, { ...stored, tokenId: row.id, envTokenHash: null, tokenExpiresAt: row.expires_at });
  }
  await deleteExpiredWebSessions(pool);
  return { sessionId, principal, expiresAt: session.expires_at, maxAgeSeconds: Math.max(1, Math.floor(session.seconds_left)), csrfToken: csrfTokenFor(sessionId) };
}

/** The live session for a cookie value, or undefined (unknown, expired, or its token revoked). */
export async function resolveSession(pool: Pool, adminToken: string | undefined, sessionId: string): Promise<WebSession | undefined> {
  if (!/^[\w-]{43}$/.test(sessionId)) return undefined;
  const row = await findLiveWebSession(pool, sha256(sessionId));
  if (!row) return undefined;
  const csrfToken = csrfTokenFor(sessionId);
  if (row.token_id) return { principal: { tokenId: row.token_id, name: row.token_name!, scopes: row.scopes! }, expiresAt: row.expires_at, csrfToken };
  // A VIGIL_ADMIN_TOKEN session lives only while the variable still holds the same token.
  if (!adminToken || !row.env_token_hash || !timingSafeEqual(row.env_token_hash, hashToken(adminToken))) return undefined;
  return { principal: { tokenId: 'env', name: 'VIGIL_ADMIN_TOKEN', scopes: ['admin'] }, expiresAt: row.expires_at, csrfToken };
}

/** Which of these session ids are still live (not signed out, not expired): long responses check theirs now and then. */
export async function liveSessionIds(pool: Pool, sessionIds: string[]): Promise<Set<string>> {
  const live = await liveWebSessionHashes(pool, sessionIds.map(sha256));
  return new Set(sessionIds.filter((id) => live.has(sha256(id).toString('hex'))));
}

export async function signOut(pool: Pool, sessionId: string): Promise<void> {
  await deleteWebSession(pool, sha256(sessionId));
}

/** 403 unless a cookie-authenticated write carries the session's CSRF value. */
export function verifyCsrf(session: WebSession, presented: string | undefined): void {
  const expected = Buffer.from(session.csrfToken);
  const given = Buffer.from(presented ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw forbidden(`a write with the session cookie must send the ${CSRF_HEADER} header from GET /api/session`);
  }
}
