import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli, useInputFiles } from '../helpers/cli.ts';
import { TEST_ADMIN_TOKEN, type TestVigil, useTestVigil } from '../helpers/vigil.ts';

// `vigil apply` beyond hosts and groups, through the bin against a live API: parents and gateways,
// check policies, maintenance windows, notification channels (secrets from environment variables)
// and rules, all named in the file; dry-run diff, apply, idempotent re-apply, prune, export round trip.
let vigil: TestVigil;
let env: Record<string, string>;
const HOOK_SECRET = 'hook-secret-0123456789abcdef';

const ctx = useTestVigil({ roles: ['api'], env: { VIGIL_SECRET_KEY: randomBytes(32).toString('base64'), VIGIL_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8' } });
beforeAll(async () => {
  vigil = ctx.vigil;
  env = { VIGIL_URL: vigil.apiUrl!, VIGIL_TOKEN: TEST_ADMIN_TOKEN };
});
const { file } = useInputFiles('vigil-apply-sections-');

const FLEET = `policies:
  - name: core
    description: core network
    settings: { probe_retries: 1 }
groups:
  - name: site-a
    max_concurrent_checks: 4
    policy: core
    gateway: olt-1
hosts:
  - name: olt-1
    address: 10.0.0.1
    probes: [{ type: tcp, port: 22 }]
  - name: sw-1
    address: 10.0.0.2
    policy: core
    probes: [{ type: tcp, port: 22 }]
  - name: onu-1
    address: 10.0.0.3
    group: site-a
    depends_on: [sw-1]
    probes: [{ type: tcp, port: 22 }]
maintenance_windows:
  - label: patch night
    cron: "30 2 * * 0"
    duration_seconds: 3600
    time_zone: Europe/Berlin
    groups: [site-a]
    hosts: [sw-1]
  - label: fibre move
    starts_at: "2027-01-10T22:00"
    ends_at: "2027-01-11T02:00"
    time_zone: Europe/Berlin
    tags: [fibre]
notification_channels:
  - name: ops-hook
    type: webhook
    config:
      url: http://127.0.0.1:9/hook
      secret: { env: HOOK_SECRET }
notification_rules:
  - name: page-down
    channels: [ops-hook]
    states: [DOWN]
    hosts: [olt-1]
`;

interface Host { id: string; name: string; policy_id: string | null; depends_on: string[] }
const api = async <T>(p: string): Promise<T> => (await vigil.http().get(p).expect(200)).body as T;
const hostsByName = async () => new Map((await api<{ hosts: Host[] }>('/api/hosts?limit=1000')).hosts.map((h) => [h.name, h]));
const policies = async () => (await api<{ policies: { id: string; name: string; settings: Record<string, unknown> }[] }>('/api/policies')).policies;

const NO_CHANGES =
  'No changes: hosts: 0 to create, 0 to update, 3 unchanged, 0 to delete; groups: 0 to create, 0 to update, 1 unchanged; ' +
  'policies: 0 to create, 0 to update, 1 unchanged, 0 to delete; maintenance windows: 0 to create, 0 to update, 2 unchanged, 0 to delete; ' +
  'channels: 0 to create, 0 to update, 1 unchanged, 0 to delete; rules: 0 to create, 0 to update, 1 unchanged, 0 to delete\n';

describe('vigil apply: dependencies, policies, windows, channels and rules', () => {
  it('diffs, refuses a missing secret, applies everything by name, then has nothing to change', async () => {
    const fleet = await file('fleet.yaml', FLEET);
    const dry = await runCli(['apply', '-f', fleet, '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe(
      '+ policy core\n+ channel ops-hook\n+ group site-a\n+ host olt-1\n+ host sw-1\n+ host onu-1\n+ window patch night\n+ window fibre move\n+ rule page-down\n' +
        'hosts: 3 to create, 0 to update, 0 unchanged, 0 to delete; groups: 1 to create, 0 to update, 0 unchanged; ' +
        'policies: 1 to create, 0 to update, 0 unchanged, 0 to delete; maintenance windows: 2 to create, 0 to update, 0 unchanged, 0 to delete; ' +
        'channels: 1 to create, 0 to update, 0 unchanged, 0 to delete; rules: 1 to create, 0 to update, 0 unchanged, 0 to delete\n',
    );
    expect(await policies()).toEqual([]);

    const noSecret = await runCli(['apply', '-f', fleet], env);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toMatch(/fleet\.yaml:40: notification_channels\.0\.config\.secret: environment variable HOOK_SECRET is not set/);
    expect(await policies()).toEqual([]);
    expect((await hostsByName()).size).toBe(0);

    const applied = await runCli(['apply', '-f', fleet], { ...env, HOOK_SECRET });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/applied\n$/);
    expect(applied.stdout + applied.stderr).not.toContain(HOOK_SECRET);

    const hosts = await hostsByName();
    const [core] = await policies();
    expect(core).toMatchObject({ name: 'core', settings: { probe_retries: 1 } });
    expect(hosts.get('sw-1')!.policy_id).toBe(core!.id);
    expect(hosts.get('onu-1')!.depends_on).toEqual([hosts.get('sw-1')!.id]);
    expect(await api(`/api/groups/site-a`)).toMatchObject({ max_concurrent_checks: 4, policy_id: core!.id, gateway_host_id: hosts.get('olt-1')!.id });
    const windows = (await api<{ windows: { label: string; hosts: string[]; groups: string[]; starts_at: string | null; cron: string | null }[] }>('/api/maintenance-windows')).windows;
    expect(windows.find((w) => w.label === 'patch night')).toMatchObject({ cron: '30 2 * * 0', hosts: [hosts.get('sw-1')!.id], groups: ['site-a'] });
    // The wall-clock time is on the window's zone: 22:00 in Berlin in January is 21:00 UTC.
    expect(Date.parse(windows.find((w) => w.label === 'fibre move')!.starts_at!)).toBe(Date.parse('2027-01-10T21:00:00Z'));
    const [channel] = (await api<{ channels: { id: string; name: string; secrets_set: string[]; config: Record<string, unknown> }[] }>('/api/notification-channels')).channels;
    expect(channel).toMatchObject({ name: 'ops-hook', secrets_set: ['secret'], config: { url: 'http://127.0.0.1:9/hook' } });
    const [rule] = (await api<{ rules: { name: string; channel_ids: string[]; host_ids: string[]; states: string[] }[] }>('/api/notification-rules')).rules;
    expect(rule).toMatchObject({ name: 'page-down', channel_ids: [channel!.id], host_ids: [hosts.get('olt-1')!.id], states: ['DOWN'] });

    // The secret Vigil holds is not sent again (it can't be compared), so no variable is needed now.
    const again = await runCli(['apply', '-f', fleet], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(NO_CHANGES);
  }, 240_000);

  it('sees a change of parents, gateway, policy, window, channel and rule alone, and applies it', async () => {
    const changed = FLEET.replace('depends_on: [sw-1]', 'depends_on: [sw-1, olt-1]')
      .replace('gateway: olt-1', 'gateway: sw-1')
      .replace('probe_retries: 1', 'probe_retries: 2')
      .replace('"30 2 * * 0"', '"30 3 * * 0"')
      .replace('url: http://127.0.0.1:9/hook', 'url: http://127.0.0.1:9/hook2')
      .replace('states: [DOWN]', 'states: [DOWN, CRITICAL]');
    const fleet = await file('changed.yaml', changed);
    const dry = await runCli(['apply', '-f', fleet, '--dry-run', '-o', 'json'], env);
    expect(JSON.parse(dry.stdout)).toEqual({
      dry_run: true,
      applied: false,
      hosts: { create: [], update: ['onu-1'], unchanged: ['olt-1', 'sw-1'], delete: [] },
      groups: { create: [], update: ['site-a'], unchanged: [] },
      policies: { create: [], update: ['core'], unchanged: [], delete: [] },
      maintenance_windows: { create: [], update: ['patch night'], unchanged: ['fibre move'], delete: [] },
      notification_channels: { create: [], update: ['ops-hook'], unchanged: [], delete: [] },
      notification_rules: { create: [], update: ['page-down'], unchanged: [], delete: [] },
    });
    const applied = await runCli(['apply', '-f', fleet], env);
    expect(applied.code).toBe(0);
    const hosts = await hostsByName();
    expect([...hosts.get('onu-1')!.depends_on].sort()).toEqual([hosts.get('sw-1')!.id, hosts.get('olt-1')!.id].sort());
    expect(await api(`/api/groups/site-a`)).toMatchObject({ gateway_host_id: hosts.get('sw-1')!.id });
    expect((await policies())[0]!.settings).toEqual({ probe_retries: 2 });
    expect((await runCli(['apply', '-f', fleet], env)).stdout).toBe(NO_CHANGES);
    // A file without depends_on leaves the parents alone.
    const withoutParents = await file('no-parents.yaml', changed.replace('    depends_on: [sw-1, olt-1]\n', ''));
    expect((await runCli(['apply', '-f', withoutParents], env)).stdout).toBe(NO_CHANGES);
    expect((await hostsByName()).get('onu-1')!.depends_on).toHaveLength(2);
    // Back to the first file for the tests that follow.
    expect((await runCli(['apply', '-f', await file('fleet.yaml', FLEET)], env)).code).toBe(0);
  }, 240_000);

  it('prunes policies, windows, channels and rules of the declared sections only with consent', async () => {
    await vigil.http().post('/api/policies').send({ name: 'stray-policy' }).expect(201);
    await vigil.http().post('/api/maintenance-windows').send({ label: 'stray window', cron: '0 4 * * 1', duration_seconds: 600, tags: ['x'] }).expect(201);
    const ch = await vigil.http().post('/api/notification-channels').send({ name: 'stray-hook', type: 'webhook', config: { url: 'http://127.0.0.1:9/x' } }).expect(201);
    await vigil.http().post('/api/notification-rules').send({ name: 'stray-rule', channel_ids: [ch.body.id] }).expect(201);
    const fleet = await file('fleet.yaml', FLEET);
    const plain = await runCli(['apply', '-f', fleet], env);
    expect(plain.stdout).toBe(NO_CHANGES);
    const refused = await runCli(['apply', '-f', fleet, '--prune'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--prune would delete 1 policy\(s\), 1 window\(s\), 1 channel\(s\), 1 rule\(s\): add --yes/);
    const pruned = await runCli(['apply', '-f', fleet, '--prune', '--yes'], env);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain('- rule stray-rule\n- window stray window\n- channel stray-hook\n- policy stray-policy\n');
    expect((await policies()).map((p) => p.name)).toEqual(['core']);
    expect((await runCli(['apply', '-f', fleet, '--prune'], env)).stdout).toBe(NO_CHANGES);
    // A file that leaves a section out leaves that section alone, even with --prune.
    const hostsOnly = await file('hosts-only.yaml', FLEET.slice(FLEET.indexOf('groups:'), FLEET.indexOf('maintenance_windows:')).replace('    policy: core\n', '').replace('    policy: core\n', ''));
    const partial = await runCli(['apply', '-f', hostsOnly, '--prune', '--dry-run', '-o', 'json'], env);
    expect(Object.keys(JSON.parse(partial.stdout))).toEqual(['dry_run', 'applied', 'hosts', 'groups']);
  }, 240_000);

  it('export-inventory writes every section by name, secrets as variables, and applies with no changes', async () => {
    const exported = await runCli(['export-inventory'], env);
    expect(exported.code).toBe(0);
    expect(exported.stdout).not.toContain(HOOK_SECRET);
    expect(exported.stderr).toContain('warning: channel ops-hook: its secrets are not exported; set VIGIL_CHANNEL_OPS_HOOK_SECRET');
    const doc = parse(exported.stdout) as Record<string, { name?: string; label?: string; [k: string]: unknown }[]>;
    expect(doc.policies).toEqual([{ name: 'core', description: 'core network', settings: { probe_retries: 1 } }]);
    expect(doc.groups).toEqual([{ name: 'site-a', max_concurrent_checks: 4, maintenance: false, policy: 'core', gateway: 'olt-1' }]);
    expect(doc.hosts!.find((h) => h.name === 'onu-1')).toMatchObject({ group: 'site-a', depends_on: ['sw-1'] });
    expect(doc.hosts!.find((h) => h.name === 'sw-1')).toMatchObject({ policy: 'core' });
    expect(doc.maintenance_windows!.find((w) => w.label === 'patch night')).toMatchObject({ hosts: ['sw-1'], groups: ['site-a'], cron: '30 2 * * 0' });
    expect(doc.notification_channels).toEqual([
      { name: 'ops-hook', type: 'webhook', config: { url: 'http://127.0.0.1:9/hook', secret: { env: 'VIGIL_CHANNEL_OPS_HOOK_SECRET' } }, enabled: true, rate_limit_per_minute: 10 },
    ]);
    expect(doc.notification_rules).toEqual([{ name: 'page-down', channels: ['ops-hook'], states: ['DOWN'], hosts: ['olt-1'], cooldown_seconds: 300 }]);
    const round = await file('exported.yaml', exported.stdout);
    expect((await runCli(['apply', '-f', round, '--prune'], env)).stdout).toBe(NO_CHANGES);
  }, 120_000);

  it.each([
    ['a secret written in the file', FLEET.replace('secret: { env: HOOK_SECRET }', 'secret: hunter2-hunter2-hunter2'), /bad\.yaml:40: notification_channels\.0\.config\.secret: is a secret: never in the file/],
    ['a rule naming an unknown channel', FLEET.replace('channels: [ops-hook]', 'channels: [nope]'), /bad\.yaml:43: notification_rules\.0\.channels\.0: no channel named "nope"/],
    ['a host naming an unknown policy', FLEET.replace('    policy: core\n    probes', '    policy: gold\n    probes'), /bad\.yaml:16: hosts\.1\.policy: no policy named "gold"/],
    ['a group gateway naming an unknown host', FLEET.replace('gateway: olt-1', 'gateway: olt-9'), /bad\.yaml:9: groups\.0\.gateway: no host named "olt-9"/],
    ['a window naming an unknown host', FLEET.replace('hosts: [sw-1]', 'hosts: [sw-9]'), /bad\.yaml:29: maintenance_windows\.0\.hosts\.0: no host named "sw-9"/],
    ['ids where names belong', FLEET.replace('channels: [ops-hook]', 'channel_ids: [ops-hook]'), /bad\.yaml:43: notification_rules\.0\.channel_ids: ids differ between installs: name them with `channels`/],
    ['a policy setting out of range', FLEET.replace('probe_retries: 1', 'probe_retries: 9'), /bad\.yaml:4: policies\.0\.settings\.probe_retries: Too big/],
    ['a window without a label', FLEET.replace('  - label: fibre move\n', '  - reason: fibre move\n'), /bad\.yaml:30: maintenance_windows\.1\.label: .*expected string/],
    ['a rule state that is none', FLEET.replace('states: [DOWN]', 'states: [SLEEPY]'), /bad\.yaml:44: notification_rules\.0\.states\.0: /],
    ['a channel of an unknown type', FLEET.replace('type: webhook', 'type: pigeon'), /bad\.yaml:37: notification_channels\.0\.type: /],
    ['a duplicate window label', FLEET.replace('label: fibre move', 'label: patch night'), /bad\.yaml:30: maintenance_windows\.1\.label: duplicate of maintenance_windows\.0\.label/],
  ])('refuses %s naming file, line and field, changing nothing', async (_what, text, message) => {
    const bad = await file('bad.yaml', text);
    const before = await policies();
    const run = await runCli(['apply', '-f', bad], { ...env, HOOK_SECRET });
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
    expect(await policies()).toEqual(before);
  }, 90_000);
});
