import { randomUUID } from 'node:crypto';
import type { Pool } from '../db/pool.ts';
import { countTokens, insertToken, useToken, type TokenRow } from '../db/queries/tokens.ts';
import { AppError } from '../lib/errors.ts';
import { generateToken, hashToken, tokensEqual, type Scope } from './tokens.ts';

/** Who is calling: a stored token, or the VIGIL_ADMIN_TOKEN from the environment. */
export interface Principal {
  tokenId: string;
  name: string;
  scopes: Scope[];
}

export async function createToken(
  pool: Pool,
  t: { name: string; scopes: Scope[]; expiresInDays?: number },
): Promise<{ row: TokenRow; token: string }> {
  const { token, hash, prefix } = generateToken();
  const row = await insertToken(pool, { id: randomUUID(), name: t.name, scopes: t.scopes, hash, prefix, expiresInDays: t.expiresInDays ?? null });
  return { row, token };
}

export const unauthorized = (detail: string) => new AppError('unauthorized', 401, detail);
export const forbidden = (detail: string) => new AppError('forbidden', 403, detail);

/**
 * Resolves an Authorization header to a principal, or throws 401. The token is never echoed.
 */
export async function authenticate(pool: Pool, adminToken: string | undefined, header: string | undefined): Promise<Principal> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) throw unauthorized('send Authorization: Bearer <token>');
  const presented = match[1]!;
  if (adminToken && tokensEqual(presented, adminToken)) return { tokenId: 'env', name: 'VIGIL_ADMIN_TOKEN', scopes: ['admin'] };
  const row = await useToken(pool, hashToken(presented));
  if (!row) throw unauthorized('the token is unknown, revoked or expired');
  return { tokenId: row.id, name: row.name, scopes: row.scopes };
}

/**
 * In embedded mode, the first start creates an admin token so the quick start works: returned
 * (to be printed once) only when no token existed yet.
 */
export async function bootstrapAdminToken(pool: Pool): Promise<string | undefined> {
  if ((await countTokens(pool)) > 0) return undefined;
  return (await createToken(pool, { name: 'bootstrap-admin', scopes: ['admin'] })).token;
}
