import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { lockDueHosts } from '../../src/db/queries/claims.ts';
import { withTransaction } from '../../src/db/transaction.ts';
import { insertHost } from '../../src/db/queries/hosts.ts';
import { upsertGroup } from '../../src/db/queries/groups.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { initialHealth } from '../../src/machine/apply-result.ts';
import { createHealthMachine } from '../../src/machine/health-machine.ts';
import { firstCheckDelayMs } from '../../src/machine/schedule.ts';
import { startBoss, type Boss } from '../../src/queue/boss.ts';
import { CHECK_QUEUES, GROUP_TIERS, hostsOfJob, QUEUES, type CheckJobData } from '../../src/queue/names.ts';
import { produceDueChecks } from '../../src/queue/producer.ts';
import { startCheckWorker } from '../../src/queue/worker.ts';
import { waitFor } from '../helpers/vigil.ts';
import { useTestDatabase } from '../helpers/db.ts';

const logger = createSilentLogger();
const machine = createHealthMachine(loadConfig({}).machine);
const ctx = useTestDatabase();
let config: Config;
// Two producers, each with its own pool and pg-boss, as two scheduler processes would have.
let producers: { pool: Pool; boss: Boss }[];

async function addDueHosts(count: number, priority: (i: number) => number = () => 3, dueAgoMs = 1000): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    ids.push(id);
    await insertHost(producers[0]!.pool, {
      id, name: `h-${id}`, address: '127.0.0.1', probes: [{ type: 'tcp', port: 1 }], enabled: true, maintenance: false, tags: [], group: null,
      machineSnapshot: initialHealth(machine), state: 'HEALTHY', priority: priority(i), dueInMs: -dueAgoMs - i * 1000,
    });
  }
  return ids;
}

async function queuedJobs(): Promise<{ id: string; data: CheckJobData; priority: number }[]> {
  const { rows } = await producers[0]!.pool.query(`SELECT id, data, priority FROM pgboss.job WHERE name = $1 AND state = 'created'`, [QUEUES.checks]);
  return rows;
}

beforeAll(async () => {
  config = loadConfig({ DATABASE_URL: ctx.db.url, VIGIL_CLAIM_BATCH_SIZE: '25', VIGIL_LEASE_SECONDS: '1', VIGIL_CHECK_TIMEOUT_MS: '400', VIGIL_LISTEN_NOTIFY: 'false' });
  producers = [];
  for (let i = 0; i < 2; i++) producers.push({ pool: createPool(ctx.db.url, 5), boss: await startBoss(ctx.db.url, config, logger) });
});
afterAll(async () => {
  for (const p of producers ?? []) {
    await p.boss.stop({ graceful: false });
    await p.pool.end();
  }
});

beforeEach(async () => {
  await producers[0]!.pool.query(`DELETE FROM hosts; DELETE FROM pgboss.job WHERE name = '${QUEUES.checks}'`);
});

