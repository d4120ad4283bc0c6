import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { reserveRefusedPort, startTcpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { FAST_ENV, TEST_ADMIN_TOKEN, type TestVigil, useTestVigil } from '../helpers/vigil.ts';

// The `vigil` command line against a live Vigil (API and worker in this process, on a test database),
// spawned through the bin as a user would, with VIGIL_URL / VIGIL_TOKEN.
let vigil: TestVigil;
let target: LoopbackTarget;
let refused: LoopbackTarget;
let env: Record<string, string>;

const ctx = useTestVigil({ roles: ['api', 'worker'], env: FAST_ENV });
beforeAll(async () => {
  vigil = ctx.vigil;
  target = await startTcpTarget();
  refused = await reserveRefusedPort();
  env = { VIGIL_URL: vigil.apiUrl!, VIGIL_TOKEN: TEST_ADMIN_TOKEN };
});
afterAll(async () => {
  await target?.close();
});

const json = <T>(run: { stdout: string }) => JSON.parse(run.stdout) as T;

describe('vigil hosts', () => {
  it('adds, lists, gets, changes and removes a host by name', async () => {
    const add = await runCli(['hosts', 'add', 'web-01', '--address', '127.0.0.1', '--probe', `tcp:${target.port}`, '--group', 'dc1', '--tag', 'web', 'prod'], env);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/^added web-01 \([0-9a-f-]{36}\)/);

    const list = await runCli(['hosts', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME\s+STATE\s+ADDRESS\s+GROUP\s+PROBES/);
    expect(list.stdout).toMatch(/web-01\s+HEALTHY\s+127\.0\.0\.1\s+dc1\s+tcp/);
    expect(list.stdout).not.toContain('\x1b['); // no colours into a pipe

    const listed = json<{ name: string; tags: string[] }[]>(await runCli(['hosts', 'list', '-o', 'json'], env));
    expect(listed.map((h) => [h.name, h.tags])).toEqual([['web-01', ['web', 'prod']]]);

    const set = await runCli(['hosts', 'set', 'web-01', '--address', 'localhost', '--no-group', '--maintenance', 'on', '-o', 'json'], env);
    expect(set.code).toBe(0);
    expect(json<{ address: string; group: null; maintenance: boolean }>(set)).toMatchObject({ address: 'localhost', group: null, maintenance: true });

    const byId = json<{ id: string }>(await runCli(['hosts', 'get', 'web-01', '-o', 'json'], env));
    const get = await runCli(['hosts', 'get', byId.id], env);
    expect(get.stdout).toMatch(/name\s+web-01/);

    const rm = await runCli(['hosts', 'rm', 'web-01'], env);
    expect(rm.code).toBe(0);
    expect((await runCli(['hosts', 'list', '-o', 'json'], env)).stdout.trim()).toBe('[]');
  }, 90_000);

  it.each([
    [['hosts', 'add', 'x', '--address', '10.0.0.1', '--probe', 'udp:53'], 2, /--probe "udp:53": give tcp:PORT/],
    [['hosts', 'list', '--limit', 'many'], 2, /--limit: .*number/i],
    [['hosts', 'list', '--state', 'SLEEPY'], 2, /Allowed choices are HEALTHY, DEGRADED, CRITICAL, DOWN/],
    [['hosts', 'add', 'x', '--address', 'bad address!', '--probe', 'tcp:22'], 1, /HTTP 400.*\n\s+body\.address: must be a host name or an IP address/],
    [['hosts', 'get', 'nope'], 1, /no host named "nope"/],
    [['history', 'nope', '--since', 'yesterday'], 2, /--since: give an ISO 8601 time/],
    [['frobnicate'], 2, /unknown command 'frobnicate'/],
  ])('%j exits %i naming the problem', async (args, code, message) => {
    const run = await runCli(args, env);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/at .*\.ts:\d+/);
  }, 90_000);

  it('says which token or address is wrong', async () => {
    const badToken = await runCli(['hosts', 'list'], { ...env, VIGIL_TOKEN: 'vgl_wrong' });
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/HTTP 401.*set VIGIL_TOKEN or --token/);
    expect(badToken.stderr).not.toContain('vgl_wrong');
    const unreachable = await runCli(['hosts', 'list', '--url', `http://127.0.0.1:${refused.port}`], env);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach Vigil at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    const badUrl = await runCli(['hosts', 'list'], { ...env, VIGIL_URL: 'ftp://x' });
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/--url: must be an http/);
  }, 90_000);
});

