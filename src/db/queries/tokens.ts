import type { Scope } from '../../auth/tokens.ts';
import type { Queryable } from '../pool.ts';

export interface TokenRow {
  id: string;
  name: string;
  scopes: Scope[];
  prefix: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const COLUMNS = 'id, name, scopes, prefix, created_at, expires_at, revoked_at, last_used_at';

export async function insertToken(
  db: Queryable,
  t: { id: string; name: string; scopes: Scope[]; hash: Buffer; prefix: string; expiresInDays: number | null },
): Promise<TokenRow> {
  // Expiry is compared with the database's now() at every request, so it is set on that clock too.
  const { rows } = await db.query<TokenRow>(
    `INSERT INTO api_tokens (id, name, scopes, token_hash, prefix, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(days => $6::int)) RETURNING ${COLUMNS}`,
    [t.id, t.name, t.scopes, t.hash, t.prefix, t.expiresInDays],
  );
  return rows[0]!;
}

/** The live token with this hash (not revoked, not expired), if any; notes when it was last used. */
export async function useToken(db: Queryable, hash: Buffer): Promise<TokenRow | undefined> {
  const { rows } = await db.query<TokenRow>(
    `SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
    [hash],
  );
  const row = rows[0];
  // Writing on every request would turn each read into a write: once a minute is enough.
  if (row && (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000)) {
    await db.query(`UPDATE api_tokens SET last_used_at = now() WHERE id = $1`, [row.id]);
  }
  return row;
}

export async function listTokens(db: Queryable): Promise<TokenRow[]> {
  const { rows } = await db.query<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at, id`);
  return rows;
}

export async function revokeToken(db: Queryable, id: string): Promise<TokenRow | undefined> {
  const { rows } = await db.query<TokenRow>(
    `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`,
    [id],
  );
  return rows[0];
}

export async function countTokens(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM api_tokens`);
  return rows[0]!.n;
}

/** Of these token ids, the ones still live (not revoked, not expired): open event streams of the others are closed. */
export async function liveTokenIds(db: Queryable, ids: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id::text AS id FROM api_tokens WHERE id::text = ANY ($1::text[]) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
    [ids],
  );
  return new Set(rows.map((r) => r.id));
}
