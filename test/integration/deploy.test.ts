import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type TestVigil, useTestVigil } from '../helpers/vigil.ts';

// The files in deploy/, each checked by its own tool (Debian's promtool and systemd-analyze,
// installed by .ci/run), and the dashboard's and rules' queries against what /metrics serves.
const run = promisify(execFile);
const DEPLOY = path.resolve('deploy');

let vigil: TestVigil;
let tmp: string;
/** Every series name a live Vigil's /metrics declares (histograms with their _bucket/_sum/_count). */
let exposed: Set<string>;

const ctx = useTestVigil({ roles: ['api', 'worker'] });
beforeAll(async () => {
  vigil = ctx.vigil;
  tmp = await mkdtemp(path.join(os.tmpdir(), 'vigil-deploy-'));
  const text = await (await fetch(`${vigil.apiUrl}/metrics`)).text();
  exposed = new Set(
    [...text.matchAll(/^# TYPE (\w+) (\w+)$/gm)].flatMap(([, name, type]) =>
      type === 'histogram' || type === 'summary' ? [name!, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!],
    ),
  );
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** vigil_* names a PromQL expression reads. */
const metricsIn = (expr: string) => [...new Set(expr.match(/\bvigil_[a-z0-9_]+/g) ?? [])];

describe('Prometheus alert rules', () => {
  it('pass promtool check rules and their promtool unit tests', async () => {
    const check = await run('promtool', ['check', 'rules', 'vigil-alerts.yml'], { cwd: path.join(DEPLOY, 'prometheus') });
    expect(check.stdout).toMatch(/SUCCESS: 9 rules found/);
    const tested = await run('promtool', ['test', 'rules', 'vigil-alerts.test.yml'], { cwd: path.join(DEPLOY, 'prometheus') });
    expect(tested.stdout).toMatch(/SUCCESS/);
  });

  it('read only metrics Vigil exposes, and the compose Prometheus config is valid', async () => {
    const rules = parse(await readFile(path.join(DEPLOY, 'prometheus/vigil-alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const read = rules.groups.flatMap((g) => g.rules.flatMap((r) => metricsIn(r.expr).map((m) => [r.alert, m])));
    expect(read.length).toBeGreaterThan(5);
    expect(read.filter(([, m]) => !exposed.has(m!))).toEqual([]);
    // The token file compose mounts (configs: vigil_metrics_token); promtool wants it to exist.
    await writeFile(path.join(tmp, 'vigil-metrics-token'), 'metrics-token-0123456789');
    const config = (await readFile(path.join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8'))
      .replace('/etc/prometheus/vigil-alerts.yml', path.join(DEPLOY, 'prometheus/vigil-alerts.yml'))
      .replaceAll('/etc/prometheus/vigil-metrics-token', path.join(tmp, 'vigil-metrics-token'));
    await writeFile(path.join(tmp, 'prometheus.yml'), config);
    expect((await run('promtool', ['check', 'config', path.join(tmp, 'prometheus.yml')])).stdout).toMatch(/SUCCESS/);
  });
});

describe('Grafana dashboard', () => {
  it('is a dashboard whose every panel queries metrics /metrics exposes', async () => {
    const dash = JSON.parse(await readFile(path.join(DEPLOY, 'grafana/vigil-dashboard.json'), 'utf8')) as {
      uid: string; schemaVersion: number; panels: { id: number; type: string; title: string; gridPos: { w: number; h: number; x: number; y: number }; targets: { expr: string; refId: string }[] }[];
    };
    expect(dash.uid).toBe('vigil-overview');
    expect(dash.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(new Set(dash.panels.map((p) => p.id)).size).toBe(dash.panels.length);
    for (const p of dash.panels) {
      expect(['timeseries', 'stat']).toContain(p.type);
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(p.targets.length).toBeGreaterThan(0);
    }
    const read = dash.panels.flatMap((p) => p.targets.flatMap((t) => metricsIn(t.expr).map((m) => `${p.title}: ${m}`)));
    expect(read.filter((r) => !exposed.has(r.split(': ')[1]!))).toEqual([]);
    // What the issue asks the dashboard to show.
    for (const m of ['vigil_hosts', 'vigil_checks_total', 'vigil_schedule_lag_seconds_bucket', 'vigil_queue_depth', 'vigil_active_checks', 'vigil_check_duration_seconds_bucket']) {
      expect(read.some((r) => r.endsWith(`: ${m}`))).toBe(true);
    }
  });
});

describe('systemd units', () => {
  it.each(['api', 'scheduler', 'worker'])('vigil-%s.service passes systemd-analyze verify and scores a low exposure', async (role) => {
    const unit = await readFile(path.join(DEPLOY, `systemd/vigil-${role}.service`), 'utf8');
    expect(unit).toContain(`ExecStart=/opt/vigil/node_modules/.bin/node /opt/vigil/src/main.ts ${role}\n`);
    // verify needs the binary and the user to exist here: point them at this checkout and root.
    const local = unit
      .replace('/opt/vigil/node_modules/.bin/node /opt/vigil/src/main.ts', `${path.resolve('node_modules/.bin/node')} ${path.resolve('src/main.ts')}`)
      .replace('WorkingDirectory=/opt/vigil', `WorkingDirectory=${process.cwd()}`)
      .replace('EnvironmentFile=/etc/vigil/vigil.env', 'EnvironmentFile=-/etc/vigil/vigil.env')
      .replace(/^(User|Group)=vigil$/gm, '$1=root');
    const file = path.join(tmp, `vigil-${role}.service`);
    await writeFile(file, local);
    const verified = await run('systemd-analyze', ['verify', file]);
    expect(verified.stderr).toBe('');
    const security = await run('systemd-analyze', ['security', '--offline=yes', file]).catch((err: { stdout: string }) => err);
    const level = Number(/Overall exposure level for .*: ([\d.]+)/.exec(security.stdout)?.[1]);
    expect(level).toBeLessThanOrEqual(2.5);
  });
});

describe('docker-compose.yml', () => {
  it('keeps the default services and adds Prometheus and Grafana under the monitoring profile, with files that exist', async () => {
    const compose = parse(await readFile('docker-compose.yml', 'utf8')) as { services: Record<string, { profiles?: string[]; volumes?: string[] }> };
    expect(Object.entries(compose.services).filter(([, s]) => !s.profiles).map(([n]) => n).sort()).toEqual(['postgres', 'vigil', 'worker']);
    expect(compose.services.prometheus!.profiles).toEqual(['monitoring']);
    expect(compose.services.grafana!.profiles).toEqual(['monitoring']);
    const mounted = ['prometheus', 'grafana'].flatMap((s) => compose.services[s]!.volumes!.map((v) => v.split(':')[0]!));
    expect(mounted.filter((m) => !existsSync(m))).toEqual([]);
  });
});
