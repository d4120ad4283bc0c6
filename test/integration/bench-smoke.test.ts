import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchReportSchema } from '../../bench/report.ts';

/**
 * The benchmark is not a test; this keeps it working. `npm run bench -- --smoke` runs as a user
 * would run it (real processes, its own database — DATABASE_URL's server or an embedded one) and
 * its JSON report must match the report schema. It takes about half a minute on two cores.
 */

interface Run {
  child: ChildProcess;
  exit: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
}

function npmRunBench(args: string[]): Run {
  const child = spawn('npm', ['run', '--silent', 'bench', '--', ...args], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, stdout: () => stdout, stderr: () => stderr };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const runs: Run[] = [];
let resultsDir: string | undefined;
afterAll(async () => {
  for (const r of runs) r.child.kill('SIGINT');
  if (resultsDir) await rm(resultsDir, { recursive: true, force: true });
});

describe('npm run bench', () => {
  it('refuses a bad option with exit status 2, naming it', async () => {
    const run = npmRunBench(['--hosts', 'lots']);
    runs.push(run);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toMatch(/--hosts: /);
    expect(run.stderr()).toContain('usage: npm run bench');
  });

  it('--smoke writes a report of the documented shape, prints its tables, and leaves nothing running', async () => {
    resultsDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-bench-smoke-'));
    const run = npmRunBench(['--smoke', '--results-dir', resultsDir]);
    runs.push(run);
    const code = await run.exit;
    expect(code, `stderr:\n${run.stderr().slice(-4000)}`).toBe(0);
    const file = /report written to (\S+)/.exec(run.stdout())?.[1];
    expect(file).toBeDefined();
    const report = benchReportSchema.parse(JSON.parse(await readFile(file!, 'utf8')));

    expect(report.smoke).toBe(true);
    expect(report.fleet.hosts).toBe(200);
    expect(report.registration.hosts).toBe(200);
    expect(report.baseline.checks).toBeGreaterThan(0);
    expect(report.system.scheduled_checks).toBeGreaterThan(0);
    expect(report.system.schedule_lag_ms.count).toBeGreaterThan(0);
    expect(report.jit.idle.ok).toBeGreaterThan(0);
    expect(report.processes.map((p) => p.name)).toEqual(expect.arrayContaining(['api', 'scheduler', 'worker-1', 'worker-2', 'fleet']));
    expect(report.process_exits.map((e) => e.code)).toEqual(report.process_exits.map(() => 0));
    expect(report.scale.points.map((p) => [p.hosts, p.scenario])).toEqual([
      [2000, 'steady'],
      [2000, 'backlog'],
      [5000, 'steady'],
      [5000, 'backlog'],
    ]);
    expect(report.scale.points.filter((p) => p.scenario === 'steady').every((p) => p.uses_partial_index)).toBe(true);
    expect(report.scale.claim_sql).toContain('FOR NO KEY UPDATE OF h SKIP LOCKED');

    // The large-fleet pass ran on its own database, and the targets table reads this run.
    expect(report.large_fleet).toMatchObject({ hosts: 2000, intervals_seconds: { healthy: 1800, degraded: 300, critical: 120, down: 1800 } });
    expect(report.large_fleet!.checks).toBeGreaterThan(0);
    expect(report.large_fleet!.lag_ms.p99).not.toBeNull();
    expect(report.database.history_bytes_per_row!.heap).toBeGreaterThan(0);
    // Growth after vacuum: the database's size less its reusable space, measured after a VACUUM at both ends.
    expect(report.database.growth_after_vacuum_bytes).toEqual(expect.any(Number));
    // Where it grew, by table: history is written once per check, so it is always there.
    expect(report.database.growth_after_vacuum_by_table?.map((t) => t.table)).toContain('host_monitoring_history');
    expect(run.stdout()).toMatch(/\| database growth per million checks, after vacuum \| ≤ 600 MB \| -?\d+ MB \(/);
    expect(run.stdout()).toContain('### Efficiency targets (issue #21), this run');
    expect(run.stdout()).toMatch(/\| large fleet: schedule lag p99 \| ≤ 1 s \|/);
    expect(run.stdout()).toContain('| scheduled checks/s sustained (window) |');
    expect(run.stdout()).toContain('| ratio system ÷ baseline |');
    for (const p of report.processes.filter((p) => !p.name.startsWith('postgres') && !p.name.startsWith('bench client'))) {
      for (const pid of p.pids) expect(alive(pid), `${p.name} (${pid}) still running`).toBe(false);
    }
  }, 180_000);
});
