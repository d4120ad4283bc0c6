import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_ENV, useTestVigil, waitFor } from '../helpers/vigil.ts';
import { reserveRefusedPort, startSilentTarget, startTcpTarget, type LoopbackTarget } from '../helpers/targets.ts';

let target: LoopbackTarget;
let refused: LoopbackTarget;
beforeAll(async () => {
  target = await startTcpTarget();
  refused = await reserveRefusedPort();
});
afterAll(async () => {
  await target?.close();
});

const tcpHost = (name: string, port: number, extra: Record<string, unknown> = {}) => ({ name, address: '127.0.0.1', probes: [{ type: 'tcp', port }], ...extra });

describe('a host on a policy with a 10-second HEALTHY interval', () => {
  const ctx = useTestVigil({
    roles: ['api', 'scheduler', 'worker'],
    // Fleet default: HEALTHY every 10 minutes, so a default host is checked once in this test.
    env: { VIGIL_PRODUCER_INTERVAL_MS: '50', VIGIL_FIRST_CHECK_SPREAD_SECONDS: '0', VIGIL_CHECK_TIMEOUT_MS: '2000', VIGIL_HEALTHY_INTERVAL_SECONDS: '600', VIGIL_SHUTDOWN_GRACE_MS: '5000' },
  });

  it('is checked at its own cadence next to hosts on the defaults (from its history)', async () => {
    const policy = await ctx.call('post', '/api/policies', { name: 'fast', settings: { states: { HEALTHY: { interval_seconds: 10 } }, check_timeout_ms: 2000 } });
    expect(policy.status).toBe(201);
    const fast = await ctx.call('post', '/api/hosts', tcpHost('fast-host', target.port, { policy_id: policy.body.id }));
    const slow = await ctx.call('post', '/api/hosts', tcpHost('default-host', target.port));
    expect(fast.status).toBe(201);
    const times = async (id: string) =>
      (await ctx.pool.query<{ check_time: Date }>(`SELECT check_time FROM host_monitoring_history WHERE host_id = $1 ORDER BY check_time`, [id])).rows.map((r) => r.check_time.getTime());
    const fastTimes = await waitFor('three checks of the fast host', async () => {
      const t = await times(fast.body.id);
      return t.length >= 3 && t;
    }, 60_000, 200);
    // 10 s ± the 10 % jitter, plus generous room for a loaded machine.
    const gaps = fastTimes.slice(1).map((t, i) => (t - fastTimes[i]!) / 1000);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(8.9);
      expect(gap).toBeLessThan(25);
    }
    expect(await times(slow.body.id)).toHaveLength(1);
    const state = await ctx.call('get', `/api/monitoring/hosts/${fast.body.id}/state`);
    expect(state.body.check_interval_info.description).toBe('Stable - 10 sec checks');
    expect(state.body.effective_policy.sources['states.HEALTHY.interval_seconds']).toEqual({ level: 'host_policy', policy: 'fast' });
    expect(state.body.effective_policy.sources['states.DOWN.interval_seconds']).toEqual({ level: 'defaults' });
  }, 90_000);
});

