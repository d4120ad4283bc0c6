import { describe, expect, it } from 'vitest';
import { captureBulkPlanStatement, cloneHosts, explainPlan } from '../../bench/scale.ts';
import { writeBulkHosts } from '../../src/db/queries/hosts-bulk.ts';
import { useTestDatabase } from '../helpers/db.ts';

// Issue 19's import slowdown (161 hosts/s past 40,000 hosts) was a plan: planBulkHosts' name lookup
// went through the trigram index or a sequential scan once the statistics no longer matched the
// table. The lookup must use the unique btree (hosts_name_key) whatever the statistics say. This
// test asserts the plan, not a speed (speed is the benchmark's: bench/scale-import.ts). At 20,000
// hosts with an empty table's statistics, the plain `name = x.name` lookup is planned through
// hosts_name_trgm_idx (checked by reverting BY_NAME), so this fails if the fix goes.
const ctx = useTestDatabase();

const HOSTS = 20_000;

async function planFor(names: string[]) {
  return explainPlan(ctx.db.url, await captureBulkPlanStatement(names));
}

describe('planBulkHosts name lookup', () => {
  it('goes through hosts_name_key with statistics of an empty table, and after ANALYZE, at 20,000 hosts', async () => {
    await writeBulkHosts(
      ctx.pool,
      [{ index: 0, id: crypto.randomUUID(), name: 'tpl', address: '127.0.0.1', probes: [{ type: 'tcp', port: 9 }], enabled: true, maintenance: false, tags: [], group: null, credentialIds: [] }],
      { upsert: false, machineSnapshot: {} as never, state: 'HEALTHY', priority: 0, dueInMs: () => 0, dependsOn: new Map() },
    );
    // Statistics taken while the table was (nearly) empty, then the table grows: what an import meets (autovacuum off here).
    await ctx.pool.query('ANALYZE hosts');
    await cloneHosts(ctx.db.url, 'tpl', 'h-', 0, HOSTS);
    // A request of 5,000 names, half of them existing.
    const names = Array.from({ length: 5000 }, (_, i) => (i % 2 ? `h-${i * 7}` : `new-${i}`));
    const stale = await planFor(names);
    expect(stale.indexes).toContain('hosts_name_key');
    expect(stale.indexes.filter((i) => i.includes('trgm'))).toEqual([]);
    expect(stale.plan).not.toMatch(/Seq Scan on hosts/);

    await ctx.pool.query('ANALYZE hosts');
    const fresh = await planFor(names);
    expect(fresh.indexes).toContain('hosts_name_key');
    expect(fresh.indexes.filter((i) => i.includes('trgm'))).toEqual([]);
    expect(fresh.plan).not.toMatch(/Seq Scan on hosts/);
    expect((await ctx.pool.query('SELECT count(*)::int AS n FROM hosts')).rows[0].n).toBe(HOSTS + 1);
  }, 120_000);
});
