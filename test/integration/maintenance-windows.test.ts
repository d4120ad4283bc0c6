import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_ENV, useTestVigil, waitFor } from '../helpers/vigil.ts';
import { startTcpTarget, type LoopbackTarget } from '../helpers/targets.ts';

let target: LoopbackTarget;
beforeAll(async () => {
  target = await startTcpTarget();
});
afterAll(async () => {
  await target?.close();
});

const ctx = useTestVigil({ roles: ['api', 'scheduler', 'worker'], env: { ...FAST_ENV, VIGIL_MAINTENANCE_POLL_MS: '100' } });

const tcpHost = (name: string, extra: Record<string, unknown> = {}) => ({ name, address: '127.0.0.1', probes: [{ type: 'tcp', port: target.port }], ...extra });
const dbNow = async () => (await ctx.pool.query<{ now: Date }>('SELECT now()')).rows[0]!.now.getTime();
const events = async (hostId: string) =>
  (await ctx.pool.query<{ type: string; reason: string; occurred_at: Date }>(
    `SELECT type, reason, occurred_at FROM host_events WHERE host_id = $1 AND type LIKE 'maintenance_window_%' ORDER BY id`,
    [hostId],
  )).rows;
const scheduledChecks = async (hostId: string, from: number, to: number) =>
  Number((await ctx.pool.query(
    `SELECT count(*) FROM host_monitoring_history WHERE host_id = $1 AND checked_by = 'scheduler' AND check_time >= $2 AND check_time < $3`,
    [hostId, new Date(from), new Date(to)],
  )).rows[0].count);

describe('a one-off window', () => {
  it('opens and closes on its own: no scheduled checks inside, a JIT check recorded as in maintenance, events at both ends', async () => {
    const host = (await ctx.call('post', '/api/hosts', tcpHost('one-off'))).body;
    await waitFor('a first check', async () => (await scheduledChecks(host.id, 0, Date.now() + 3_600_000)) > 0);
    const now = await dbNow();
    const startsAt = now + 2000;
    const endsAt = now + 7000;
    const created = await ctx.call('post', '/api/maintenance-windows', {
      label: 'switch upgrade', reason: 'firmware', time_zone: 'Europe/Berlin',
      starts_at: new Date(startsAt).toISOString(), ends_at: new Date(endsAt).toISOString(), hosts: [host.id],
    });
    expect(created.status).toBe(201);
    expect(created.body.next_occurrence.starts_at).toBe(new Date(startsAt).toISOString());

    const inside = await waitFor('the host to enter the window', async () => {
      const s = await ctx.call('get', `/api/monitoring/hosts/${host.id}/state`);
      return s.body.maintenance_window.active && s.body;
    });
    expect(inside.maintenance).toBe(true);
    expect(inside.maintenance_window.active).toMatchObject({ window_id: created.body.id, label: 'switch upgrade', ends_at: new Date(endsAt).toISOString() });
    const jit = await ctx.call('post', `/api/monitoring/hosts/${host.id}/check-connectivity?wait=true&timeout=10`);
    expect(jit.status).toBe(200);
    expect(jit.body.result.detail.maintenance).toBe(true);

    await waitFor('the host to leave the window', async () => (await ctx.call('get', `/api/monitoring/hosts/${host.id}/state`)).body.maintenance_window.active === null, 20_000);
    const after = await dbNow();
    expect(after).toBeGreaterThanOrEqual(endsAt);
    // Inside the window (with a poll's margin at each end) the scheduler checked nothing.
    expect(await scheduledChecks(host.id, startsAt + 500, endsAt)).toBe(0);
    // Out again: scheduled checks resume on their own.
    await waitFor('scheduled checks after the window', async () => (await scheduledChecks(host.id, endsAt, Date.now() + 3_600_000)) > 0, 15_000);
    const seen = await events(host.id);
    expect(seen.map((e) => e.type)).toEqual(['maintenance_window_started', 'maintenance_window_ended']);
    expect(seen[0]!.reason).toBe('switch upgrade: firmware');
    expect(seen[0]!.occurred_at.getTime()).toBeGreaterThanOrEqual(startsAt);
    expect(seen[1]!.occurred_at.getTime()).toBeGreaterThanOrEqual(endsAt);
  }, 60_000);
});

