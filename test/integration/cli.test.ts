import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTcpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { authHeader, FAST_ENV, TEST_ADMIN_TOKEN, waitFor } from '../helpers/vigil.ts';

const MAIN = path.resolve('src/main.ts');

interface Running {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

/** Runs `node src/main.ts ...args` with exactly `env` (plus PATH), as a user would. */
function vigil(args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH!, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exit };
}

const running: Running[] = [];
afterAll(async () => {
  for (const r of running) {
    r.child.kill('SIGKILL');
    await r.exit;
  }
});


describe('vigil command line', () => {
  it.each([
    [['api'], { PORT: 'eighty' }, /PORT/],
    [['api'], { DATABASE_URL: 'mysql://db' }, /DATABASE_URL: must be a postgres/],
    [['api', 'launch'], {}, /unknown command "launch"/],
  ])('%j with %j exits 1 naming the problem', async (args, env, message) => {
    const run = vigil(args, env);
    expect(await run.exit).toBe(1);
    expect(run.output()).toMatch(message);
    expect(run.output()).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
  });

  it('starts with an embedded PostgreSQL when DATABASE_URL is unset, serves, and stops it on Ctrl-C', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-cli-'));
    try {
      const port = await freePort();
      const run = vigil(['start'], { VIGIL_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' });
      running.push(run);
      // The banner is several writes, which may arrive apart: wait for its last line.
      await waitFor('the API to listen', async () => run.output().includes(`listening on http://127.0.0.1:${port}`) && run.output().includes('Add a host:'), 90_000, 100);
      expect(run.output()).toMatch(/curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/api\/hosts/);
      // The banner names the dashboard, and the dashboard is there (built at start when missing or stale).
      expect(run.output()).toContain(`Dashboard: http://127.0.0.1:${port}/`);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      expect(await page.text()).toContain('<title>');
      // The first embedded start prints an admin token once; the quick start uses it.
      const token = /\n\s+(vgl_[A-Za-z0-9_-]{43})\n/.exec(run.output())?.[1];
      expect(token).toBeDefined();
      expect((await fetch(`http://127.0.0.1:${port}/api/hosts`)).status).toBe(401);
      const res = await fetch(`http://127.0.0.1:${port}/api/hosts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ name: 'self', address: '127.0.0.1', probes: [{ type: 'tcp', port }] }),
      });
      expect(res.status).toBe(201);
      // The worker child checks the host (no check runs in this process), and the API's /metrics
      // serves its counts with this process's; a fleet gauge, read from the database by both, counts once.
      const metrics = await waitFor('the check counted in /metrics', async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /^vigil_checks_total\{probe="tcp",result="success",error_type="none"\} [1-9]/m.test(text) ? text : undefined;
      }, 30_000, 200);
      expect(metrics).toMatch(/^vigil_hosts\{state="HEALTHY"\} 1$/m);
      expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(true);
      run.child.kill('SIGINT');
      expect(await run.exit).toBe(0);
      // The embedded server shut down with us: its pid file is gone.
      expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('roles as separate processes on one database', () => {
  const ctx = useTestDatabase();
  let target: LoopbackTarget;
  beforeAll(async () => {
    target = await startTcpTarget();
  });
  afterAll(async () => {
    await target?.close();
  });


  it('api, scheduler and worker each run alone and together check a host; SIGTERM stops each with exit 0', async () => {
    const port = await freePort();
    const env = { ...FAST_ENV, DATABASE_URL: ctx.db.url, LOG_LEVEL: 'debug', VIGIL_ADMIN_TOKEN: TEST_ADMIN_TOKEN };
    const api = vigil(['api'], { ...env, PORT: String(port) });
    const scheduler = vigil(['scheduler'], env);
    const worker = vigil(['worker'], env);
    running.push(api, scheduler, worker);
    await waitFor('the API to listen', async () => api.output().includes('listening on'), 90_000, 100);
    const res = await fetch(`http://127.0.0.1:${port}/api/hosts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeader() },
      body: JSON.stringify({ name: 'multi', address: '127.0.0.1', probes: [{ type: 'tcp', port: target.port }] }),
    });
    expect(res.status).toBe(201);
    const host = (await res.json()) as { id: string };
    await waitFor('a check by the worker process', async () => {
      // A loaded machine may answer a poll with a 503 (pool wait); that poll just doesn't count.
      const answer = await fetch(`http://127.0.0.1:${port}/api/monitoring/hosts/${host.id}/state`, { headers: authHeader() });
      if (!answer.ok) return false;
      const state = (await answer.json()) as { recent_history: { success: boolean }[] };
      return state.recent_history.length >= 2 && state.recent_history.every((h: { success: boolean }) => h.success);
    }, 30_000, 100);
    expect(worker.output()).toContain('check recorded');
    expect(api.output()).not.toContain('check recorded');
    for (const r of [api, scheduler, worker]) r.child.kill('SIGTERM');
    expect(await Promise.all([api.exit, scheduler.exit, worker.exit])).toEqual([0, 0, 0]);
  }, 180_000);
});
