import type { Scope } from '../../auth/tokens.ts';
import type { Queryable } from '../pool.ts';

/** A live session with the token it is bound to. */
export interface WebSessionRow {
  token_id: string | null;
  /** The token's name (NULL for VIGIL_ADMIN_TOKEN sessions). */
  token_name: string | null;
  scopes: Scope[] | null;
  env_token_hash: Buffer | null;
  expires_at: Date;
}

/**
 * Stores a session that lasts `ttlMs` from the database's now(), or until `tokenExpiresAt` if that
 * is sooner. Returns its expiry and the seconds left until then, both on the database's clock
 * (the one the expiry is checked against), whatever the API process's clock says.
 */
export async function insertWebSession(
  db: Queryable,
  s: { idHash: Buffer; tokenId: string | null; envTokenHash: Buffer | null; ttlMs: number; tokenExpiresAt: Date | null },
): Promise<{ expires_at: Date; seconds_left: number }> {
  const { rows } = await db.query<{ expires_at: Date; seconds_left: number }>(
    `INSERT INTO web_sessions (id_hash, token_id, env_token_hash, expires_at)
     VALUES ($1, $2, $3, LEAST(now() + $4 * interval '1 millisecond', $5::timestamptz))
     RETURNING expires_at, extract(epoch FROM expires_at - now())::float8 AS seconds_left`,
    [s.idHash, s.tokenId, s.envTokenHash, s.ttlMs, s.tokenExpiresAt],
  );
  return rows[0]!;
}

/**
 * The session with this id hash if it and its token are both still live. The token is joined on
 * every request (primary-key lookups), so a revoked token ends its sessions at once.
 */
export async function findLiveWebSession(db: Queryable, idHash: Buffer): Promise<WebSessionRow | undefined> {
  const { rows } = await db.query<WebSessionRow>(
    `SELECT s.token_id, t.name AS token_name, t.scopes, s.env_token_hash, s.expires_at
       FROM web_sessions s LEFT JOIN api_tokens t ON t.id = s.token_id
      WHERE s.id_hash = $1 AND s.expires_at > now()
        AND (s.token_id IS NULL OR (t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())))`,
    [idHash],
  );
  return rows[0];
}

/** Which of these id hashes (hex) are sessions still live: not signed out, not expired. Their tokens are checked apart. */
export async function liveWebSessionHashes(db: Queryable, idHashes: Buffer[]): Promise<Set<string>> {
  const { rows } = await db.query<{ id_hash: Buffer }>(`SELECT id_hash FROM web_sessions WHERE id_hash = ANY ($1::bytea[]) AND expires_at > now()`, [idHashes]);
  return new Set(rows.map((r) => r.id_hash.toString('hex')));
}

export async function deleteWebSession(db: Queryable, idHash: Buffer): Promise<void> {
  await db.query(`DELETE FROM web_sessions WHERE id_hash = $1`, [idHash]);
}

/** Removes sessions past their expiry (called at sign-in: cheap, index-backed, keeps the table small). */
export async function deleteExpiredWebSessions(db: Queryable): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM web_sessions WHERE expires_at <= now()`);
  return rowCount ?? 0;
}
