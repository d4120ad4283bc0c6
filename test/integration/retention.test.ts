import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrate, readMigrations } from '../../src/db/migrate.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { DAY_MS, DEFAULT_PARTITION, listHistoryPartitions, partitionName, utcDayStart } from '../../src/db/queries/partitions.ts';
import { maintainHistoryPartitions } from '../../src/retention/history-partitions.ts';
import { RETENTION_CRON, runRetention } from '../../src/queue/retention-job.ts';
import { QUEUES } from '../../src/queue/names.ts';

import { admin, withDatabase } from '../helpers/global-setup.ts';
import { seedHosts } from '../helpers/hosts.ts';
import { memoryLogger, useTestVigil, waitFor } from '../helpers/vigil.ts';

let pool: Pool;
let hostId: string;
// Noon UTC today: the checks a minute either side of `now - n days` stay in that day's partition.
const now = new Date(utcDayStart(new Date()).getTime() + 12 * 3_600_000);
/** `days` days before `now` (negative: after). */
const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
/** The daily partition names of days `from`..`to` days ago, oldest first. */
const partitionsAgo = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, i) => partitionName(ago(from - i)));

/** Every partition attached to history now, by name (pg_inherits), DEFAULT included, sorted. */
async function attachedPartitions(): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'host_monitoring_history'::regclass ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