describe('failure thresholds from a policy', () => {
  const ctx = useTestVigil({
    roles: ['api', 'scheduler', 'worker'],
    env: { ...FAST_ENV, VIGIL_POLICY_MIN_INTERVAL_SECONDS: '0.1' },
  });

  it('moves a host to DEGRADED after the policy\'s third failure, a default host after its first', async () => {
    const policy = await ctx.call('post', '/api/policies', {
      name: 'patient',
      settings: { degraded_after_failures: 3, critical_after_failures: 4, down_after_failures: 5 },
    });
    expect(policy.status).toBe(201);
    const patient = await ctx.call('post', '/api/hosts', tcpHost('patient', refused.port, { policy_id: policy.body.id }));
    const eager = await ctx.call('post', '/api/hosts', tcpHost('eager', refused.port));
    const firstDegraded = async (id: string) => {
      const { rows } = await ctx.pool.query<{ success: boolean; monitoring_state: string }>(
        `SELECT success, monitoring_state FROM host_monitoring_history WHERE host_id = $1 ORDER BY check_time`,
        [id],
      );
      const i = rows.findIndex((r) => r.monitoring_state === 'DEGRADED');
      return i >= 0 ? { failuresBefore: i + 1, rows } : undefined;
    };
    const p = await waitFor('the patient host to degrade', () => firstDegraded(patient.body.id), 30_000);
    const e = await waitFor('the eager host to degrade', () => firstDegraded(eager.body.id), 30_000);
    expect(p.failuresBefore).toBe(3);
    expect(p.rows.slice(0, 2).map((r) => r.monitoring_state)).toEqual(['HEALTHY', 'HEALTHY']);
    expect(e.failuresBefore).toBe(1);
    // Policy DOWN after 5: the host reaches DOWN on its fifth failure.
    const down = await waitFor('the patient host to go DOWN', async () => {
      const { rows } = await ctx.pool.query<{ monitoring_state: string }>(`SELECT monitoring_state FROM host_monitoring_history WHERE host_id = $1 ORDER BY check_time`, [patient.body.id]);
      const i = rows.findIndex((r) => r.monitoring_state === 'DOWN');
      return i >= 0 ? i + 1 : undefined;
    }, 30_000);
    expect(down).toBe(5);
  }, 60_000);
});

describe('a check timeout from a policy', () => {
  const ctx = useTestVigil({ roles: ['api', 'scheduler', 'worker'], env: { ...FAST_ENV, VIGIL_POLICY_MIN_INTERVAL_SECONDS: '0.1' } });
  let silent: LoopbackTarget;
  beforeAll(async () => {
    silent = await startSilentTarget();
  });
  afterAll(async () => {
    await silent?.close();
  });

  it('ends a check against a silent server at the policy\'s timeout, not the fleet\'s', async () => {
    const every = { interval_seconds: 1 };
    const policy = await ctx.call('post', '/api/policies', {
      name: 'impatient', settings: { check_timeout_ms: 400, states: { HEALTHY: every, DEGRADED: every, CRITICAL: every, DOWN: every } },
    });
    expect(policy.status).toBe(201);
    const host = await ctx.call('post', '/api/hosts', { name: 'silent', address: '127.0.0.1', probes: [{ type: 'http', url: silent.url }], policy_id: policy.body.id });
    const [check] = await waitFor('a timed-out check', async () => {
      const { rows } = await ctx.pool.query<{ error_type: string; response_time_ms: number }>(
        `SELECT error_type, response_time_ms FROM host_monitoring_history WHERE host_id = $1`, [host.body.id],
      );
      return rows.length > 0 && rows;
    }, 20_000);
    expect(check!.error_type).toBe('timeout');
    // The fleet's timeout is 2 s (FAST_ENV); the policy's 400 ms ended it.
    expect(check!.response_time_ms).toBeGreaterThanOrEqual(350);
    expect(check!.response_time_ms).toBeLessThan(1500);
  }, 40_000);
});

