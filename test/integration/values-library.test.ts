/**
 * The shipped templates against real peers: linux-snmp against Debian's snmpd, linux-ssh against
 * OpenSSH's sshd (real commands on this Linux host, one session per check), and HTTP items
 * (response time from the http probe, a number from a JSON body) against a loopback server.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSnmpd, type TestSnmpd } from '../helpers/snmpd.ts';
import { SSHD_TEST_PASSWORD, SSHD_TEST_USER, startTestSshd, type TestSshd } from '../helpers/sshd.ts';
import { startHttpTarget, type HttpTarget } from '../helpers/targets.ts';
import { useTestVigil } from '../helpers/vigil.ts';

let snmpd: TestSnmpd;
let sshd: TestSshd;
let web: HttpTarget;
let queueDepth = 7;
beforeAll(async () => {
  snmpd = await startSnmpd();
  sshd = await startTestSshd();
  web = await startHttpTarget({
    '/health': (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'UP', queue: { depth: queueDepth } })),
  });
});
afterAll(async () => {
  await Promise.all([snmpd?.stop(), sshd?.stop(), web?.close()]);
});

const ctx = useTestVigil({ roles: ['api', 'worker'], env: { VIGIL_SECRET_KEY: randomBytes(32).toString('base64'), VIGIL_CHECK_TIMEOUT_MS: '8000' } });
const { call } = ctx;
const checkNow = (id: string) => call('post', `/api/monitoring/hosts/${id}/check-connectivity?wait=true&timeout=30`);
type Sample = { item: string; row: string | null; value: number; unit: string };
const samplesOf = async (id: string): Promise<Sample[]> => (await call('get', `/api/hosts/${id}/value-templates`)).body.latest_values.samples;

async function hostWith(name: string, probes: unknown[], templateIds: string[]): Promise<string> {
  const id = (await call('post', '/api/hosts', { name, address: '127.0.0.1', probes })).body.id;
  expect((await call('post', `/api/hosts/${id}/value-templates`, { template_ids: templateIds })).status).toBe(200);
  return id;
}

describe('the shipped template library', () => {
  it('lists the shipped templates and installs one once', async () => {
    const names = (await call('get', '/api/value-templates/library')).body.templates.map((t: { name: string }) => t.name);
    expect(names).toEqual(expect.arrayContaining(['linux-snmp', 'linux-ssh']));
    expect((await call('post', '/api/value-templates/library/linux-snmp')).status).toBe(201);
    expect((await call('post', '/api/value-templates/library/linux-snmp')).status).toBe(409);
    expect((await call('post', '/api/value-templates/library/no-such')).status).toBe(404);
  });

  it('linux-snmp reads every item from Debian snmpd: load, memory, CPU counters, interfaces by ifName', async () => {
    const template = (await call('get', '/api/value-templates')).body.templates.find((t: { name: string }) => t.name === 'linux-snmp');
    const credential = (await call('post', '/api/credentials', { name: 'snmpd', kind: 'snmp-community', community: snmpd.community })).body.id;
    const id = await hostWith('snmp-linux', [{ type: 'snmp', port: snmpd.port, credential_id: credential }], [template.id]);
    const res = await checkNow(id);
    expect(res.body.result).toMatchObject({ success: true, detail: { values: { errors: [] } } });
    const samples = await samplesOf(id);
    for (const item of ['uptime', 'load1', 'load15', 'memory_total', 'memory_available', 'cpu_user', 'cpu_idle']) expect(samples.find((s) => s.item === item), item).toBeDefined();
    expect(samples.find((s) => s.item === 'memory_available')!.value).toBeLessThanOrEqual(samples.find((s) => s.item === 'memory_total')!.value);
    expect(samples.find((s) => s.item === 'if_oper_status' && s.row === 'lo')).toMatchObject({ value: 1 });
    expect(samples.find((s) => s.item === 'if_in' && s.row === 'lo')!.value).toBeGreaterThan(0);
  });

  it('linux-ssh reads uptime, load, memory and disk use per mount from a Linux host through OpenSSH', async () => {
    const installed = await call('post', '/api/value-templates/library/linux-ssh');
    const credential = (await call('post', '/api/credentials', { name: 'sshd', kind: 'ssh-password', username: SSHD_TEST_USER, password: SSHD_TEST_PASSWORD })).body.id;
    const id = await hostWith('ssh-linux', [{ type: 'ssh', port: sshd.port, credential_id: credential }], [installed.body.id]);
    const res = await checkNow(id);
    expect(res.body.result.detail.values.errors).toEqual([]);
    const samples = await samplesOf(id);
    expect(samples.find((s) => s.item === 'uptime')!.value).toBeGreaterThan(0);
    expect(samples.find((s) => s.item === 'load1')!.value).toBeGreaterThanOrEqual(0);
    expect(samples.find((s) => s.item === 'memory_total')).toMatchObject({ unit: 'bytes' });
    expect(samples.find((s) => s.item === 'memory_total')!.value).toBeGreaterThan(1024 * 1024);
    const root = samples.find((s) => s.item === 'disk_used' && s.row === '/');
    expect(root, JSON.stringify(samples)).toBeDefined();
    expect(root!.value).toBeGreaterThanOrEqual(0);
    expect(root!.value).toBeLessThanOrEqual(100);
    // The history row keeps the samples as well (no TSDB configured here).
    const history = (await call('get', `/api/monitoring/hosts/${id}/state`)).body.last_result.detail.values;
    expect(history.samples_total).toBe(samples.length);
    expect(history.samples).toEqual(samples);
  });

  it('HTTP items: the http probe\'s response time, and a number from a JSON body with a threshold', async () => {
    const template = await call('post', '/api/value-templates', {
      name: 'service-health',
      items: [
        { source: 'http', name: 'response_time', unit: 'seconds', scale: 0.001, measure: 'response_time' },
        { source: 'http', name: 'queue_depth', measure: 'json', path: '$.queue.depth', threshold: { above: 100 } },
      ],
    });
    expect(template.status, JSON.stringify(template.body)).toBe(201);
    const id = await hostWith('web-1', [{ type: 'http', url: `${web.url}/health` }], [template.body.id]);
    expect((await checkNow(id)).body.result).toMatchObject({ success: true, detail: { values: { errors: [] } } });
    const samples = await samplesOf(id);
    expect(samples.find((s) => s.item === 'queue_depth')).toMatchObject({ value: 7, row: null });
    expect(samples.find((s) => s.item === 'response_time')!.value).toBeGreaterThan(0);
    queueDepth = 250;
    const breached = await checkNow(id);
    expect(breached.body.result).toMatchObject({ success: false, error_type: 'threshold', error_message: 'queue_depth 250 above 100' });
  });

  it('never shows the SSH password or the SNMP community in a response or a log line', () => {
    const logs = JSON.stringify(ctx.vigil.transport.entries);
    for (const secret of [SSHD_TEST_PASSWORD, snmpd.community]) {
      for (const answer of ctx.vigil.answers) expect(answer).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });
});
