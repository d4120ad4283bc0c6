import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetTarget } from '../helpers/fleet-target.ts';
import { useTestVigil, waitFor } from '../helpers/vigil.ts';

/**
 * A host alternating success and failure becomes flapping: one flapping_started, then no state
 * changes announced and its incident left open; steady again, flapping_stopped after the
 * hysteresis. Checks are JIT with wait=true, one at a time, so the sequence of results is exact.
 */

const METRICS_TOKEN = 'metrics-token-flapping-0123456789';
const ENV = {
  // One success back to HEALTHY and DEGRADED opening incidents: every swing is a state change and an incident.
  VIGIL_HEALTHY_AFTER_SUCCESSES: '1',
  VIGIL_INCIDENT_STATES: 'DEGRADED',
  VIGIL_FIRST_CHECK_SPREAD_SECONDS: '0',
  VIGIL_PRODUCER_INTERVAL_MS: '50',
  VIGIL_WORKER_POLL_SECONDS: '0.5',
  VIGIL_JIT_RATE_PER_MINUTE: '0',
  VIGIL_METRICS_TOKEN: METRICS_TOKEN,
};

const fleet = new FleetTarget(1);
beforeAll(() => fleet.start());
afterAll(() => fleet.stop());
const ctx = useTestVigil({ roles: ['api', 'scheduler', 'worker'], env: ENV });
const { call } = ctx;

async function checkOnce(id: string, up: boolean): Promise<void> {
  if (up) fleet.down.delete('flappy');
  else fleet.down.add('flappy');
  const res = await call('post', `/api/monitoring/hosts/${id}/check-connectivity?wait=true&timeout=30`);
  expect(res.status).toBe(200);
  expect(res.body.result.success).toBe(up);
}

const eventsOf = async (id: string) =>
  (await ctx.pool.query<{ id: string; type: string; to_state: string }>(`SELECT e.id::text AS id, e.type, e.to_state FROM host_events e WHERE e.host_id = $1 ORDER BY e.id`, [id])).rows;

describe('flapping', () => {
  it('a host alternating success and failure starts flapping once and stops announcing swings; steady, it stops after the hysteresis', async () => {
    const created = await call('post', '/api/hosts', { name: 'flappy', address: '127.0.0.1', probes: [{ type: 'http', url: fleet.url('flappy') }] });
    const id: string = created.body.id;
    // The first scheduled check (due at once) is the last one: the next is 30 min away.
    await waitFor('the first scheduled check', async () => (await ctx.pool.query(`SELECT last_check FROM hosts WHERE id = $1`, [id])).rows[0].last_check);

    let started = -1;
    for (let i = 0; i < 20 && started < 0; i++) {
      await checkOnce(id, i % 2 === 1);
      if ((await eventsOf(id)).some((e) => e.type === 'flapping_started')) started = i;
    }
    expect(started).toBeGreaterThan(0);
    const host = await call('get', `/api/hosts/${id}`);
    expect(host.body.flapping).toBe(true);
    expect(host.body.flap_percent).toBeGreaterThan(30);
    const before = await eventsOf(id);
    // Before flapping, every swing was announced (state_changed, incidents opened and resolved).
    expect(before.filter((e) => e.type === 'state_changed').length).toBeGreaterThanOrEqual(started);
    expect(before.filter((e) => e.type === 'incident_opened').length).toBeGreaterThanOrEqual(2);

    // Ten more swings while flapping: nothing announced, the incident stays open.
    for (let i = 0; i < 10; i++) await checkOnce(id, i % 2 === 0);
    const swings = (await eventsOf(id)).slice(before.length);
    expect(swings).toEqual([]);
    const { rows: history } = await ctx.pool.query(`SELECT monitoring_state FROM host_monitoring_history WHERE host_id = $1 ORDER BY id DESC LIMIT 10`, [id]);
    expect(new Set(history.map((r) => r.monitoring_state))).toEqual(new Set(['HEALTHY', 'DEGRADED'])); // the machine still swings
    const state = await call('get', `/api/monitoring/hosts/${id}/state`);
    expect(state.body).toMatchObject({ flapping: true });
    const metrics = await request(ctx.vigil.apiUrl!).get('/metrics').set('authorization', `Bearer ${METRICS_TOKEN}`);
    expect(metrics.text).toMatch(/vigil_host_flap_percent\{host="flappy",group=""\} \d+/);
    const open = (await call('get', `/api/incidents?host_id=${id}&status=open`)).body.incidents;
    expect(open).toHaveLength(1);

    // Steady successes: the percentage falls below the high threshold first, then below the low one.
    let stopped = -1;
    const percents: number[] = [];
    for (let i = 0; i < 25 && stopped < 0; i++) {
      await checkOnce(id, true);
      const h = (await call('get', `/api/hosts/${id}`)).body;
      percents.push(h.flap_percent);
      if (!h.flapping) stopped = i;
    }
    expect(stopped).toBeGreaterThan(0);
    // Hysteresis: it kept flapping at percentages between the thresholds (25–30) or below the high one.
    expect(percents.slice(0, stopped).some((p) => p <= 30)).toBe(true);
    expect(percents[stopped]).toBeLessThan(25);
    const after = (await eventsOf(id)).slice(before.length);
    expect(after.map((e) => e.type)).toEqual(['flapping_stopped', 'incident_resolved']);
    expect(after[0]!.to_state).toBe('HEALTHY');
    expect((await ctx.pool.query(`SELECT count(*)::int AS n FROM host_events WHERE host_id = $1 AND type = 'flapping_started'`, [id])).rows[0].n).toBe(1);
  }, 120_000);
});
