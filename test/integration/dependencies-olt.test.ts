import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetTarget } from '../helpers/fleet-target.ts';
import { startHttpTarget, type HttpTarget } from '../helpers/targets.ts';
import { useTestVigil, waitFor } from '../helpers/vigil.ts';

/**
 * Seed 004's OLT: a gateway host and 200 hosts behind it (a group whose gateway it is), real
 * scheduler and worker, real HTTP targets on loopback. The gateway dies: one incident, the 200
 * UNREACHABLE without incidents or webhooks, checked at the slow cadence only (counted at the
 * target). The gateway comes back: the 200 are checked at once, within the group's limit.
 */

const CHILDREN = 200;
const GROUP_LIMIT = 8;
/** The slow cadence of UNREACHABLE hosts; with ±10 % jitter, no host is checked twice within 13.5 s. */
const UNREACHABLE_INTERVAL_S = 15;
const RECOVERY_SPREAD_S = 2;
/**
 * All 200 back to HEALTHY within this long of the gateway's own recovery: the spread (2 s), then
 * 200 checks of ~20 ms at 8 at a time (0.5 s), plus the producer and worker round trips — well
 * under 10 s on an idle machine; 45 s leaves room for a shared, loaded one.
 */
const RECOVERY_BOUND_MS = 45_000;

const ENV = {
  // 200 hosts every 10 s through one group of 8 slots: busy, not saturated on a shared machine.
  VIGIL_HEALTHY_INTERVAL_SECONDS: '10',
  VIGIL_DEGRADED_INTERVAL_SECONDS: '1',
  VIGIL_CRITICAL_INTERVAL_SECONDS: '0.5',
  VIGIL_DOWN_INTERVAL_SECONDS: '1',
  VIGIL_UNREACHABLE_INTERVAL_SECONDS: String(UNREACHABLE_INTERVAL_S),
  VIGIL_DEPENDENCY_RECOVERY_SPREAD_SECONDS: String(RECOVERY_SPREAD_S),
  VIGIL_PRODUCER_INTERVAL_MS: '50',
  VIGIL_FIRST_CHECK_SPREAD_SECONDS: '2',
  VIGIL_WORKER_POLL_SECONDS: '0.5',
  VIGIL_CHECK_TIMEOUT_MS: '2000',
  VIGIL_SHUTDOWN_GRACE_MS: '5000',
  VIGIL_SECRET_KEY: randomBytes(32).toString('base64'),
  VIGIL_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8',
};

const fleet = new FleetTarget(20);
let receiver: HttpTarget;
beforeAll(async () => {
  await fleet.start();
  receiver = await startHttpTarget({ '/hook': (_req, res) => void res.writeHead(204).end() });
});
afterAll(async () => {
  await fleet.stop();
  await receiver?.close();
});
const ctx = useTestVigil({ roles: ['api', 'scheduler', 'worker'], env: ENV });

const childNames = Array.from({ length: CHILDREN }, (_, i) => `ont-${String(i).padStart(3, '0')}`);
const children = new Set(childNames);
const probe = (name: string) => [{ type: 'http', url: fleet.url(name) }];

async function states(): Promise<Map<string, string>> {
  const { rows } = await ctx.pool.query<{ name: string; monitoring_state: string }>(`SELECT name, monitoring_state FROM hosts`);
  return new Map(rows.map((r) => [r.name, r.monitoring_state]));
}
const childrenIn = async (state: string) => [...(await states())].filter(([n, s]) => children.has(n) && s === state).length;