/** Two checks of the host on each of the given days ago, at `now` minus that many days and a minute more; returns their ids. */
async function insertChecks(daysAgo: number[]): Promise<string[]> {
  const times = daysAgo.flatMap((d) => [ago(d), new Date(ago(d).getTime() - 60_000)]);
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, success, response_time_ms, checked_by, detail)
     SELECT $1, t, 'HEALTHY', 'HEALTHY', true, 5, 'scheduler', jsonb_build_object('t', t) FROM unnest($2::timestamptz[]) AS t RETURNING id`,
    [hostId, times],
  );
  return rows.map((r) => r.id);
}

/** Where each of the host's checks lives: check id -> partition name. */
async function rowPartitions(): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ id: string; part: string }>(
    `SELECT id, tableoid::regclass::text AS part FROM host_monitoring_history WHERE host_id = $1`,
    [hostId],
  );
  return new Map(rows.map((r) => [r.id, r.part]));
}

const ctx = useTestVigil({ roles: ['api'] });
beforeAll(async () => {
  pool = ctx.vigil.pool;
  [hostId] = (await seedHosts(pool, { count: 1, namePrefix: 'retention', probes: [{ type: 'tcp', port: 9 }], dueAgoMs: -3_600_000 })) as [string];
});

describe('history retention by daily partitions', () => {
  let kept: string[];

  it('drops exactly the partitions wholly older than the retention and keeps every row inside it', async () => {
    // Partitions for 4 days ago up to 3 days ahead, as a run 4 days ago with 7 days ahead made them.
    const first = await maintainHistoryPartitions(pool, { aheadDays: 7, retentionDays: 0, now: ago(4) });
    expect(first.created).toEqual(expect.arrayContaining(partitionsAgo(4, 1)));
    const ids = await insertChecks([0, 1, 2, 3, 4]);
    const placed = await rowPartitions();
    expect(ids.map((id) => placed.get(id))).toEqual([0, 1, 2, 3, 4].flatMap((d) => [partitionName(ago(d)), partitionName(new Date(ago(d).getTime() - 60_000))]));

    const report = await maintainHistoryPartitions(pool, { aheadDays: 3, retentionDays: 2, now });
    expect(report).toEqual({ created: [], dropped: partitionsAgo(4, 3), defaultRowsDeleted: 0 });
    expect(await attachedPartitions()).toEqual([DEFAULT_PARTITION, ...partitionsAgo(2, -3)]);
    kept = ids.slice(0, 6);
    const left = await pool.query<{ id: string }>(`SELECT id FROM host_monitoring_history WHERE host_id = $1 ORDER BY check_time DESC, id DESC`, [hostId]);
    expect(left.rows.map((r) => r.id)).toEqual(kept);
  });

  it('is idempotent: a second run changes nothing', async () => {
    const before = await attachedPartitions();
    expect(await maintainHistoryPartitions(pool, { aheadDays: 3, retentionDays: 2, now })).toEqual({ created: [], dropped: [], defaultRowsDeleted: 0 });
    expect(await attachedPartitions()).toEqual(before);
  });

  it('creates the partitions ahead of time', async () => {
    const report = await maintainHistoryPartitions(pool, { aheadDays: 5, retentionDays: 2, now });
    expect(report.created).toEqual(partitionsAgo(-4, -5));
    expect((await listHistoryPartitions(pool)).map((p) => p.name)).toEqual(partitionsAgo(2, -5));
  });

  it('serves the history endpoints across partitions, newest first', async () => {
    const seen: string[] = [];
    let path: string | null = `/api/monitoring/hosts/${hostId}/history?limit=4`;
    while (path) {
      const res = await ctx.vigil.http().get(path);
      expect(res.status).toBe(200);
      seen.push(...res.body.checks.map((c: { id: string }) => c.id));
      path = res.body.next_cursor ? `/api/monitoring/hosts/${hostId}/history?limit=4&cursor=${res.body.next_cursor}` : null;
    }
    expect(seen).toEqual(kept);

    const res = await ctx.vigil
      .http()
      .get('/api/monitoring/history/export?format=ndjson')
      .buffer(true)
      .parse((r, done) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (chunk: string) => (text += chunk));
        r.on('end', () => done(null, text));
      });
    expect(res.status).toBe(200);
    const lines = (res.body as string).trimEnd().split('\n');
    expect(lines).toHaveLength(kept.length);
    // Oldest first.
    expect(lines.map((l) => String(JSON.parse(l).id))).toEqual([...kept].reverse());
  });

  it('moves rows the DEFAULT partition caught into their new partition, and deletes expired ones from it', async () => {
    const [future] = await insertChecks([-10]); // no partition yet: DEFAULT takes it
    const [expired] = await insertChecks([6]); // older than the retention, never had a partition
    const placed = await rowPartitions();
    expect([placed.get(future!), placed.get(expired!)]).toEqual([DEFAULT_PARTITION, DEFAULT_PARTITION]);

    const report = await maintainHistoryPartitions(pool, { aheadDays: 3, retentionDays: 2, now });
    const futureDays = [...new Set([ago(-10), new Date(ago(-10).getTime() - 60_000)].map(partitionName))].sort();
    expect(report).toEqual({ created: futureDays, dropped: [], defaultRowsDeleted: 2 });
    const after = await rowPartitions();
    expect(after.get(future!)).toBe(partitionName(ago(-10)));
    expect(after.has(expired!)).toBe(false);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${DEFAULT_PARTITION}`);
    expect(rows[0].n).toBe(0);
  });

  it('creates a partition while checks keep writing into DEFAULT for its day, losing none and failing none', async () => {
    const day = utcDayStart(ago(-20)).getTime();
    let stop = false;
    let written = 0;
    // As the worker's check transaction does: lock and update the host row, then insert history.
    // Resolves with the error that stopped it, if any (a deadlock, a failed insert).
    const writer = async (): Promise<unknown> => {
      const client = await pool.connect();
      try {
        while (!stop) {
          await client.query('BEGIN');
          await client.query('SELECT 1 FROM hosts WHERE id = $1 FOR UPDATE', [hostId]);
          await client.query('UPDATE hosts SET updated_at = now() WHERE id = $1', [hostId]);
          await client.query(
            `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, success, checked_by)
             VALUES ($1, $2, 'HEALTHY', 'HEALTHY', true, 'scheduler')`,
            [hostId, new Date(day + Math.floor(Math.random() * DAY_MS))],
          );
          await client.query('COMMIT');
          written++;
        }
        return undefined;
      } catch (err) {
        stop = true;
        return err;
      } finally {
        client.release(true);
      }
    };
    const writers = [writer(), writer(), writer()];
    await waitFor('rows in DEFAULT', async () => written >= 10 || stop);
    const report = await maintainHistoryPartitions(pool, { aheadDays: 3, retentionDays: 2, now });
    await waitFor('more rows after the partition exists', async () => written >= 40 || stop);
    stop = true;
    expect(await Promise.all(writers)).toEqual([undefined, undefined, undefined]);
    expect(report.created).toEqual([partitionName(new Date(day))]);
    const { rows } = await pool.query(
      `SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM host_monitoring_history WHERE check_time >= $1 AND check_time < $2 GROUP BY 1`,
      [new Date(day), new Date(day + DAY_MS)],
    );
    expect(rows).toEqual([{ part: partitionName(new Date(day)), n: written }]);
  });

  it('takes turns when several processes run it at once: each partition is created once, none fails', async () => {
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => maintainHistoryPartitions(pool, { aheadDays: 8, retentionDays: 2, now })),
    );
    expect(runs.flatMap((r) => r.created).sort()).toEqual(partitionsAgo(-6, -8));
  });
});

describe('the retention job', () => {
  it('is scheduled hourly by the scheduler role, runs through its queue, and keeps completed jobs a week', async () => {
    const scheduler = await ctx.start(['scheduler'], { VIGIL_PARTITIONS_AHEAD_DAYS: '12', VIGIL_HISTORY_RETENTION_DAYS: '2' });
    // The run queued at start goes through pg-boss to the handler.
    await waitFor('the startup retention run', async () => (await attachedPartitions()).includes(partitionName(ago(-12))));
    const schedules = await scheduler.boss.getSchedules(QUEUES.retention);
    expect(schedules.map((s) => ({ name: s.name, cron: s.cron, timezone: s.timezone, data: s.data }))).toEqual([
      { name: QUEUES.retention, cron: RETENTION_CRON, timezone: 'UTC', data: { trigger: 'cron' } },
    ]);
    const queue = await scheduler.boss.getQueue(QUEUES.retention);
    expect(queue?.deleteAfterSeconds).toBe(7 * 24 * 3600);
    const logged = await waitFor('the retention log line', async () =>
      scheduler.transport.entries.find((e) => e.message === 'history partitions maintained' && e.trigger === 'startup'),
    );
    expect(logged).toMatchObject({ created: expect.arrayContaining([partitionName(ago(-12))]), dropped: [] });

    // What the cron's jobs run (pg-boss's cron resolution is a minute, too coarse to wait for here).
    const { logger, transport } = memoryLogger();
    expect(await runRetention({ pool, config: scheduler.config, logger }, 'cron')).toEqual({
      created: [],
      dropped: [],
      defaultRowsDeleted: 0,
      pruned: { events: 0, deliveries: 0, notification_deliveries: 0, tombstones: 0, resolved_incidents: 0 },
    });
    expect(transport.entries).toContainEqual(expect.objectContaining({ level: 'debug', message: 'history partitions maintained', trigger: 'cron' }));
  });
});

