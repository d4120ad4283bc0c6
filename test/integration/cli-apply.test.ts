import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli, useInputFiles } from '../helpers/cli.ts';
import { TEST_ADMIN_TOKEN, type TestVigil, useTestVigil } from '../helpers/vigil.ts';

// Inventory as code through the bin: diff, apply, idempotent re-apply, prune, line-numbered errors,
// export-inventory round trip, CSV import. Only the API runs: nothing here needs checks.
let vigil: TestVigil;
let env: Record<string, string>;

const ctx = useTestVigil({ roles: ['api'], env: { VIGIL_SECRET_KEY: randomBytes(32).toString('base64') } });
beforeAll(async () => {
  vigil = ctx.vigil;
  env = { VIGIL_URL: vigil.apiUrl!, VIGIL_TOKEN: TEST_ADMIN_TOKEN };
  await vigil.http().post('/api/credentials').send({ name: 'status-token', kind: 'http-bearer', token: 'sekret-bearer-value' }).expect(201);
});
const { file } = useInputFiles('vigil-apply-');

const FLEET = `# the fleet
groups:
  - name: site-a
    max_concurrent_checks: 4
hosts:
  - name: web-01
    address: 10.0.0.1
    group: site-a
    tags: [web]
    probes:
      - { type: tcp, port: 22 }
  - name: web-02
    address: 10.0.0.2
    probes:
      - type: http
        url: https://10.0.0.2/status
        credential: status-token
`;

const names = async () => (JSON.parse((await runCli(['hosts', 'list', '-o', 'json'], env)).stdout) as { name: string }[]).map((h) => h.name);

