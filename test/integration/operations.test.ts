import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedHosts } from '../helpers/hosts.ts';
import { startTcpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { useTestVigil, waitFor } from '../helpers/vigil.ts';

const ENV = { VIGIL_HEALTHY_INTERVAL_SECONDS: '0.3', VIGIL_DOWN_INTERVAL_SECONDS: '0.3', VIGIL_PRODUCER_INTERVAL_MS: '50', VIGIL_FIRST_CHECK_SPREAD_SECONDS: '0', VIGIL_WORKER_HEARTBEAT_SECONDS: '0.2' };

let tcp: LoopbackTarget;
beforeAll(async () => {
  tcp = await startTcpTarget();
});
afterAll(async () => {
  await tcp?.close();
});
// Each test starts the Vigils it needs (ctx.start); they are stopped and the rows cleared after it.
const ctx = useTestVigil({
  env: ENV,
  poolSize: 3,
  resetSql: `DELETE FROM hosts; DELETE FROM host_groups; DELETE FROM vigil_workers; DELETE FROM pgboss.job WHERE name LIKE 'vigil-%'`,
});
const checksOf = async (hostId: string) => (await ctx.pool.query(`SELECT * FROM host_monitoring_history WHERE host_id = $1 ORDER BY id`, [hostId])).rows;


describe('maintenance', () => {
  it('stops scheduled checks of a host, lets JIT checks run without moving its state, and resumes where it was', async () => {
    const [id] = await seedHosts(ctx.pool, { count: 1, namePrefix: 'maint', probes: [{ type: 'tcp', port: 1 }], state: 'CRITICAL', priority: 9, dueAgoMs: -3_600_000 });
    const v = await ctx.start(['api', 'scheduler', 'worker']);
    expect((await v.call('patch', `/api/hosts/${id}`, { maintenance: true })).body.maintenance).toBe(true);
    const state = await v.call('get', `/api/monitoring/hosts/${id}/state`);
    expect(state.body).toMatchObject({ maintenance: true, current_state: 'CRITICAL' });
    // Due now, but in maintenance: the scheduler leaves it alone.
    await ctx.pool.query(`UPDATE hosts SET next_check_time = now() - interval '1 second' WHERE id = $1`, [id]);
    const jit = await v.call('post', `/api/monitoring/hosts/${id}/check-connectivity?wait=true`);
    expect(jit.body.result).toMatchObject({ success: false, state: 'CRITICAL', previous_state: 'CRITICAL', detail: { maintenance: true } });
    expect((await checksOf(id!)).map((r) => [r.checked_by, r.in_maintenance])).toEqual([['jit', true]]);
    // Leaving maintenance: due soon, and the next failure continues from CRITICAL to DOWN.
    await v.call('patch', `/api/hosts/${id}`, { maintenance: false });
    await waitFor('a scheduled check', async () => (await checksOf(id!)).some((r) => r.checked_by === 'scheduler'));
    const scheduled = (await checksOf(id!)).find((r) => r.checked_by === 'scheduler');
    expect([scheduled.previous_state, scheduled.monitoring_state]).toEqual(['CRITICAL', 'DOWN']);
  });

  it('puts a whole group in maintenance and back', async () => {
    const ids = await seedHosts(ctx.pool, { count: 3, namePrefix: 'site', probes: [{ type: 'tcp', port: tcp.port }], group: 'site-9', dueAgoMs: -3_600_000 });
    const v = await ctx.start(['api', 'scheduler', 'worker']);
    const group = await v.call('patch', '/api/groups/site-9', { maintenance: true });
    expect(group.body).toMatchObject({ name: 'site-9', maintenance: true, host_count: 3, configured: true });
    await ctx.pool.query(`UPDATE hosts SET next_check_time = now() - interval '1 second' WHERE "group" = 'site-9'`);
    expect((await v.call('get', `/api/monitoring/hosts/${ids[0]}/state`)).body.maintenance).toBe(true);
    expect((await v.call('get', '/api/hosts?maintenance=true')).body.hosts.map((h: { name: string }) => h.name).sort()).toEqual(['site-1', 'site-2', 'site-3']);
    expect((await v.call('get', '/api/hosts?maintenance=false')).body.hosts).toEqual([]);
    // The JIT check is recorded as in maintenance while the scheduled ones stay away.
    await v.call('post', `/api/monitoring/hosts/${ids[0]}/check-connectivity?wait=true`);
    expect((await checksOf(ids[0]!)).map((r) => [r.checked_by, r.in_maintenance])).toEqual([['jit', true]]);
    await v.call('patch', '/api/groups/site-9', { maintenance: false });
    await waitFor('every host checked again', async () => {
      for (const id of ids) if (!(await checksOf(id)).some((r) => r.checked_by === 'scheduler')) return false;
      return true;
    }).catch(async (err) => {
      // Seen once under CI load: say where each host and job stood, to find out why.
      const hosts = await ctx.pool.query(`SELECT h.id, h.next_check_time, h.lease_job_id, j.job_id AS jit_job_id, h.maintenance, now() AS now FROM hosts h LEFT JOIN host_jit_checks j ON j.host_id = h.id WHERE h."group" = 'site-9'`);
      const jobs = await ctx.pool.query(`SELECT id, name, state, group_id, group_tier, data, created_on, started_on, completed_on FROM pgboss.job WHERE name LIKE 'vigil-%'`);
      const slots = await ctx.pool.query(`SELECT * FROM group_check_slots`);
      throw new Error(`${(err as Error).message}\nhosts: ${JSON.stringify(hosts.rows)}\njobs: ${JSON.stringify(jobs.rows)}\nslots: ${JSON.stringify(slots.rows)}`);
    });
  });
});

describe('group bulk operations', () => {
  it('resets a group to HEALTHY with cleared counters, recorded in history', async () => {
    const ids = await seedHosts(ctx.pool, { count: 4, namePrefix: 'olt', probes: [{ type: 'tcp', port: tcp.port }], group: 'olt-2', state: 'DOWN', dueAgoMs: -3_600_000 });
    await seedHosts(ctx.pool, { count: 1, namePrefix: 'other', probes: [{ type: 'tcp', port: tcp.port }], group: 'olt-3', state: 'DOWN', dueAgoMs: -3_600_000 });
    const v = await ctx.start(['api']);
    const res = await v.call('post', '/api/groups/olt-2/reset');
    expect(res.body).toEqual({ group: 'olt-2', affected: 4 });
    const { rows } = await ctx.pool.query(`SELECT monitoring_state, consecutive_failures, machine_snapshot->>'value' AS machine FROM hosts WHERE "group" = 'olt-2'`);
    expect(rows.every((r) => r.monitoring_state === 'HEALTHY' && r.consecutive_failures === 0 && r.machine === 'HEALTHY')).toBe(true);
    for (const id of ids) expect((await checksOf(id)).map((r) => [r.checked_by, r.previous_state, r.monitoring_state])).toEqual([['reset', 'DOWN', 'HEALTHY']]);
    const untouched = await ctx.pool.query(`SELECT monitoring_state FROM hosts WHERE "group" = 'olt-3'`);
    expect(untouched.rows[0].monitoring_state).toBe('DOWN');
    expect((await v.call('post', '/api/groups/no-such-group/reset')).status).toBe(404);
  });

  it('disables and enables a whole group', async () => {
    await seedHosts(ctx.pool, { count: 3, namePrefix: 'rack', probes: [{ type: 'tcp', port: tcp.port }], group: 'rack-1', dueAgoMs: -3_600_000 });
    const v = await ctx.start(['api']);
    expect((await v.call('post', '/api/groups/rack-1/disable')).body.affected).toBe(3);
    expect((await v.call('post', '/api/groups/rack-1/disable')).body.affected).toBe(0);
    expect((await ctx.pool.query(`SELECT count(*)::int AS n FROM hosts WHERE enabled`)).rows[0].n).toBe(0);
    expect((await v.call('post', '/api/groups/rack-1/enable')).body.affected).toBe(3);
    const groups = await v.call('get', '/api/groups');
    expect(groups.body.groups).toEqual([expect.objectContaining({ name: 'rack-1', host_count: 3, configured: false, max_concurrent_checks: 1, by_state: { HEALTHY: 3 } })]);
    const bad = await v.call('patch', '/api/groups/rack-1', { max_concurrent_checks: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('body.max_concurrent_checks');
  });
});

describe('introspection', () => {
  it('shows the queue overloaded when checks wait longer than the delay threshold', async () => {
    await seedHosts(ctx.pool, { count: 5, namePrefix: 'late', probes: [{ type: 'tcp', port: tcp.port }], priority: 6, dueAgoMs: 30_000 });
    const v = await ctx.start(['api', 'scheduler'], { VIGIL_DELAY_THRESHOLD_SECONDS: '10' });
    const queue = await waitFor('the backlog to be enqueued', async () => {
      const res = await v.call('get', '/api/monitoring/queue');
      return res.body.waiting_total === 5 ? res : undefined;
    });
    expect(queue.body.waiting_by_priority).toEqual([{ lane: 'normal', priority: 6, waiting: 5 }]);
    expect(queue.body.oldest_lag_seconds).toBeGreaterThan(29);
    expect(queue.body.overloaded).toBe(true);
    expect(queue.body.next_due).toHaveLength(5);
  });

  it('does not count hosts in a maintenance window as late: the pool keeps up while they wait', async () => {
    const [inWindow] = await seedHosts(ctx.pool, { count: 1, namePrefix: 'patched', probes: [{ type: 'tcp', port: tcp.port }], dueAgoMs: 60_000 });
    const v = await ctx.start(['api'], { VIGIL_DELAY_THRESHOLD_SECONDS: '10' });
    const now = Date.now();
    const window = await v.call('post', '/api/maintenance-windows', {
      label: 'disk swap', starts_at: new Date(now - 60_000).toISOString(), ends_at: new Date(now + 3_600_000).toISOString(), hosts: [inWindow],
    });
    expect(window.status).toBe(201);
    // The window marks the host (as the scheduler's reconciliation does); it stays due, unclaimed.
    await ctx.pool.query(`UPDATE hosts SET maintenance_window_id = $1, next_check_time = now() - interval '60 seconds' WHERE id = $2`, [window.body.id, inWindow]);
    expect((await v.call('get', `/api/monitoring/hosts/${inWindow}/state`)).body.maintenance).toBe(true);
    const queue = await v.call('get', '/api/monitoring/queue');
    expect(queue.body).toMatchObject({ oldest_lag_seconds: 0, overloaded: false, next_due: [] });
  });

  it('lists live workers with their slots and drops them when they stop', async () => {
    await seedHosts(ctx.pool, { count: 5, namePrefix: 'busy', probes: [{ type: 'tcp', port: tcp.port }] });
    const api = await ctx.start(['api']);
    const worker = await ctx.start(['worker', 'scheduler'], { VIGIL_WORKER_CONCURRENCY: '7' });
    const listed = await waitFor('the worker to report checks', async () => {
      const res = await api.call('get', '/api/monitoring/workers');
      return res.body.workers[0]?.checks_done >= 5 ? res : undefined;
    });
    expect(listed.body.workers).toHaveLength(1);
    expect(listed.body.workers[0]).toMatchObject({ pid: process.pid, concurrency: 7, saturated: false });
    await worker.stop();

    expect((await api.call('get', '/api/monitoring/workers')).body.workers).toEqual([]);
  });

  it('lists every state in hosts_by_state, with 0 for states without hosts (an empty fleet too)', async () => {
    const v = await ctx.start(['api']);
    expect((await v.call('get', '/api/monitoring/stats')).body.hosts_by_state).toEqual({ HEALTHY: 0, DEGRADED: 0, CRITICAL: 0, DOWN: 0, UNREACHABLE: 0 });
    await seedHosts(ctx.pool, { count: 2, namePrefix: 'bs', probes: [{ type: 'tcp', port: 1 }], state: 'CRITICAL' });
    expect((await v.call('get', '/api/monitoring/stats')).body.hosts_by_state).toEqual({ HEALTHY: 0, DEGRADED: 0, CRITICAL: 2, DOWN: 0, UNREACHABLE: 0 });
  });

  it('summarises checks by probe type from the history', async () => {
    const v = await ctx.start(['api']);
    const [a] = await seedHosts(ctx.pool, { count: 1, namePrefix: 'st', probes: [{ type: 'tcp', port: 1 }] });
    await ctx.pool.query(
      `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, response_time_ms, success, checked_by, probe_type, schedule_lag_ms)
       SELECT $1, now() - make_interval(secs => g), 'HEALTHY', 'HEALTHY', g, g % 4 <> 0, 'scheduler', CASE WHEN g % 2 = 0 THEN 'tcp' ELSE 'http' END, CASE WHEN g <= 10 THEN 20000 ELSE 5 END
         FROM generate_series(1, 100) g`,
      [a],
    );
    const stats = await v.call('get', '/api/monitoring/stats');
    expect(stats.body.window_seconds).toBe(3600);
    expect(stats.body.hosts_by_state).toEqual({ HEALTHY: 1, DEGRADED: 0, CRITICAL: 0, DOWN: 0, UNREACHABLE: 0 });
    expect(stats.body.checks).toMatchObject({ checks: 100, success_rate: 0.75, delayed: 10, checks_per_minute: 20 });
    expect(stats.body.by_probe_type.tcp).toMatchObject({ checks: 50, success_rate: 0.5 });
    expect(stats.body.by_probe_type.http).toMatchObject({ checks: 50, success_rate: 1 });
    expect(stats.body.checks.p95_duration_ms).toBeCloseTo(95.05, 1);
    expect((await v.call('get', '/api/monitoring/stats?window=5')).status).toBe(400);
  });
});
