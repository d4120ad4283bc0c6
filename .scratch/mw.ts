import pg from 'pg';
import { applyOpenWindows } from '../src/db/queries/maintenance-windows.ts';
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:55432/claim_plan' });
await c.connect();
const sent: [string, unknown[]][] = [];
await applyOpenWindows({ query: async (t: string, v: unknown[]) => { sent.push([t, v]); return { rows: [] }; } } as never, [], 5);
await c.query('BEGIN');
for (let i = 0; i < 2; i++) {
  const { rows } = await c.query('EXPLAIN (ANALYZE, BUFFERS) ' + sent[0]![0], sent[0]![1]);
  if (i === 1) console.log(rows.map((r) => r['QUERY PLAN']).join('\n'));
}
await c.query('ROLLBACK');
await c.end();
