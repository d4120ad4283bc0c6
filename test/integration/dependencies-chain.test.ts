import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetTarget } from '../helpers/fleet-target.ts';
import { useTestVigil, waitFor } from '../helpers/vigil.ts';

/** A host behind a switch behind a router; cycles and deletes of parents refused. */

const ENV = {
  VIGIL_HEALTHY_INTERVAL_SECONDS: '1',
  VIGIL_DEGRADED_INTERVAL_SECONDS: '0.5',
  VIGIL_CRITICAL_INTERVAL_SECONDS: '0.5',
  VIGIL_DOWN_INTERVAL_SECONDS: '0.5',
  VIGIL_UNREACHABLE_INTERVAL_SECONDS: '60',
  VIGIL_DEPENDENCY_RECOVERY_SPREAD_SECONDS: '0.5',
  VIGIL_PRODUCER_INTERVAL_MS: '50',
  VIGIL_FIRST_CHECK_SPREAD_SECONDS: '0',
  VIGIL_WORKER_POLL_SECONDS: '0.5',
  VIGIL_CHECK_TIMEOUT_MS: '2000',
  VIGIL_SHUTDOWN_GRACE_MS: '5000',
};

const fleet = new FleetTarget(5);
beforeAll(() => fleet.start());
afterAll(() => fleet.stop());
const ctx = useTestVigil({ roles: ['api', 'scheduler', 'worker'], env: ENV });
const { call } = ctx;

const host = (name: string, dependsOn: string[] = []) => ({ name, address: '127.0.0.1', probes: [{ type: 'http', url: fleet.url(name) }], depends_on: dependsOn });
async function byName(name: string) {
  return (await call('get', `/api/hosts?q=${name}`)).body.hosts.find((h: { name: string }) => h.name === name);
}
async function stateOf(name: string): Promise<string> {
  const { rows } = await ctx.pool.query(`SELECT monitoring_state FROM hosts WHERE name = $1`, [name]);
  return rows[0].monitoring_state;
}

describe('dependencies through the API', () => {
  it('bulk takes parents by name, of the batch or existing, and names an unknown one', async () => {
    // Children listed before their parents: names resolve once the whole batch exists.
    const res = await call('post', '/api/hosts/bulk', { hosts: [host('leaf', ['switch']), host('switch', ['router']), host('router')] });
    expect(res.status).toBe(200);
    const [router, sw, leaf] = [await byName('router'), await byName('switch'), await byName('leaf')];
    expect(sw.depends_on).toEqual([router.id]);
    expect(leaf.depends_on).toEqual([sw.id]);

    const unknown = await call('post', '/api/hosts/bulk', { hosts: [host('orphan', ['nowhere'])] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([{ field: 'body.hosts.0.depends_on.0', message: expect.stringContaining('nowhere') }]);
    expect(await byName('orphan')).toBeUndefined();
  });

  it('refuses a cycle with a 400 that names it, and writes nothing', async () => {
    const [router, leaf] = [await byName('router'), await byName('leaf')];
    const res = await call('patch', `/api/hosts/${router.id}`, { depends_on: [leaf.id] });
    expect(res.status).toBe(400);
    expect(res.body.detail).toBe('dependency cycle: router -> leaf -> switch -> router');
    expect(res.body.errors[0].field).toBe('body.depends_on');
    expect((await byName('router')).depends_on).toEqual([]);
    // A group gateway closes cycles too: the leaf's group gateway may not be a host behind the leaf.
    await call('patch', `/api/hosts/${router.id}`, { group: 'core' });
    const gateway = await call('patch', '/api/groups/core', { gateway_host_id: leaf.id });
    expect(gateway.status).toBe(400);
    expect(gateway.body.detail).toMatch(/dependency cycle: leaf -> switch -> router -> leaf/);
    expect((await call('get', '/api/groups/core')).body.gateway_host_id).toBeNull();
    await call('patch', `/api/hosts/${router.id}`, { group: null });
    const self = await call('patch', `/api/hosts/${router.id}`, { depends_on: [router.id] });
    expect(self.status).toBe(400);
    expect(self.body.errors).toEqual([{ field: 'body.depends_on.0', message: 'a host cannot depend on itself' }]);
  });

  it('follows a chain of three: the router DOWN makes the switch and the host behind it UNREACHABLE, one incident; back, all HEALTHY', async () => {
    await waitFor('all three checked and healthy', async () => {
      const { rows } = await ctx.pool.query(`SELECT count(*)::int AS n FROM hosts WHERE last_check IS NOT NULL AND monitoring_state = 'HEALTHY'`);
      return rows[0].n === 3;
    }, 30_000);
    for (const n of ['router', 'switch', 'leaf']) fleet.down.add(n);
    await waitFor('router DOWN, switch and leaf UNREACHABLE', async () =>
      (await stateOf('router')) === 'DOWN' && (await stateOf('switch')) === 'UNREACHABLE' && (await stateOf('leaf')) === 'UNREACHABLE', 30_000);
    const leaf = await byName('leaf');
    const state = await call('get', `/api/monitoring/hosts/${leaf.id}/state`);
    // The leaf's own parent is the switch; the router two levels up is what is down.
    expect(state.body.failing_parents.map((p: { name: string }) => p.name).sort()).toEqual(['router', 'switch']);
    const incidents = (await call('get', '/api/incidents')).body.incidents;
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ host_name: 'router', unreachable_count: 2 });

    fleet.down.clear();
    await waitFor('all three HEALTHY again', async () =>
      (await stateOf('router')) === 'HEALTHY' && (await stateOf('switch')) === 'HEALTHY' && (await stateOf('leaf')) === 'HEALTHY', 30_000);
    expect((await call('get', '/api/incidents')).body.incidents[0].status).toBe('resolved');
  }, 90_000);

  it('refuses to delete a parent while hosts depend on it, unless asked to detach them', async () => {
    const router = await byName('router');
    const refused = await call('delete', `/api/hosts/${router.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/1 host\(s\) depend on it \(switch\).*detach=true/);
    expect(await byName('router')).toBeDefined();
    const deleted = await call('delete', `/api/hosts/${router.id}?detach=true`);
    expect(deleted.status).toBe(204);
    expect(await byName('router')).toBeUndefined();
    expect((await byName('switch')).depends_on).toEqual([]);
  });
});
