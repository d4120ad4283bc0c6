import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { migrate, readMigrations } from '../../src/db/migrate.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { admin, withDatabase } from '../helpers/global-setup.ts';

// An empty database (not the template): migrations run here from scratch.
const name = `vigil_migrate_${process.pid}_${Date.now()}`;
let pools: Pool[] = [];

beforeAll(async () => {
  await admin(inject('adminUrl'), (c) => c.query(`CREATE DATABASE ${name}`));
  pools = Array.from({ length: 4 }, () => createPool(withDatabase(inject('adminUrl'), name), 2));
});
afterAll(async () => {
  for (const p of pools) await p.end();
  await admin(inject('adminUrl'), (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
});

describe('migrations', () => {
  it('apply exactly once when four processes start at the same time', async () => {
    const results = await Promise.all(pools.map((p) => migrate(p)));
    const files = (await readMigrations()).map((m) => m.name);
    // Every migration was applied by exactly one of them.
    expect(results.flat().sort()).toEqual(files);
    const { rows } = await pools[0]!.query('SELECT name FROM vigil_migrations ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(files);
    const tables = await pools[0]!.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
    expect(tables.rows.map((r) => r.tablename)).toEqual(
      expect.arrayContaining(['credentials', 'host_credentials', 'host_groups', 'host_monitoring_history', 'hosts', 'vigil_migrations', 'vigil_workers']),
    );
  });

  it('leave no GIN index on hosts, the row every check writes twice (search lives in host_search)', async () => {
    // A check's updates of the host row are not HOT (next_check_time and change_xid are indexed),
    // so each writes every index of hosts: a GIN index there costs some twenty entries a check.
    const { rows } = await pools[0]!.query(
      `SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
        WHERE i.indrelid = 'hosts'::regclass AND am.amname = 'gin'`,
    );
    expect(rows).toEqual([]);
    const search = await pools[0]!.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'host_search' ORDER BY indexname`);
    expect(search.rows.map((r) => r.indexname)).toEqual(expect.arrayContaining(['host_search_probe_types_idx', 'host_search_tags_idx']));
  });

  it('are a no-op on an up-to-date database', async () => {
    expect(await migrate(pools[0]!)).toEqual([]);
  });

  it('roll back a failing migration whole and name it', async () => {
    const bad = [{ name: '9999_broken.sql', sql: 'CREATE TABLE half_done (id int); SELECT no_such_function();' }];
    await expect(migrate(pools[0]!, bad)).rejects.toThrow(/migration 9999_broken.sql failed/);
    const left = await pools[0]!.query(`SELECT to_regclass('half_done') AS t, (SELECT count(*)::int FROM vigil_migrations WHERE name = '9999_broken.sql') AS n`);
    expect(left.rows[0]).toEqual({ t: null, n: 0 });
  });

  it("turn PostgreSQL's JIT compiler off for every new connection to the database", async () => {
    // A stale-statistics estimate once made the recorder's recovery walk compile for 509 ms of its 520 ms.
    const fresh = createPool(withDatabase(inject('adminUrl'), name), 1);
    try {
      expect((await fresh.query('SHOW jit')).rows[0]).toEqual({ jit: 'off' });
    } finally {
      await fresh.end();
    }
  });

  it('creates the indexes the scheduler and history queries rely on', async () => {
    const { rows } = await pools[0]!.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`);
    const defs = Object.fromEntries(rows.map((r) => [r.indexname, r.indexdef]));
    expect(defs.hosts_due_idx).toMatch(/\(next_check_time\) WHERE \(enabled AND \(NOT maintenance\) AND \(maintenance_window_id IS NULL\)\)/);
    expect(defs.history_host_time_idx).toMatch(/\(host_id, check_time DESC\)/);
    // HEALTHY checks (most of them) are left out of the state index (0104); any other state proves the predicate.
    expect(defs.history_state_time_idx).toMatch(/\(monitoring_state, check_time DESC\) WHERE \(monitoring_state <> 'HEALTHY'::text\)/);
    expect(defs.history_time_idx).toMatch(/\(check_time DESC\)/);
  });

  it('serve a filter by a failing state from the partial state index', async () => {
    const db = pools[0]!;
    // The history page's filter, as listHistory sends it (HISTORY_FILTER_SQL), planned with the state bound.
    const { rows } = await db.query(
      `EXPLAIN SELECT * FROM host_monitoring_history m
        WHERE ($1::uuid IS NULL OR m.host_id = $1) AND ($2::text IS NULL OR m.monitoring_state = $2)
        ORDER BY m.check_time DESC LIMIT 10`,
      [null, 'DOWN'],
    );
    expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/history_p\d+_monitoring_state_check_time_idx|history_default_monitoring_state_check_time_idx|history_state_time_idx/);
  });
});
