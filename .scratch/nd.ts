import pg from 'pg';
import { nextDueHosts, oldestLagSeconds } from '../src/db/queries/introspection.ts';
import { CHECK_QUEUES } from '../src/queue/names.ts';
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:55432/claim_plan' });
await c.connect();
const sent: [string, unknown[]][] = [];
const spy = { query: async (t: string, v: unknown[]) => { sent.push([t, v]); return { rows: [{}] }; } } as never;
await nextDueHosts(spy, 10, CHECK_QUEUES);
await oldestLagSeconds(spy, CHECK_QUEUES);
for (const [t, v] of sent) {
  const s = Date.now();
  const { rows } = await c.query('EXPLAIN (ANALYZE) ' + t, v);
  console.log(rows.map((r) => r['QUERY PLAN']).join('\n').slice(0, 3000));
  console.log('ms', Date.now() - s);
}
await c.end();
