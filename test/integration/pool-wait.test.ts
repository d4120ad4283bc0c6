/**
 * A pool whose every connection is busy fails a query with pg-pool's "timeout exceeded when trying
 * to connect". That is the database being unavailable to this process for now, not a bug: the
 * recorder must hold its results (not fail the jobs) and the API must answer 503 (not 500).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { createPool, type Client, type Pool } from '../../src/db/pool.ts';
import { isDatabaseUnavailable } from '../../src/db/sqlstate.ts';
import { createHealthMachine } from '../../src/machine/health-machine.ts';
import { startBoss, type Boss } from '../../src/queue/boss.ts';
import { ResultRecorder } from '../../src/queue/result-recorder.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { memoryLogger, waitFor } from '../helpers/vigil.ts';

let db: TestDatabase;
let pool: Pool;
let held: Client | undefined;
const release = () => {
  held?.release();
  held = undefined;
};
let boss: Boss;

beforeAll(async () => {
  db = await createTestDatabase();
  // One connection, taken by the test: every other query waits 2 s, then times out.
  pool = createPool(db.url, 1, 'pool-wait-test', 2000);
  held = await pool.connect();
});
afterAll(async () => {
  release();
  await boss?.stop({ graceful: false });
  await pool?.end();
  await db?.drop();
});

describe('a pool wait timeout', () => {
  it('is classified as the database being unavailable', async () => {
    const err = await pool.query('SELECT 1').then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).toMatch(/timeout exceeded when trying to connect/);
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it('makes the recorder hold a result instead of failing its job', async () => {
    const config = loadConfig({ DATABASE_URL: db.url });
    const { logger, transport } = memoryLogger();
    boss = await startBoss(db.url, config, logger);
    const recorder = new ResultRecorder({ pool, boss, config, machine: createHealthMachine(config.machine), logger });
    const job = { hostId: randomUUID(), jobId: randomUUID(), checkedBy: 'scheduler', queue: 'checks', attempt: { id: randomUUID(), retryCount: 0 }, settle: 'complete', finished: null };
    void recorder.record(job as never);
    await waitFor('the recorder to report holding', async () => transport.entries.find((e) => e.message === 'database unavailable; holding check results'));
    expect(recorder.backlog).toBeGreaterThan(0);
    expect(transport.entries.find((e) => String(e.message).includes('pg-boss will retry the job'))).toBeUndefined();
    // Once a connection is free the held result is written (its host does not exist: host_deleted).
    release();
    await recorder.drained();
    expect(recorder.backlog).toBe(0);
  });
});