describe('an OLT and the 200 hosts behind it', () => {
  it('goes DOWN alone: one incident, 200 UNREACHABLE without incidents or webhooks, checked at the slow cadence; back: all re-checked within the group limit', async () => {
    const { call } = ctx;
    const bulk = await call('post', '/api/hosts/bulk', {
      hosts: [{ name: 'olt-gw', address: '127.0.0.1', probes: probe('olt-gw') }, ...childNames.map((name) => ({ name, address: '127.0.0.1', probes: probe(name), group: 'olt-1' }))],
    });
    expect(bulk.status).toBe(200);
    const gateway = (await call('get', '/api/hosts?q=olt-gw')).body.hosts[0];
    const group = await call('patch', '/api/groups/olt-1', { gateway_host_id: gateway.id, max_concurrent_checks: GROUP_LIMIT });
    expect(group.status).toBe(200);
    expect(group.body.gateway_host_id).toBe(gateway.id);
    const hook = await call('post', '/api/webhooks', { url: `${receiver.url}/hook` });
    expect(hook.status).toBe(201);

    await waitFor('every host checked once, healthy', async () => {
      const { rows } = await ctx.pool.query(`SELECT count(*)::int AS n FROM hosts WHERE last_check IS NOT NULL AND monitoring_state = 'HEALTHY'`);
      return rows[0].n === CHILDREN + 1;
    }, 60_000, 200);

    // The OLT dies, and with it every host behind it.
    const outageAt = Date.now();
    fleet.down.add('olt-gw');
    for (const n of childNames) fleet.down.add(n);

    await waitFor('the gateway DOWN and the 200 UNREACHABLE', async () => {
      const s = await states();
      return s.get('olt-gw') === 'DOWN' && childNames.every((n) => s.get(n) === 'UNREACHABLE');
    }, 60_000, 200);
    const allUnreachableAt = Date.now();

    // While it stays down, the 200 are left alone: at most one check each per slow interval.
    const HOLD_MS = 8_000;
    await new Promise((r) => setTimeout(r, HOLD_MS));
    const heldUntil = Date.now();
    const perChild = new Map<string, number>();
    for (const p of fleet.probes) if (children.has(p.path) && p.at >= allUnreachableAt && p.at < heldUntil) perChild.set(p.path, (perChild.get(p.path) ?? 0) + 1);
    const slowCadenceAllows = Math.ceil(HOLD_MS / (UNREACHABLE_INTERVAL_S * 900)); // 0.9: the jitter's shortest interval
    expect(Math.max(0, ...perChild.values())).toBeLessThanOrEqual(slowCadenceAllows);
    expect(fleet.count(children, allUnreachableAt, heldUntil)).toBeLessThanOrEqual(CHILDREN * slowCadenceAllows);
    // Without dependencies they would walk to DOWN and stay at CRITICAL/DOWN's 0.5–1 s cadence:
    // 1,600 probes or more in the same 8 s. Over the whole outage so far, a handful each at most.
    const outageProbes = fleet.count(children, outageAt, heldUntil);
    expect(outageProbes).toBeLessThanOrEqual(CHILDREN * (3 + slowCadenceAllows));

    // One incident: the gateway's, counting the 200 it made unreachable.
    const incidents = (await call('get', '/api/incidents?status=open')).body.incidents;
    expect(incidents.map((i: { host_name: string }) => i.host_name)).toEqual(['olt-gw']);
    expect(incidents[0].current_state).toBe('DOWN');
    expect(incidents[0].unreachable_count).toBe(CHILDREN);
    const page1 = await call('get', `/api/incidents/${incidents[0].id}/unreachable-hosts?limit=150`);
    expect(page1.body.hosts).toHaveLength(150);
    const page2 = await call('get', `/api/incidents/${incidents[0].id}/unreachable-hosts?limit=150&after=${page1.body.next_cursor}`);
    expect(page2.body.next_cursor).toBeNull();
    expect(new Set([...page1.body.hosts, ...page2.body.hosts].map((h: { name: string }) => h.name))).toEqual(children);
    const { rows: childIncidents } = await ctx.pool.query(`SELECT count(*)::int AS n FROM incidents i JOIN hosts h ON h.id = i.host_id WHERE h.name <> 'olt-gw'`);
    expect(childIncidents[0].n).toBe(0);

    // Every state is shown: the state endpoint names the failing parent, the stats count UNREACHABLE.
    const child = (await call('get', '/api/hosts?q=ont-007')).body.hosts[0];
    expect(child).toMatchObject({ monitoring_state: 'UNREACHABLE', current_status: 'unreachable' });
    const state = await call('get', `/api/monitoring/hosts/${child.id}/state`);
    expect(state.body.failing_parents).toEqual([{ host_id: gateway.id, name: 'olt-gw', state: 'DOWN' }]);
    expect(state.body.check_interval_info.minutes).toBe(UNREACHABLE_INTERVAL_S / 60);
    const stats = await call('get', '/api/monitoring/stats');
    expect(stats.body.hosts_by_state.UNREACHABLE).toBe(CHILDREN);
    // A JIT check of an unreachable host still runs, and says the parent is down.
    const jit = await call('post', `/api/monitoring/hosts/${child.id}/check-connectivity?wait=true`);
    expect(jit.status).toBe(200);
    expect(jit.body.result.success).toBe(false);
    expect(jit.body.message).toMatch(/UNREACHABLE.*olt-gw is DOWN/);

    // Events carry the state (so notifications can skip them); webhooks got only the gateway's.
    const { rows: childEvents } = await ctx.pool.query<{ type: string; to_state: string }>(
      `SELECT type, to_state FROM host_events WHERE host_name <> 'olt-gw' AND type = 'state_changed'`,
    );
    expect(childEvents.length).toBeGreaterThanOrEqual(CHILDREN);
    expect(childEvents.every((e) => e.to_state === 'UNREACHABLE')).toBe(true);
    await waitFor('the gateway incident delivered', async () => receiver.requests.some((r) => r.body.includes('"incident_opened"')), 30_000);
    const { rows: childDeliveries } = await ctx.pool.query(
      `SELECT count(*)::int AS n FROM webhook_deliveries d JOIN host_events e ON e.id = d.event_id WHERE e.host_name <> 'olt-gw'`,
    );
    expect(childDeliveries[0].n).toBe(0);
    expect(receiver.requests.filter((r) => /ont-\d{3}/.test(r.body))).toHaveLength(0);

    // The OLT comes back.
    fleet.down.clear();
    fleet.maxInFlight = 0;
    await waitFor('the gateway HEALTHY', async () => (await states()).get('olt-gw') === 'HEALTHY', 60_000, 100);
    const recoveredAt = Date.now();
    await waitFor('the 200 HEALTHY again', async () => (await childrenIn('HEALTHY')) === CHILDREN, RECOVERY_BOUND_MS, 200).catch(async (err) => {
      const { rows } = await ctx.pool.query(`SELECT monitoring_state, count(*)::int, min(next_check_time) AS next, max(last_check) AS last, count(lease_job_id)::int AS leased FROM hosts GROUP BY 1`);
      console.log('DEBUG', new Date().toISOString(), JSON.stringify(rows), fleet.count(children, recoveredAt), JSON.stringify(ctx.vigil.transport.entries.filter((e) => e.level !== 'debug').slice(-15)));
      throw err;
    });
    const allBackMs = Date.now() - recoveredAt;
    // They were checked well before their 15 s slow cadence would have had them, never more at once than the group allows.
    expect(allBackMs).toBeLessThan(RECOVERY_BOUND_MS);
    expect(fleet.maxInFlight).toBeLessThanOrEqual(GROUP_LIMIT);
    const { rows: resolved } = await ctx.pool.query(`SELECT status FROM incidents`);
    expect(resolved).toEqual([{ status: 'resolved' }]);
    console.log(`OLT: ${outageProbes} probes to the 200 during the outage, ${fleet.count(children, allUnreachableAt, heldUntil)} in the ${HOLD_MS} ms hold; all back ${allBackMs} ms after the gateway, at most ${fleet.maxInFlight} at once`);
  }, 240_000);
});