describe('a recurring window', () => {
  it('applied to a group, opens and closes on its own at every occurrence', async () => {
    const host = (await ctx.call('post', '/api/hosts', tcpHost('recurring', { group: 'night-shift' }))).body;
    // Every 10 seconds for 4 seconds, on Berlin's wall clock (cron with a seconds field).
    const created = await ctx.call('post', '/api/maintenance-windows', {
      label: 'ten-second window', time_zone: 'Europe/Berlin', cron: '*/10 * * * * *', duration_seconds: 4, groups: ['night-shift'],
    });
    expect(created.status).toBe(201);
    try {
      // The state names the window through the host's group (an occurrence is always at most 10 s away).
      const state = await ctx.call('get', `/api/monitoring/hosts/${host.id}/state`);
      expect(state.body.maintenance_window.next ?? state.body.maintenance_window.active).toMatchObject({ window_id: created.body.id });
      await checkOccurrences(host.id, created.body.id);
    } finally {
      // Also when the checks above fail: a window left every 10 s would crowd the calendar tests' ranges.
      expect((await ctx.call('delete', `/api/maintenance-windows/${created.body.id}`)).status).toBe(204);
    }
    await waitFor('the host out of every window', async () => (await ctx.pool.query(`SELECT maintenance_window_id FROM hosts WHERE id = $1`, [host.id])).rows[0].maintenance_window_id === null);
  }, 60_000);

  async function checkOccurrences(hostId: string, windowId: string): Promise<void> {
    const seen = await waitFor('two occurrences opening and closing', async () => {
      const e = await events(hostId);
      return e.length >= 4 && e;
    }, 45_000, 200);
    expect(seen.slice(0, 4).map((e) => e.type)).toEqual(['maintenance_window_started', 'maintenance_window_ended', 'maintenance_window_started', 'maintenance_window_ended']);
    // An occurrence lasts about its 4 s (the loop polls every 100 ms; room for a loaded machine).
    // The second one is measured: the first may already have been under way when the window was made.
    const open = (seen[3]!.occurred_at.getTime() - seen[2]!.occurred_at.getTime()) / 1000;
    expect(open).toBeGreaterThan(2.5);
    expect(open).toBeLessThan(6);
    // The calendar lists the occurrences 10 s apart.
    const from = new Date(await dbNow());
    const list = await ctx.call('get', `/api/maintenance-windows?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(new Date(from.getTime() + 60_000).toISOString())}`);
    const mine = list.body.occurrences.filter((o: { window_id: string }) => o.window_id === windowId);
    expect(mine.length).toBeGreaterThanOrEqual(6);
    expect(Date.parse(mine[1].starts_at) - Date.parse(mine[0].starts_at)).toBe(10_000);
    expect(Date.parse(mine[0].ends_at) - Date.parse(mine[0].starts_at)).toBe(4000);
    // The window is then deleted while perhaps open: the host leaves and is not left in maintenance.
  }
});

describe('the calendar and validation', () => {
  it('lists a weekly Berlin window on the spring-forward night at 03:30 CEST (01:30 UTC)', async () => {
    const created = await ctx.call('post', '/api/maintenance-windows', {
      label: 'sunday', time_zone: 'Europe/Berlin', cron: '30 2 * * 0', duration_seconds: 3600, tags: ['nobody-has-this-tag'],
    });
    expect(created.status).toBe(201);
    const res = await ctx.call('get', '/api/maintenance-windows?from=2026-03-28T00:00:00Z&to=2026-10-26T00:00:00Z');
    const mine = res.body.occurrences.filter((o: { window_id: string }) => o.window_id === created.body.id);
    expect(mine[0]).toMatchObject({ starts_at: '2026-03-29T01:30:00.000Z', ends_at: '2026-03-29T02:30:00.000Z' });
    expect(mine.at(-1)).toMatchObject({ starts_at: '2026-10-25T00:30:00.000Z', ends_at: '2026-10-25T01:30:00.000Z' });
    expect(mine).toHaveLength(31);
    await ctx.call('delete', `/api/maintenance-windows/${created.body.id}`);
  });

  it.each([
    [{ label: 'x', time_zone: 'Mars/Olympus', cron: '0 2 * * 0', duration_seconds: 60, tags: ['a'] }, 'body.time_zone'],
    [{ label: 'x', cron: 'every sunday', duration_seconds: 60, tags: ['a'] }, 'body.cron'],
    [{ label: 'x', cron: '*/10 * * * *', duration_seconds: 3600, tags: ['a'] }, 'body.duration_seconds'],
    [{ label: 'x', starts_at: '2026-12-14T22:00', ends_at: '2026-12-14T21:00', tags: ['a'] }, 'body.ends_at'],
    [{ label: 'x', starts_at: '2026-12-14T22:00', ends_at: '2026-12-14T23:00', cron: '0 2 * * 0', duration_seconds: 60, tags: ['a'] }, 'body.cron'],
    [{ label: 'x', starts_at: '2026-12-14T22:00', ends_at: '2026-12-14T23:00' }, 'body.hosts'],
    [{ label: 'x', starts_at: '2026-12-14T22:00', ends_at: '2026-12-14T23:00', tags: ['a'], extra: 1 }, 'body'],
  ])('refuses %j naming %s', async (body, field) => {
    const res = await ctx.call('post', '/api/maintenance-windows', body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('refuses a range that is empty or too long', async () => {
    expect((await ctx.call('get', '/api/maintenance-windows?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z')).status).toBe(400);
    expect((await ctx.call('get', '/api/maintenance-windows?from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z')).status).toBe(400);
  });
});