describe('policy inheritance, validation and rescheduling', () => {
  const ctx = useTestVigil({ roles: ['api'], env: { VIGIL_HEALTHY_INTERVAL_SECONDS: '1800', VIGIL_FIRST_CHECK_SPREAD_SECONDS: '5' } });
  const effective = async (hostId: string) => (await ctx.call('get', `/api/monitoring/hosts/${hostId}/state`)).body.effective_policy;

  it('resolves each field host -> group -> fleet defaults, and a field removed falls back', async () => {
    const groupPolicy = await ctx.call('post', '/api/policies', {
      name: 'site-b', settings: { states: { HEALTHY: { interval_seconds: 120 }, DOWN: { interval_seconds: 600 } }, check_timeout_ms: 4000 },
    });
    const hostPolicy = await ctx.call('post', '/api/policies', { name: 'core', settings: { states: { HEALTHY: { interval_seconds: 60 } } } });
    expect((await ctx.call('patch', '/api/groups/site-b', { policy_id: groupPolicy.body.id })).body.policy_id).toBe(groupPolicy.body.id);
    const host = await ctx.call('post', '/api/hosts', tcpHost('inherits', 22, { group: 'site-b', policy_id: hostPolicy.body.id, policy_overrides: { check_timeout_ms: 3000 } }));
    expect(host.status).toBe(201);
    let e = await effective(host.body.id);
    expect(e.values.states.HEALTHY.interval_seconds).toBe(60);
    expect(e.sources['states.HEALTHY.interval_seconds']).toEqual({ level: 'host_policy', policy: 'core' });
    expect(e.values.states.DOWN.interval_seconds).toBe(600);
    expect(e.sources['states.DOWN.interval_seconds']).toEqual({ level: 'group_policy', policy: 'site-b', group: 'site-b' });
    expect(e.values.check_timeout_ms).toBe(3000);
    expect(e.sources.check_timeout_ms).toEqual({ level: 'host' });
    expect(e.values.states.DEGRADED.interval_seconds).toBe(300);
    expect(e.sources['states.DEGRADED.interval_seconds']).toEqual({ level: 'defaults' });
    expect(e.values.probe_retries).toBeNull();

    // The host's override removed: its timeout comes from the group's policy.
    await ctx.call('patch', `/api/hosts/${host.body.id}`, { policy_overrides: {} });
    e = await effective(host.body.id);
    expect(e.values.check_timeout_ms).toBe(4000);
    expect(e.sources.check_timeout_ms.level).toBe('group_policy');
    // The field removed from the host's policy (null in the merge patch): the group's applies.
    await ctx.call('patch', `/api/policies/${hostPolicy.body.id}`, { settings: { states: { HEALTHY: { interval_seconds: null } } } });
    e = await effective(host.body.id);
    expect(e.values.states.HEALTHY.interval_seconds).toBe(120);
    // No host policy: the group's; the group's policy gone: the defaults.
    await ctx.call('patch', `/api/hosts/${host.body.id}`, { policy_id: null });
    await ctx.call('patch', '/api/groups/site-b', { policy_id: null });
    e = await effective(host.body.id);
    expect(e.values.states.HEALTHY.interval_seconds).toBe(1800);
    expect(Object.values(e.sources).every((s) => (s as { level: string }).level === 'defaults')).toBe(true);
    // A policy no longer used can be deleted; one in use cannot.
    expect((await ctx.call('delete', `/api/policies/${groupPolicy.body.id}`)).status).toBe(204);
  });

  it('names the field of every invalid setting', async () => {
    const res = await ctx.call('post', '/api/policies', {
      name: 'bad', settings: { states: { DEGRADED: { interval_seconds: 2 } }, check_timeout_ms: 90_000, degraded_after_failures: 4, critical_after_failures: 2 },
    });
    expect(res.status).toBe(400);
    const fields = res.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toContain('body.settings.states.DEGRADED.interval_seconds');
    expect(fields).toContain('body.settings.check_timeout_ms');
    expect(fields).toContain('body.settings.critical_after_failures');
    const timeout = await ctx.call('post', '/api/policies', { name: 'slow', settings: { states: { CRITICAL: { interval_seconds: 20 } }, check_timeout_ms: 10_000 } });
    expect(timeout.status).toBe(201);
    const tooSlow = await ctx.call('patch', `/api/policies/${timeout.body.id}`, { settings: { check_timeout_ms: null, states: { CRITICAL: { interval_seconds: 10 } } } });
    // The fleet's 10 s timeout is not shorter than the policy's 10 s CRITICAL interval.
    expect(tooSlow.status).toBe(400);
    expect(tooSlow.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.settings.states.CRITICAL.interval_seconds']);
    const unknown = await ctx.call('post', '/api/policies', { name: 'odd', settings: { states: { SLEEPY: {} } } });
    expect(unknown.status).toBe(400);
    const badOverride = await ctx.call('post', '/api/hosts', tcpHost('bad-override', 22, { policy_overrides: { down_after_failures: 1 } }));
    expect(badOverride.status).toBe(400);
    expect(badOverride.body.errors[0].field).toBe('body.policy_overrides.down_after_failures');
    const noPolicy = await ctx.call('post', '/api/hosts', tcpHost('no-policy', 22, { policy_id: '00000000-0000-4000-8000-000000000000' }));
    expect(noPolicy.status).toBe(400);
    expect(noPolicy.body.errors[0].field).toBe('body.policy_id');
  });

  it('refuses a policy change that would make a host\'s effective policy invalid, naming the host', async () => {
    const policy = await ctx.call('post', '/api/policies', { name: 'shared', settings: { check_timeout_ms: 5000, states: { DEGRADED: { interval_seconds: 12 } } } });
    const host = await ctx.call('post', '/api/hosts', tcpHost('strict-host', 22, { policy_id: policy.body.id, policy_overrides: { check_timeout_ms: 10_000 } }));
    expect(host.status).toBe(201);
    // Valid for the policy (its 5 s timeout), not for the host's own 10 s timeout.
    const res = await ctx.call('patch', `/api/policies/${policy.body.id}`, { settings: { states: { DEGRADED: { interval_seconds: 10 } } } });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('hosts.strict-host.check_timeout_ms');
    // Nothing was written.
    expect((await ctx.call('get', `/api/policies/${policy.body.id}`)).body.settings.states.DEGRADED.interval_seconds).toBe(12);
  });

  it('refuses moving a host into a group whose policy its own override contradicts, writing nothing', async () => {
    const tight = await ctx.call('post', '/api/policies', { name: 'tight', settings: { check_timeout_ms: 5000, states: { HEALTHY: { interval_seconds: 10 } } } });
    await ctx.call('patch', '/api/groups/tight-group', { policy_id: tight.body.id });
    const host = await ctx.call('post', '/api/hosts', tcpHost('slow-timeout', 22, { policy_overrides: { check_timeout_ms: 10_000 } }));
    expect(host.status).toBe(201);
    const moved = await ctx.call('patch', `/api/hosts/${host.body.id}`, { group: 'tight-group' });
    expect(moved.status).toBe(400);
    expect(moved.body.errors.map((e: { field: string }) => e.field)).toContain('body.policy_overrides.check_timeout_ms');
    expect((await ctx.call('get', `/api/hosts/${host.body.id}`)).body.group).toBeNull();
    // Created straight into the group: refused too, and no host is left behind.
    const created = await ctx.call('post', '/api/hosts', tcpHost('slow-timeout-2', 22, { group: 'tight-group', policy_overrides: { check_timeout_ms: 10_000 } }));
    expect(created.status).toBe(400);
    expect((await ctx.call('get', '/api/hosts?q=slow-timeout-2')).body.hosts).toEqual([]);
  });

  it('reschedules on a policy change: a shorter interval takes effect from the last check, spread, with the new priority', async () => {
    const policy = await ctx.call('post', '/api/policies', { name: 'later-faster', settings: {} });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await ctx.call('post', '/api/hosts', tcpHost(`r-${i}`, 22, { policy_id: policy.body.id }))).body.id);
    // Checked 25 minutes ago (database time), next due in 5 minutes under the 30-minute default.
    await ctx.pool.query(`UPDATE hosts SET last_check = now() - interval '25 minutes', next_check_time = now() + interval '5 minutes' WHERE id = ANY ($1::uuid[])`, [ids]);
    await ctx.pool.query(`UPDATE hosts SET last_check = now() - interval '10 seconds' WHERE id = $1`, [ids[0]]);
    const res = await ctx.call('patch', `/api/policies/${policy.body.id}`, { settings: { states: { HEALTHY: { interval_seconds: 60, priority: 8 } } } });
    expect(res.status).toBe(200);
    const { rows } = await ctx.pool.query<{ id: string; due_in: number; check_priority: number }>(
      `SELECT id, extract(epoch FROM next_check_time - now())::float8 AS due_in, check_priority FROM hosts WHERE id = ANY ($1::uuid[])`,
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    // Checked 10 s ago: due one new interval (60 s ± 6 s jitter) after that check.
    expect(byId.get(ids[0]!)!.due_in).toBeGreaterThan(40);
    expect(byId.get(ids[0]!)!.due_in).toBeLessThan(60);
    // Overdue under the new interval: due now, spread over the first-check window (5 s), not all at once.
    const overdue = ids.slice(1).map((id) => byId.get(id)!.due_in);
    for (const d of overdue) expect(d).toBeLessThanOrEqual(5.5);
    expect(new Set(overdue.map((d) => Math.round(d * 10))).size).toBeGreaterThan(5);
    for (const r of rows) expect(r.check_priority).toBe(8);
  });

  it('creates and replaces policies in bulk, all or nothing, and imports hosts with policy fields', async () => {
    const first = await ctx.call('post', '/api/policies/bulk', { policies: [{ name: 'bulk-critical', settings: { states: { HEALTHY: { interval_seconds: 60 } } } }, { name: 'bulk-standard' }] });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ created: ['bulk-critical', 'bulk-standard'], updated: [] });
    const list = (await ctx.call('get', '/api/policies')).body.policies as { id: string; name: string }[];
    const critical = list.find((p) => p.name === 'bulk-critical')!;
    const hosts = await ctx.call('post', '/api/hosts/bulk', { hosts: [tcpHost('bulk-a', 22, { policy_id: critical.id, policy_overrides: { probe_retries: 2 } }), tcpHost('bulk-b', 22)] });
    expect(hosts.status).toBe(200);
    const a = (await ctx.call('get', '/api/hosts?q=bulk-a')).body.hosts[0];
    expect(a).toMatchObject({ policy_id: critical.id, policy_overrides: { probe_retries: 2 } });
    expect((await effective(a.id)).values.probe_retries).toBe(2);
    // One bad policy: nothing is written, and the error names it by position.
    const bad = await ctx.call('post', '/api/policies/bulk', { policies: [{ name: 'bulk-critical', settings: { states: { HEALTHY: { interval_seconds: 30 } } } }, { name: 'bulk-bad', settings: { states: { DOWN: { interval_seconds: 1 } } } }] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('body.policies.1.settings.states.DOWN.interval_seconds');
    expect((await effective(a.id)).values.states.HEALTHY.interval_seconds).toBe(60);
    // Replaced: the hosts on it follow at once.
    const second = await ctx.call('post', '/api/policies/bulk', { policies: [{ name: 'bulk-critical', settings: { states: { HEALTHY: { interval_seconds: 30, priority: 9 } } } }] });
    expect(second.body).toMatchObject({ created: [], updated: ['bulk-critical'], rescheduled_hosts: 1 });
    expect((await effective(a.id)).values.states.HEALTHY).toEqual({ interval_seconds: 30, priority: 9 });
    expect((await ctx.call('get', `/api/hosts/${a.id}`)).body.check_priority).toBe(9);
    const badHost = await ctx.call('post', '/api/hosts/bulk', { hosts: [tcpHost('bulk-c', 22, { policy_overrides: { states: { HEALTHY: { interval_seconds: 2 } } } })] });
    expect(badHost.status).toBe(400);
    expect(badHost.body.errors[0].field).toBe('body.hosts.0.policy_overrides.states.HEALTHY.interval_seconds');
  });
});
