import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { reserveRefusedPort, startTcpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { FAST_ENV, TEST_ADMIN_TOKEN, type TestVigil, useTestVigil } from '../helpers/vigil.ts';

// `vigil check` as a pipeline gate: a JIT check that waits, Nagios exit codes and one-line output,
// against real loopback targets. No scheduler runs, so only these checks move the states.
let vigil: TestVigil;
let open: LoopbackTarget;
let refused: LoopbackTarget;
let env: Record<string, string>;

const ctx = useTestVigil({ roles: ['api', 'worker'], env: FAST_ENV });
beforeAll(async () => {
  vigil = ctx.vigil;
  open = await startTcpTarget();
  refused = await reserveRefusedPort();
  env = { VIGIL_URL: vigil.apiUrl!, VIGIL_TOKEN: TEST_ADMIN_TOKEN };
  const add = (name: string, port: number, extra: string[] = []) =>
    runCli(['hosts', 'add', name, '--address', '127.0.0.1', '--probe', `tcp:${port}`, ...extra], env);
  for (const run of await Promise.all([add('web-01', open.port), add('gone-01', refused.port), add('off-01', open.port, ['--disabled'])])) {
    expect(run.code).toBe(0);
  }
});
afterAll(async () => {
  await open?.close();
});

describe('vigil check', () => {
  it('exits 0 with a Nagios OK line and perfdata for a HEALTHY host', async () => {
    const run = await runCli(['check', 'web-01', '--timeout', '10'], env);
    expect(run.stdout).toMatch(/^VIGIL OK - web-01 HEALTHY, \d+ ms \| time=\d+\.\d{3}s\n$/);
    expect(run.code).toBe(0);
  }, 90_000);

  it('walks a refused host DEGRADED (1), CRITICAL (2), DOWN (2)', async () => {
    const walk: [number | null, string][] = [];
    for (let i = 0; i < 3; i++) {
      const run = await runCli(['check', 'gone-01'], env);
      walk.push([run.code, run.stdout.trim()]);
    }
    expect(walk[0]![0]).toBe(1);
    expect(walk[0]![1]).toMatch(/^VIGIL WARNING - gone-01 DEGRADED, connection_refused: /);
    expect(walk[1]![0]).toBe(2);
    expect(walk[1]![1]).toMatch(/^VIGIL CRITICAL - gone-01 CRITICAL, connection_refused/);
    expect(walk[2]![0]).toBe(2);
    expect(walk[2]![1]).toMatch(/^VIGIL CRITICAL - gone-01 DOWN, connection_refused/);
  }, 90_000);

  it('with --max-age answers from a recent result without a new check', async () => {
    const first = await runCli(['check', 'web-01', '-o', 'json'], env);
    const again = await runCli(['check', 'web-01', '--max-age', '3600', '-o', 'json'], env);
    const [a, b] = [first, again].map((r) => JSON.parse(r.stdout) as { status: string; exit_code: number; result: { check_time: string } });
    expect(b).toMatchObject({ status: 'OK', exit_code: 0 });
    expect(b!.result.check_time).toBe(a!.result.check_time);
    expect(again.code).toBe(0);
  }, 90_000);

  it.each([
    ['a disabled host', ['check', 'off-01'], {}, /^VIGIL UNKNOWN - off-01: .*HTTP 409/],
    ['an unknown host', ['check', 'nobody'], {}, /^VIGIL UNKNOWN - nobody: no host named "nobody"/],
    ['a bad flag', ['check', 'web-01', '--timeout', 'soon'], {}, /^VIGIL UNKNOWN - web-01: --timeout: .*number/i],
    ['a wrong token', ['check', 'web-01'], { VIGIL_TOKEN: 'nope' }, /^VIGIL UNKNOWN - web-01: .*HTTP 401/],
  ])('exits 3 UNKNOWN for %s', async (_what, args, extraEnv, line) => {
    const run = await runCli(args, { ...env, ...extraEnv });
    expect(run.stdout).toMatch(line);
    expect(run.code).toBe(3);
  }, 90_000);

  it('exits 3 when Vigil cannot be reached', async () => {
    const run = await runCli(['check', 'web-01', '--url', `http://127.0.0.1:${refused.port}`], env);
    expect(run.stdout).toMatch(/^VIGIL UNKNOWN - web-01: cannot reach Vigil/);
    expect(run.code).toBe(3);
  }, 90_000);
});
