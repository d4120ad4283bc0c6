import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config/config.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { startBoss } from '../../src/queue/boss.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of a maintenance database on the test server (to create and drop databases). */
    adminUrl: string;
    /** Name of the migrated template database each test file copies. */
    templateDatabase: string;
  }
}

/**
 * Builds one migrated template database (Vigil's migrations and pg-boss's schema) on the server
 * named by DATABASE_URL, or on an embedded PostgreSQL when it is unset. Each test file then copies
 * it (test/helpers/db.ts), as graphile-worker's tests do.
 */
export default async function setup(project: TestProject) {
  let embedded: EmbeddedDatabase | undefined;
  let dataDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-test-pg-'));
    embedded = await startEmbeddedPostgres(dataDir);
    adminUrl = embedded.adminUrl;
  }
  const templateDatabase = `vigil_template_${process.pid}`;
  await admin(adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${templateDatabase}`);
    await c.query(`CREATE DATABASE ${templateDatabase}`);
  }).catch((err) => {
    throw new Error(
      `cannot prepare the test database at ${redact(adminUrl!)}: ${(err as Error).message}\n` +
        'Start PostgreSQL (e.g. `pg_ctlcluster 15 main start`) or unset DATABASE_URL to use an embedded server.',
    );
  });
  await prepareTemplate(withDatabase(adminUrl, templateDatabase));
  project.provide('adminUrl', adminUrl);
  project.provide('templateDatabase', templateDatabase);

  return async () => {
    await admin(adminUrl!, (c) => c.query(`DROP DATABASE IF EXISTS ${templateDatabase} WITH (FORCE)`));
    await embedded?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}

async function prepareTemplate(url: string): Promise<void> {
  const pool = createPool(url, 2);
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  const boss = await startBoss(url, loadConfig({ DATABASE_URL: url }), createSilentLogger());
  await boss.stop({ graceful: false });
}

export async function admin<T>(adminUrl: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