describe('vigil apply', () => {
  it('prints the diff, applies it, then has nothing to change; prunes only with consent', async () => {
    const fleet = await file('fleet.yaml', FLEET);
    const dry = await runCli(['apply', '-f', fleet, '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe(
      '+ group site-a\n+ host web-01\n+ host web-02\n' +
        'hosts: 2 to create, 0 to update, 0 unchanged, 0 to delete; groups: 1 to create, 0 to update, 0 unchanged\n',
    );
    expect(await names()).toEqual([]);

    const applied = await runCli(['apply', '-f', fleet], env);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/applied\n$/);
    expect(await names()).toEqual(['web-01', 'web-02']);
    const group = JSON.parse((await runCli(['groups', 'get', 'site-a', '-o', 'json'], env)).stdout) as { max_concurrent_checks: number };
    expect(group.max_concurrent_checks).toBe(4);
    const web2 = JSON.parse((await runCli(['hosts', 'get', 'web-02', '-o', 'json'], env)).stdout) as { probes: { credential_id?: string }[] };
    expect(web2.probes[0]!.credential_id).toMatch(/^[0-9a-f-]{36}$/);

    const again = await runCli(['apply', '-f', fleet], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('No changes: hosts: 0 to create, 0 to update, 2 unchanged, 0 to delete; groups: 0 to create, 0 to update, 1 unchanged\n');

    await runCli(['hosts', 'add', 'stray-01', '--address', '10.0.0.9', '--probe', 'tcp:22'], env);
    const changed = await file('fleet2.yaml', FLEET.replace('10.0.0.2', '10.0.0.22').replace('max_concurrent_checks: 4', 'max_concurrent_checks: 8'));
    const diff = await runCli(['apply', '-f', changed, '--prune', '--dry-run', '-o', 'json'], env);
    expect(JSON.parse(diff.stdout)).toEqual({
      dry_run: true,
      applied: false,
      hosts: { create: [], update: ['web-02'], unchanged: ['web-01'], delete: ['stray-01'] },
      groups: { create: [], update: ['site-a'], unchanged: [] },
    });
    const refused = await runCli(['apply', '-f', changed, '--prune'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--prune would delete 1 host\(s\): add --yes/);
    expect(await names()).toEqual(['stray-01', 'web-01', 'web-02']);

    const pruned = await runCli(['apply', '-f', changed, '--prune', '--yes'], env);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain('~ host web-02\n- host stray-01\n');
    expect(await names()).toEqual(['web-01', 'web-02']);
    expect((await runCli(['apply', '-f', changed, '--prune'], env)).stdout).toMatch(/^No changes/);
  }, 240_000);

  it.each([
    ['a bad port', FLEET.replace('port: 22', 'port: 70000'), /bad\.yaml:11: hosts\.0\.probes\.0\.port: Too big/],
    ['an unknown field', FLEET.replace('    tags: [web]', '    tags: [web]\n    colour: blue'), /bad\.yaml:10: hosts\.0\.colour: unknown field/],
    ['a missing address', FLEET.replace('    address: 10.0.0.2\n', ''), /bad\.yaml:12: hosts\.1\.address: .*expected string/],
    ['a duplicate name', FLEET.replace('name: web-02', 'name: web-01'), /bad\.yaml:12: hosts\.1\.name: duplicate of hosts\.0\.name/],
    ['a bad group limit', FLEET.replace('max_concurrent_checks: 4', 'max_concurrent_checks: 0'), /bad\.yaml:4: groups\.0\.max_concurrent_checks: Too small/],
    ['broken YAML', FLEET.replace('tags: [web]', 'tags: [web'), /bad\.yaml:\d+: not valid YAML/],
    ['an unknown credential', FLEET.replace('credential: status-token', 'credential: nope'), /bad\.yaml:17: hosts\.1\.probes\.0\.credential: no credential named "nope"/],
    ['a masked header', FLEET.replace('credential: status-token', 'headers: { X-Api-Key: "********" }'), /hosts\.1\.probes\.0\.headers\.X-Api-Key: is the mask/],
  ])('refuses %s naming file, line and field, changing nothing', async (_what, text, message) => {
    const bad = await file('bad.yaml', text);
    const before = await names();
    const run = await runCli(['apply', '-f', bad], env);
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
    expect(await names()).toEqual(before);
  }, 90_000);

  it('export-inventory writes a file that applies with no changes (round trip)', async () => {
    const exported = await runCli(['export-inventory'], env);
    expect(exported.code).toBe(0);
    const doc = parse(exported.stdout) as { groups: unknown[]; hosts: { name: string; probes: Record<string, unknown>[] }[] };
    expect(doc.groups).toEqual([{ name: 'site-a', max_concurrent_checks: 8, maintenance: false }]);
    expect(doc.hosts.find((h) => h.name === 'web-02')!.probes[0]).toMatchObject({ type: 'http', credential: 'status-token' });
    expect(exported.stdout).not.toContain('sekret');
    const round = await file('exported.yaml', exported.stdout);
    const reapplied = await runCli(['apply', '-f', round, '--prune'], env);
    expect(reapplied.stdout).toMatch(/^No changes: hosts: 0 to create, 0 to update, 2 unchanged, 0 to delete/);
    const json = await runCli(['export-inventory', '--format', 'json'], env);
    expect(JSON.parse(json.stdout)).toEqual(doc);
  }, 90_000);
});

describe('vigil hosts import', () => {
  it('imports a CSV with progress lines on stderr when not on a terminal', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => `imp-${i},10.1.0.${i},tcp:22,${i % 2 ? 'https://10.1.0.1/health' : ''},rack-${i % 3},a;b,true,false`);
    const csv = await file('hosts.csv', `name,address,probe,probe2,group,tags,enabled,maintenance\n${rows.join('\n')}\n`);
    const run = await runCli(['hosts', 'import', csv], env);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^importing hosts: 12\/12 \(\d+\/s, ETA 0 s\)\n$/);
    expect(run.stdout).toMatch(/12 created, 0 changed, 0 unchanged/);
    const imp3 = JSON.parse((await runCli(['hosts', 'get', 'imp-3', '-o', 'json'], env)).stdout) as { probes: unknown[]; group: string; tags: string[] };
    expect(imp3).toMatchObject({ group: 'rack-0', tags: ['a', 'b'], probes: [{ type: 'tcp', port: 22 }, { type: 'http', url: 'https://10.1.0.1/health' }] });
    const again = await runCli(['hosts', 'import', csv], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/HTTP 409.*pass upsert=true/);
    expect((await runCli(['hosts', 'import', csv, '--upsert'], env)).stdout).toMatch(/0 created, 0 changed, 12 unchanged/);
  }, 90_000);

  it('names the line and field of bad rows and sends nothing', async () => {
    const csv = await file('bad.csv', 'name,address,probe\nok-1,10.2.0.1,tcp:22\nbad-1,10.2.0.2,tcp:99999\nbad-2,,tcp:22\n');
    const run = await runCli(['hosts', 'import', csv], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.csv:3: probes\.0\.port: Too big/);
    expect(run.stderr).toMatch(/bad\.csv:4: address: /);
    expect(await names()).not.toContain('ok-1');
  }, 90_000);
});
