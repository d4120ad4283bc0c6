import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Pool } from './pool.ts';
import { withTransaction } from './transaction.ts';
import { coerceError } from '../lib/errors.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../db/migrations/', import.meta.url));

export interface Migration {
  /** The file name, e.g. `0001_hosts_and_history.sql`; its number orders it. */
  name: string;
  sql: string;
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => /^\d{4}_[\w-]+\.sql$/.test(n)).sort();
  return Promise.all(names.map(async (name) => ({ name, sql: await readFile(dir + name, 'utf8') })));
}

/**
 * Applies pending migrations in order, each in its own transaction, recorded in vigil_migrations.
 * Safe when several processes start at once: each inserts the migration's row first, so a second
 * process blocks on the first one's uncommitted row and then sees a unique violation, meaning
 * "someone else applied it" (graphile-worker's approach). Returns the names it applied.
 */
export async function migrate(pool: Pool, migrations?: Migration[]): Promise<string[]> {
  await withTransaction(pool, async (client) => {
    // Concurrent CREATE TABLE IF NOT EXISTS can still collide on the catalog; a transaction-level
    // advisory lock makes the bootstrap one-at-a-time. IF NOT EXISTS only for this bookkeeping table.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('vigil_migrations'))`);
    await client.query(`CREATE TABLE IF NOT EXISTS vigil_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  const applied: string[] = [];
  for (const migration of migrations ?? (await readMigrations())) {
    if (await applyOne(pool, migration)) applied.push(migration.name);
  }
  return applied;
}

async function applyOne(pool: Pool, { name, sql }: Migration): Promise<boolean> {
  try {
    return await withTransaction(pool, async (client) => {
      const claim = await client.query(`INSERT INTO vigil_migrations (name) VALUES ($1) ON CONFLICT DO NOTHING`, [name]);
      if (claim.rowCount === 0) return false;
      await client.query(sql);
      return true;
    });
  } catch (err) {
    throw new Error(`migration ${name} failed: ${coerceError(err).message}`, { cause: err });
  }
}
