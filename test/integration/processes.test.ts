import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NO_SECRET_KEY_WARNING } from '../../src/credentials/secret-key.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { seedHosts } from '../helpers/hosts.ts';
import { startTcpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { waitFor } from '../helpers/vigil.ts';

/** Real processes, real signals: what a crashed or stopped Vigil role leaves behind. */

const MAIN = path.resolve('src/main.ts');
const FAST = {
  VIGIL_HEALTHY_INTERVAL_SECONDS: '0.3',
  VIGIL_PRODUCER_INTERVAL_MS: '50',
  VIGIL_SCHEDULER_STANDBY_POLL_MS: '200',
  VIGIL_FIRST_CHECK_SPREAD_SECONDS: '0',
  VIGIL_JOB_HEARTBEAT_SECONDS: '10',
  LOG_LEVEL: 'info',
};

interface Proc {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

const ctx = useTestDatabase({ poolSize: 3 });
const procs: Proc[] = [];

function vigil(roles: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [MAIN, ...roles], {
    env: { PATH: process.env.PATH!, DATABASE_URL: ctx.db.url, ...FAST, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const proc = { child, output: () => out, exit: new Promise<number | null>((r) => child.on('exit', (code) => r(code))) };
  procs.push(proc);
  return proc;
}

const historyCount = async (sql = 'true', params: unknown[] = []) =>
  (await ctx.pool.query(`SELECT count(*)::int AS n FROM host_monitoring_history WHERE ${sql}`, params)).rows[0].n as number;

afterEach(async () => {
  for (const p of procs.splice(0)) {
    p.child.kill('SIGKILL');
    await p.exit;
  }
  await ctx.pool.query(`DELETE FROM hosts; DELETE FROM pgboss.job WHERE name LIKE 'vigil-%'`);
});


describe('scheduler failover', () => {
  let tcp: LoopbackTarget;
  beforeAll(async () => (tcp = await startTcpTarget()));
  afterAll(async () => tcp?.close());

  it('runs one active scheduler; when it is killed, a standby takes over and checks go on', async () => {
    await seedHosts(ctx.pool, { count: 5, namePrefix: 'failover', probes: [{ type: 'tcp', port: tcp.port }] });
    vigil(['worker']);
    const a = vigil(['scheduler']);
    await waitFor('the first scheduler to lead', async () => a.output().includes('became the active scheduler'), 20_000);
    const b = vigil(['scheduler']);
    await waitFor('checks', async () => (await historyCount()) >= 10, 20_000);
    expect(b.output()).not.toContain('became the active scheduler');
    a.child.kill('SIGKILL');
    await a.exit;
    await waitFor('the standby to take over', async () => b.output().includes('became the active scheduler'), 20_000);
    const after = await historyCount();
    await waitFor('checks after the takeover', async () => (await historyCount()) >= after + 10, 20_000);
  }, 60_000);
});

/** Answers nothing until `release()`; then answers every request (held ones too) with 200. */
async function startHeldTarget() {
  const held: http.ServerResponse[] = [];
  let released = false;
  let requests = 0;
  const server = http.createServer((_req, res) => {
    requests++;
    if (released) res.end('ok');
    else held.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests: () => requests,
    release: () => {
      released = true;
      for (const res of held.splice(0)) if (!res.destroyed) res.end('ok');
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe('worker crashes and shutdown', () => {
  it('redoes the check of a worker killed with SIGKILL mid-check; no host keeps its lease', async () => {
    const target = await startHeldTarget();
    try {
      const [hostId] = await seedHosts(ctx.pool, { count: 1, namePrefix: 'crash', probes: [{ type: 'http', url: target.url }] });
      const env = { VIGIL_HEALTHY_INTERVAL_SECONDS: '3600', VIGIL_CHECK_TIMEOUT_MS: '60000' };
      const victim = vigil(['worker', 'scheduler'], env);
      await waitFor('the check to reach the target', async () => target.requests() >= 1, 20_000);
      const { rows } = await ctx.pool.query('SELECT lease_job_id FROM hosts WHERE id = $1', [hostId]);
      const jobId = rows[0].lease_job_id;
      expect(jobId).not.toBeNull();
      victim.child.kill('SIGKILL');
      await victim.exit;
      target.release();
      vigil(['worker'], env);
      // pg-boss notices the missing heartbeats and retries the job; the new worker records it.
      await waitFor('the check to be redone', async () => (await historyCount('job_id = $1', [jobId])) === 1, 45_000, 200);
      const host = await ctx.pool.query('SELECT lease_job_id, consecutive_successes FROM hosts WHERE id = $1', [hostId]);
      expect(host.rows[0]).toEqual({ lease_job_id: null, consecutive_successes: 1 });
    } finally {
      await target.close();
    }
  }, 90_000);

  it('on SIGTERM finishes the check in flight, records it, and exits 0', async () => {
    const target = await startHeldTarget();
    try {
      const [hostId] = await seedHosts(ctx.pool, { count: 1, namePrefix: 'graceful', probes: [{ type: 'http', url: target.url }] });
      const w = vigil(['worker', 'scheduler'], { VIGIL_HEALTHY_INTERVAL_SECONDS: '3600', VIGIL_CHECK_TIMEOUT_MS: '30000', VIGIL_SHUTDOWN_GRACE_MS: '20000' });
      await waitFor('the check to reach the target', async () => target.requests() >= 1, 20_000);
      w.child.kill('SIGTERM');
      // Still running: it waits for the check, which the target now answers.
      await waitFor('the shutdown to begin', async () => w.output().includes('shutting down'), 10_000);
      target.release();
      expect(await w.exit).toBe(0);
      expect(await historyCount('host_id = $1 AND success', [hostId])).toBe(1);
      // It also took its row out of the live workers.
      const { rows } = await ctx.pool.query(`SELECT count(*)::int AS n FROM vigil_workers WHERE pid = $1`, [w.child.pid]);
      expect(rows[0].n).toBe(0);
    } finally {
      await target.close();
    }
  }, 60_000);
});

describe('start-up warnings', () => {
  /** The JSON log lines a process wrote until it said it started. */
  async function startLines(p: Proc): Promise<{ level: string; message: string }[]> {
    await waitFor('the process to start', async () => p.output().includes('vigil started'), 20_000);
    return p.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string; message: string });
  }

  it('says once, at start, that credentials are disabled when DATABASE_URL is set and VIGIL_SECRET_KEY is not', async () => {
    const warnings = (await startLines(vigil(['worker']))).filter((l) => l.message === NO_SECRET_KEY_WARNING);
    expect(warnings.map((l) => l.level)).toEqual(['warn']);
    expect(NO_SECRET_KEY_WARNING).toMatch(/credentials .*SSH.*SNMP.*HTTP.* webhook signing secrets .*set VIGIL_SECRET_KEY .*openssl rand -base64 32/);
  });

  it('says nothing of the kind with a key', async () => {
    try {
      const lines = await startLines(vigil(['worker'], { VIGIL_SECRET_KEY: randomBytes(32).toString('base64') }));
      expect(lines.some((l) => l.message === 'vigil started')).toBe(true);
      expect(lines.filter((l) => l.message.includes('VIGIL_SECRET_KEY'))).toEqual([]);
    } finally {
      // The key's check value binds this database to it; later starts here run without a key.
      await ctx.pool.query('DELETE FROM secret_key_check');
    }
  });
});
