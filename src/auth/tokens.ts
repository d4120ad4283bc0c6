import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a token may do. admin includes everything; read and check are disjoint slices. */
export const SCOPES = ['read', 'check', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const TOKEN_PREFIX = 'vgl_';
const PREFIX_SHOWN = 12;

/** A new random token (32 bytes), its hash for storage and a short prefix for lists. */
export function generateToken(): { token: string; hash: Buffer; prefix: string } {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token), prefix: token.slice(0, PREFIX_SHOWN) };
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Constant-time comparison of a presented token with a known one (e.g. VIGIL_ADMIN_TOKEN). */
export function tokensEqual(presented: string, known: string): boolean {
  return timingSafeEqual(hashToken(presented), hashToken(known));
}

/** Whether a token with `granted` scopes may call a route that accepts `accepted`. */
export function scopeAllows(granted: readonly Scope[], accepted: readonly Scope[]): boolean {
  return granted.includes('admin') || granted.some((s) => accepted.includes(s));
}