describe('migration 0012', () => {
  const name = `vigil_partition_${process.pid}_${Date.now()}`;
  let fresh: Pool;

  beforeAll(async () => {
    await admin(inject('adminUrl'), (c) => c.query(`CREATE DATABASE ${name}`));
    fresh = createPool(withDatabase(inject('adminUrl'), name), 2);
  });
  afterAll(async () => {
    await fresh?.end();
    await admin(inject('adminUrl'), (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  });

  it('converts an existing history table without losing a row, id sequence, constraint or index', async () => {
    const migrations = await readMigrations();
    await migrate(fresh, migrations.filter((m) => m.name < '0012'));
    const [host] = await seedHosts(fresh, { count: 1, namePrefix: 'old', probes: [{ type: 'tcp', port: 9 }] });
    await fresh.query(
      `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, response_time_ms, success, error_type,
                                            checked_by, job_id, detail, schedule_lag_ms, probe_type, in_maintenance)
       SELECT $1, timestamptz '2025-03-01 23:59:59.999999+00' + g * interval '6 hours', 'DEGRADED', 'HEALTHY', g, g % 2 = 0, 'timeout',
              'scheduler', gen_random_uuid(), jsonb_build_object('g', g), g * 10, 'tcp', g = 3
         FROM generate_series(0, 9) AS g`,
      [host],
    );
    const before = await fresh.query(`SELECT row_to_json(h)::text AS r FROM host_monitoring_history h ORDER BY id`);

    await migrate(fresh, migrations.filter((m) => m.name >= '0012'));

    const after = await fresh.query(`SELECT row_to_json(h)::text AS r FROM host_monitoring_history h ORDER BY id`);
    expect(after.rows).toEqual(before.rows);
    const parts = await fresh.query<{ name: string; n: number }>(
      `SELECT c.relname AS name, (SELECT count(*)::int FROM host_monitoring_history h WHERE h.tableoid = c.oid) AS n
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'host_monitoring_history'::regclass ORDER BY 1`,
    );
    const byName = Object.fromEntries(parts.rows.map((r) => [r.name, r.n]));
    // 2025-03-01 23:59:59.999999 + 0..54 hours: the 1st (1 row), 2nd (4), 3rd (4), 4th (1).
    expect(byName).toMatchObject({
      host_monitoring_history_p20250301: 1,
      host_monitoring_history_p20250302: 4,
      host_monitoring_history_p20250303: 4,
      host_monitoring_history_p20250304: 1,
      [partitionName(new Date())]: 0,
      [DEFAULT_PARTITION]: 0,
    });

    // New ids continue after the old ones; the CHECK constraint and ON DELETE CASCADE still hold.
    const next = await fresh.query(
      `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, success, checked_by)
       VALUES ($1, now(), 'HEALTHY', 'HEALTHY', true, 'jit') RETURNING id`,
      [host],
    );
    expect(next.rows[0].id).toBe('11');
    await expect(
      fresh.query(`INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, success, checked_by) VALUES ($1, now(), 'HEALTHY', 'HEALTHY', true, 'bogus')`, [host]),
    ).rejects.toThrow(/host_monitoring_history_checked_by_check/);

    const indexes = await fresh.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'host_monitoring_history' ORDER BY 1`,
    );
    expect(Object.fromEntries(indexes.rows.map((r) => [r.indexname, r.indexdef.replace(/^.* USING btree /, '')]))).toEqual({
      history_host_time_idx: '(host_id, check_time DESC)',
      history_job_idx: '(job_id) WHERE (job_id IS NOT NULL)',
      history_state_time_idx: "(monitoring_state, check_time DESC) WHERE (monitoring_state <> 'HEALTHY'::text)",
      history_time_idx: '(check_time DESC)',
      history_transitions_idx: '(host_id, check_time DESC, id DESC) WHERE (monitoring_state <> previous_state)',
      host_monitoring_history_pkey: '(id, check_time)',
    });

    await fresh.query(`DELETE FROM hosts WHERE id = $1`, [host]);
    expect((await fresh.query(`SELECT count(*)::int AS n FROM host_monitoring_history`)).rows[0].n).toBe(0);
  });
});