describe('vigil state, history and export', () => {
  it('shows state and history after checks, and streams the export as csv and ndjson', async () => {
    await runCli(['hosts', 'add', 'db-01', '--address', '127.0.0.1', '--probe', `tcp:${target.port}`], env);
    for (let i = 0; i < 2; i++) expect((await runCli(['check', 'db-01'], env)).code).toBe(0);

    const state = await runCli(['state', 'db-01'], env);
    expect(state.code).toBe(0);
    expect(state.stdout).toMatch(/state\s+HEALTHY/);
    expect(state.stdout).toMatch(/TIME\s+BY\s+STATE/);

    const history = json<{ checked_by: string; success: boolean }[]>(await runCli(['history', 'db-01', '--since', '1h', '-o', 'json'], env));
    expect(history).toHaveLength(2);
    expect(history.every((c) => c.checked_by === 'jit' && c.success)).toBe(true);
    const future = json<unknown[]>(await runCli(['history', 'db-01', '--since', new Date(Date.now() + 3_600_000).toISOString(), '-o', 'json'], env));
    expect(future).toEqual([]);

    const csv = await runCli(['export', '--format', 'csv', '--host', 'db-01'], env);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^id,host_id,host_name,check_time/);
    expect(lines).toHaveLength(3);
    const ndjson = await runCli(['export', '--format', 'ndjson'], env);
    const records = ndjson.stdout.trim().split('\n').map((l) => JSON.parse(l) as { host_name: string });
    expect(records.map((r) => r.host_name)).toEqual(['db-01', 'db-01']);
  }, 90_000);
});

describe('vigil groups, maintenance and tokens', () => {
  it('sets group limits, puts a group and a host in maintenance and back', async () => {
    await runCli(['hosts', 'add', 'olt-1', '--address', '127.0.0.1', '--probe', `tcp:${target.port}`, '--group', 'site-a'], env);
    const set = await runCli(['groups', 'set', 'site-a', '--max-concurrent', '4', '-o', 'json'], env);
    expect(json<{ max_concurrent_checks: number }>(set).max_concurrent_checks).toBe(4);
    const list = await runCli(['groups', 'list'], env);
    expect(list.stdout).toMatch(/site-a\s+1\s+4\s+off/);

    expect((await runCli(['maintenance', 'on', 'site-a'], env)).stdout).toMatch(/group site-a \(1 hosts\): maintenance on/);
    expect(json<{ maintenance: boolean }>(await runCli(['groups', 'get', 'site-a', '-o', 'json'], env)).maintenance).toBe(true);
    expect((await runCli(['maintenance', 'off', 'site-a'], env)).code).toBe(0);

    expect((await runCli(['maintenance', 'on', 'olt-1'], env)).stdout).toMatch(/host olt-1: maintenance on/);
    expect(json<{ maintenance: boolean }>(await runCli(['hosts', 'get', 'olt-1', '-o', 'json'], env)).maintenance).toBe(true);
    const unknown = await runCli(['maintenance', 'on', 'atlantis'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no host or group named "atlantis"/);
  }, 90_000);

  it('creates a token that works with its scope, lists and revokes it', async () => {
    const created = await runCli(['tokens', 'create', '--name', 'ci', '--scope', 'read', '-o', 'json'], env);
    expect(created.code).toBe(0);
    const token = json<{ token: string; id: string }>(created);
    const asReader = { ...env, VIGIL_TOKEN: token.token };
    expect((await runCli(['groups', 'list'], asReader)).code).toBe(0);
    const refused = await runCli(['hosts', 'add', 'x', '--address', '10.0.0.1', '--probe', 'tcp:22'], asReader);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/HTTP 403/);
    const list = await runCli(['tokens', 'list'], env);
    expect(list.stdout).toMatch(/ci\s+[0-9a-f-]{36}\s+read/);
    expect(list.stdout).not.toContain(token.token);
    expect((await runCli(['tokens', 'revoke', 'ci'], env)).code).toBe(0);
    expect((await runCli(['groups', 'list'], asReader)).code).toBe(1);
  }, 90_000);

  it.each([
    [['tokens', 'create', '--database', '--name', 'boot', '--scope', 'admin']],
    [['token', 'create', '--name', 'boot-legacy', '--scope', 'admin']],
  ])('%j writes a token straight into the database (bootstrap), which the API then accepts', async (args) => {
    const run = await runCli(args, { DATABASE_URL: ctx.db.url });
    expect(run.code).toBe(0);
    const token = /\n(vgl_[A-Za-z0-9_-]{43})\n/.exec(run.stdout)?.[1];
    expect(token).toBeDefined();
    expect((await runCli(['tokens', 'list'], { ...env, VIGIL_TOKEN: token! })).stdout).toMatch(new RegExp(`${args.includes('token') ? 'boot-legacy' : 'boot'}\\s`));
  }, 90_000);
});
