import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../src/config/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { createPool } from '../src/db/pool.ts';
import { createSilentLogger } from '../src/lib/logger.ts';
import { startBoss } from '../src/queue/boss.ts';
import { produceDueChecks } from '../src/queue/producer.ts';
import { claimDueHosts } from '../src/db/queries/claims.ts';
import { CHECK_QUEUES } from '../src/queue/names.ts';
import { insertHost } from '../src/db/queries/hosts.ts';
import { initialHealth } from '../src/machine/apply-result.ts';
import { createHealthMachine } from '../src/machine/health-machine.ts';

const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:55432/postgres' });
await admin.connect();
await admin.query('DROP DATABASE IF EXISTS claim_plan');
await admin.query('CREATE DATABASE claim_plan');
await admin.end();
const url = 'postgres://postgres@127.0.0.1:55432/claim_plan';
const config = loadConfig({ DATABASE_URL: url });
const pool = createPool(url, 5);
await migrate(pool);
const logger = createSilentLogger();
const boss = await startBoss(url, config, logger);
const machine = createHealthMachine(config.machine);
const N = Number(process.argv[2] ?? 10000);
const values = [];
await pool.query(`INSERT INTO hosts (id, name, address, probes, enabled, maintenance, tags, machine_snapshot, monitoring_state, check_priority, next_check_time)
  SELECT gen_random_uuid(), 'h' || i, '127.0.0.1', '[{"type":"tcp","port":1}]', true, false, '{}', $1, 'HEALTHY', 3, now() - i * interval '1 ms' FROM generate_series(1, $2) i`, [JSON.stringify(initialHealth(machine)), N]);
// completed jobs, as 5 minutes of them would be
const claimed = await produceDueChecks({ pool, boss, config, logger });
console.log('claimed', claimed);
await pool.query('VACUUM ANALYZE');
const c = await pool.connect();
await c.query('BEGIN');
const sent: string[] = [];
const spy = { query: (t: string, v: unknown[]) => { sent.push(t); return c.query(t, v); } };
await claimDueHosts(spy as never, { batchSize: 500, groupDefaultLimit: 1, checkQueues: CHECK_QUEUES });
for (let i = 0; i < 3; i++) {
  const t = Date.now();
  const { rows } = await c.query('EXPLAIN (ANALYZE, BUFFERS) ' + sent[0], [500, 1, CHECK_QUEUES]);
  if (i === 2) console.log(rows.map((r) => r['QUERY PLAN']).join('\n'));
  console.log('ms', Date.now() - t);
}
await c.query('ROLLBACK');
c.release();
await boss.stop({ graceful: false });
await pool.end();