describe('the producer', () => {
  it('enqueues each due host exactly once when two producers race', async () => {
    const ids = await addDueHosts(300);
    const deps = (p: (typeof producers)[number]) => ({ ...p, config, logger });
    const counts = await Promise.all([
      produceDueChecks(deps(producers[0]!)), produceDueChecks(deps(producers[1]!)),
      produceDueChecks(deps(producers[0]!)), produceDueChecks(deps(producers[1]!)),
    ]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(300);
    const jobs = await queuedJobs();
    const carried = jobs.flatMap((j) => hostsOfJob(j.data).map((h) => ({ hostId: h.host_id, jobId: j.id })));
    expect(carried).toHaveLength(300);
    expect(new Set(carried.map((c) => c.hostId))).toEqual(new Set(ids));
    // Hosts due together share jobs, none carrying more than VIGIL_CHECKS_PER_JOB.
    expect(jobs.length).toBeLessThan(300 / 4);
    expect(Math.max(...jobs.map((j) => hostsOfJob(j.data).length))).toBeLessThanOrEqual(config.producer.checksPerJob);
    // Each host's lease names exactly the job carrying it, created in the same transaction.
    const { rows } = await producers[0]!.pool.query('SELECT id, lease_job_id, next_check_time FROM hosts');
    const jobByHost = new Map(carried.map((c) => [c.hostId, c.jobId]));
    for (const r of rows) expect(r.lease_job_id).toBe(jobByHost.get(r.id));
    // And nothing is due any more: a third pass finds no work.
    expect(await produceDueChecks(deps(producers[0]!))).toBe(0);
  });

  it('claims the highest priority first, then the longest overdue', async () => {
    // Host i is due (1 + i) s ago: a larger i is more overdue. Every third host is priority 9.
    const ids = await addDueHosts(60, (i) => (i % 3 === 0 ? 9 : 3));
    const claimed = await withTransaction(producers[0]!.pool, (tx) => lockDueHosts(tx, { batchSize: 25, groupDefaultLimit: 1, checkQueues: CHECK_QUEUES }));
    const high = ids.filter((_, i) => i % 3 === 0);
    const mostOverdueLow = ids.filter((_, i) => i % 3 !== 0).slice(-5);
    expect(new Set(claimed.map((c) => c.host_id))).toEqual(new Set([...high, ...mostOverdueLow]));
    expect(claimed.filter((c) => c.priority === 9)).toHaveLength(20);
  });

  it('keeps a queued job as the host\'s check when its lease runs out: the lease is extended, no second job', async () => {
    const [hostId] = await addDueHosts(1);
    const deps = { ...producers[0]!, config, logger };
    expect(await produceDueChecks(deps)).toBe(1);
    const [queued] = await queuedJobs();
    // The lease runs out while the job still waits in the queue (a backlog longer than the lease).
    await producers[0]!.pool.query(`UPDATE hosts SET next_check_time = now() - interval '1 second' WHERE id = $1`, [hostId]);
    expect(await produceDueChecks(deps)).toBe(0);
    expect((await queuedJobs()).map((j) => j.id)).toEqual([queued!.id]);
    const leased = await producers[0]!.pool.query('SELECT lease_job_id, next_check_time > now() AS later FROM hosts WHERE id = $1', [hostId]);
    expect(leased.rows[0]).toEqual({ lease_job_id: queued!.id, later: true });
    // A real worker then runs the kept job, and its check is recorded.
    const worker = await startCheckWorker({ ...deps, machine, databaseUrl: ctx.db.url });
    try {
      await waitFor('the kept job\'s check to be recorded', async () =>
        (await producers[0]!.pool.query('SELECT 1 FROM host_monitoring_history WHERE job_id = $1', [queued!.id])).rowCount === 1);
    } finally {
      await worker.stop();
    }
    const host = await producers[0]!.pool.query('SELECT lease_job_id, next_check_time > now() AS later FROM hosts WHERE id = $1', [hostId]);
    expect(host.rows[0]).toEqual({ lease_job_id: null, later: true });
  });

  it('leases a host anew when its lease runs out and its job is no longer pending', async () => {
    const [hostId] = await addDueHosts(1);
    const deps = { ...producers[0]!, config, logger };
    await produceDueChecks(deps);
    const [gone] = await queuedJobs();
    await producers[0]!.boss.cancel(QUEUES.checks, gone!.id);
    await producers[0]!.pool.query(`UPDATE hosts SET next_check_time = now() - interval '1 second' WHERE id = $1`, [hostId]);
    expect(await produceDueChecks(deps)).toBe(1);
    const [fresh] = await queuedJobs();
    expect(fresh!.id).not.toBe(gone!.id);
    const { rows } = await producers[0]!.pool.query('SELECT lease_job_id FROM hosts WHERE id = $1', [hostId]);
    expect(rows[0].lease_job_id).toBe(fresh!.id);
  });

  it('hands a group\'s slot to the job that has waited longest, however many siblings were queued after it', async () => {
    // pg-boss ranks the candidates of one group by job id. With random ids a job queued first
    // could lose to each newer sibling for as long as siblings kept coming (seen: 15 s in a group
    // of three at 0.3 s intervals); job ids that grow with time make that rank the queue order.
    await upsertGroup(producers[0]!.pool, 'fifo', { maxConcurrentChecks: 1 }, 1);
    const deps = { ...producers[0]!, config, logger };
    for (let round = 0; round < 12; round++) {
      await producers[0]!.pool.query(`DELETE FROM hosts; DELETE FROM pgboss.job WHERE name = '${QUEUES.checks}'`);
      const [first, second] = await addDueHosts(2);
      await producers[0]!.pool.query(`UPDATE hosts SET "group" = 'fifo', next_check_time = now() + interval '1 hour' WHERE id = $1`, [second]);
      await producers[0]!.pool.query(`UPDATE hosts SET "group" = 'fifo' WHERE id = $1`, [first]);
      expect(await produceDueChecks(deps)).toBe(1);
      await producers[0]!.pool.query(`UPDATE hosts SET next_check_time = now() - interval '1 second' WHERE id = $1`, [second]);
      expect(await produceDueChecks(deps)).toBe(1);
      const fetched = await producers[0]!.boss.fetch<CheckJobData>(QUEUES.checks, { batchSize: 10, groupConcurrency: { default: 1, tiers: GROUP_TIERS } });
      expect(fetched.map((j) => j.data.host_id)).toEqual([first]);
    }
  });

  it('spreads first checks of new hosts deterministically over the configured window', () => {
    const spread = loadConfig({ VIGIL_FIRST_CHECK_SPREAD_SECONDS: '10' });
    const delays = Array.from({ length: 1000 }, () => firstCheckDelayMs(randomUUID(), spread));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(10_000);
    // Spread, not bunched: every second of the window gets some hosts.
    expect(new Set(delays.map((d) => Math.floor(d / 1000))).size).toBe(10);
    const id = randomUUID();
    expect(firstCheckDelayMs(id, spread)).toBe(firstCheckDelayMs(id, spread));
  });
});
