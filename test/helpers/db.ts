import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { admin, withDatabase } from './global-setup.ts';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh copy of the migrated template database, for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('adminUrl');
  const name = `vigil_test_${randomBytes(5).toString('hex')}`;
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`));
  return {
    url: withDatabase(adminUrl, name),
    name,
    drop: () => admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** What useTestDatabase hands a test file; read it inside tests and hooks, once beforeAll has run. */
export interface TestDatabaseContext {
  readonly db: TestDatabase;
  /** A small pool of the test's own on the database, apart from any Vigil's. */
  readonly pool: Pool;
}

/**
 * Gives the calling test file (or describe block) its own copy of the template database and a pool
 * on it: created in beforeAll, closed and dropped in afterAll.
 */
export function useTestDatabase(options: { poolSize?: number } = {}): TestDatabaseContext {
  let db: TestDatabase | undefined;
  let pool: Pool | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url, options.poolSize ?? 2);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });
  return {
    get db() {
      return started(db, 'the test database');
    },
    get pool() {
      return started(pool, 'the test pool');
    },
  };
}

/** The value a beforeAll hook set, or a clear error when read before it ran. */
export function started<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not there yet: read it inside a test or hook, after beforeAll`);
  return value;
}
