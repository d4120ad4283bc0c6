import { conflict } from '../../lib/errors.ts';
import type { Pool, Queryable } from '../pool.ts';
import { isReferenceViolation, SQLSTATE, sqlState } from '../sqlstate.ts';

export interface CredentialRow {
  id: string;
  name: string;
  kind: string;
  public: Record<string, unknown>;
  secret: Buffer;
  created_at: Date;
  updated_at: Date;
  /** How many hosts reference it (from host_credentials). */
  host_count: number;
}

const SELECT = `SELECT c.*, (SELECT count(*)::int FROM host_credentials hc WHERE hc.credential_id = c.id) AS host_count FROM credentials c`;

export async function insertCredential(
  db: Queryable,
  c: { id: string; name: string; kind: string; public: Record<string, unknown>; secret: Buffer },
): Promise<CredentialRow> {
  try {
    await db.query(`INSERT INTO credentials (id, name, kind, public, secret) VALUES ($1, $2, $3, $4, $5)`, [c.id, c.name, c.kind, c.public, c.secret]);
  } catch (err) {
    throw nameConflict(err, c.name);
  }
  return (await getCredential(db, c.id))!;
}

export async function getCredential(db: Queryable, id: string): Promise<CredentialRow | undefined> {
  const { rows } = await db.query<CredentialRow>(`${SELECT} WHERE c.id = $1`, [id]);
  return rows[0];
}

export async function getCredentials(db: Queryable, ids: string[]): Promise<CredentialRow[]> {
  const { rows } = await db.query<CredentialRow>(`${SELECT} WHERE c.id = ANY ($1::uuid[])`, [ids]);
  return rows;
}

export async function listCredentials(db: Queryable, f: { kind?: string; afterName?: string; limit: number }): Promise<CredentialRow[]> {
  const { rows } = await db.query<CredentialRow>(
    `${SELECT} WHERE ($1::text IS NULL OR c.kind = $1) AND ($2::text IS NULL OR c.name > $2) ORDER BY c.name LIMIT $3`,
    [f.kind ?? null, f.afterName ?? null, f.limit],
  );
  return rows;
}

/** The credential row locked for the caller's transaction; undefined for an unknown id. */
export async function lockCredential(tx: Queryable, id: string): Promise<CredentialRow | undefined> {
  const { rows } = await tx.query<CredentialRow>(`${SELECT} WHERE c.id = $1 FOR UPDATE OF c`, [id]);
  return rows[0];
}

/** Rewrites a credential's name, public fields and sealed secret; returns the row as it is now. */
export async function rewriteCredential(
  tx: Queryable,
  id: string,
  next: { name: string; public: Record<string, unknown>; secret: Buffer },
): Promise<CredentialRow | undefined> {
  try {
    await tx.query(`UPDATE credentials SET name = $2, public = $3, secret = $4, updated_at = now() WHERE id = $1`, [id, next.name, next.public, next.secret]);
  } catch (err) {
    throw nameConflict(err, next.name);
  }
  return getCredential(tx, id);
}

/** Deletes an unused credential; one still used by hosts is refused with 409 naming them. */
export async function deleteCredential(pool: Pool, id: string): Promise<boolean> {
  try {
    const { rowCount } = await pool.query(`DELETE FROM credentials WHERE id = $1`, [id]);
    return rowCount === 1;
  } catch (err) {
    if (!isReferenceViolation(err)) throw err;
    const users = await hostsUsingCredential(pool, id);
    throw conflict(`credential is used by ${users.length} host(s): ${users.slice(0, 20).join(', ')}${users.length > 20 ? ', …' : ''}; change those hosts first`);
  }
}

export async function hostsUsingCredential(db: Queryable, id: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT h.name FROM host_credentials hc JOIN hosts h ON h.id = hc.host_id WHERE hc.credential_id = $1 ORDER BY h.name`,
    [id],
  );
  return rows.map((r) => r.name);
}

/** Replaces the set of credentials a host references (inside the host's write transaction). */
export async function setHostCredentials(db: Queryable, hostId: string, credentialIds: string[]): Promise<void> {
  await db.query(`DELETE FROM host_credentials WHERE host_id = $1 AND credential_id <> ALL ($2::uuid[])`, [hostId, credentialIds]);
  try {
    await db.query(
      `INSERT INTO host_credentials (host_id, credential_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`,
      [hostId, credentialIds],
    );
  } catch (err) {
    if (isReferenceViolation(err)) throw conflict('a credential the host references was deleted meanwhile');
    throw err;
  }
}

export async function readKeyCheck(db: Queryable): Promise<Buffer | undefined> {
  const { rows } = await db.query<{ sealed: Buffer }>(`SELECT sealed FROM secret_key_check`);
  return rows[0]?.sealed;
}

export async function writeKeyCheck(db: Queryable, sealed: Buffer): Promise<void> {
  await db.query(`INSERT INTO secret_key_check (sealed) VALUES ($1) ON CONFLICT DO NOTHING`, [sealed]);
}

function nameConflict(err: unknown, name: string): unknown {
  if (sqlState(err) === SQLSTATE.uniqueViolation) return conflict(`a credential named ${JSON.stringify(name)} already exists`);
  return err;
}
