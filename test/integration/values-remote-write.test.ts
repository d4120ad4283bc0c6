/**
 * Samples written to Debian's Prometheus through the remote-write protocol and read back through
 * its query API (names, labels, values); then Prometheus stopped while checks go on: the buffer
 * stays within its bound (the oldest dropped and counted), and catches up when Prometheus returns.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrometheus, type TestPrometheus } from '../helpers/prometheus.ts';
import { startSnmpd, type TestSnmpd } from '../helpers/snmpd.ts';
import { useTestVigil } from '../helpers/vigil.ts';

const BUFFER = 40;
let prometheus: TestPrometheus;
let snmpd: TestSnmpd;
// One after another: a failed start leaks neither.
beforeAll(async () => {
  snmpd = await startSnmpd();
  prometheus = await startPrometheus();
});
afterAll(async () => {
  await prometheus?.stop();
  await snmpd?.stop();
});

const ctx = useTestVigil({
  roles: ['api', 'worker'],
  env: () => ({
    VIGIL_SECRET_KEY: randomBytes(32).toString('base64'),
    VIGIL_CHECK_TIMEOUT_MS: '5000',
    VIGIL_REMOTE_WRITE_URL: prometheus.writeUrl,
    VIGIL_REMOTE_WRITE_FLUSH_MS: '100',
    VIGIL_REMOTE_WRITE_BATCH_SAMPLES: '10',
    VIGIL_REMOTE_WRITE_BUFFER_SAMPLES: String(BUFFER),
    VIGIL_REMOTE_WRITE_TIMEOUT_MS: '1000',
  }),
});
const { call } = ctx;
const checkNow = (id: string) => call('post', `/api/monitoring/hosts/${id}/check-connectivity?wait=true&timeout=20`);

async function scrape(name: string): Promise<number> {
  const text = (await request(ctx.vigil.apiUrl!).get('/metrics')).text;
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

let hostId: string;
beforeAll(async () => {
  const credential = (await call('post', '/api/credentials', { name: 'snmpd', kind: 'snmp-community', community: snmpd.community })).body.id;
  const template = await call('post', '/api/value-templates', {
    name: 'linux-snmp-test',
    items: [
      { source: 'snmp', name: 'uptime', unit: 'seconds', oid: '1.3.6.1.2.1.1.3.0', scale: 0.01 },
      { source: 'snmp', name: 'if_in_octets', unit: 'bytes', kind: 'counter', column: '1.3.6.1.2.1.2.2.1.10', label_column: '1.3.6.1.2.1.2.2.1.2' },
    ],
  });
  hostId = (await call('post', '/api/hosts', { name: 'tsdb-1', address: '127.0.0.1', group: 'rack-1', probes: [{ type: 'snmp', port: snmpd.port, credential_id: credential }] })).body.id;
  expect((await call('post', `/api/hosts/${hostId}/value-templates`, { template_ids: [template.body.id] })).status).toBe(200);
});

describe('remote write to Prometheus', () => {
  it('writes samples named by Prometheus conventions with host, group, template, item and row labels', async () => {
    expect((await checkNow(hostId)).body.result.success).toBe(true);
    await expect.poll(async () => (await prometheus.query('vigil_uptime_seconds{host="tsdb-1"}')).length, { timeout: 20_000 }).toBe(1);
    const [uptime] = await prometheus.query('vigil_uptime_seconds{host="tsdb-1"}');
    expect(uptime!.metric).toEqual({ __name__: 'vigil_uptime_seconds', host: 'tsdb-1', group: 'rack-1', template: 'linux-snmp-test', item: 'uptime' });
    const latest = (await call('get', `/api/monitoring/hosts/${hostId}/state`)).body.latest_values.samples;
    expect(Number(uptime!.value[1])).toBe(latest.find((s: { item: string }) => s.item === 'uptime').value);
    const [lo] = await prometheus.query('vigil_if_in_octets_bytes_total{host="tsdb-1",row="lo"}');
    expect(Number(lo!.value[1])).toBeGreaterThan(0);
    expect(await scrape('vigil_remote_write_samples_total')).toBeGreaterThanOrEqual(2);
  });

  it('keeps checking while Prometheus is down, bounds its buffer (oldest dropped, counted), and catches up when it returns', async () => {
    const port = prometheus.port;
    await prometheus.stop();
    const perCheck = (await call('get', `/api/monitoring/hosts/${hostId}/state`)).body.latest_values.samples.length as number;
    const outageChecks = Math.ceil((BUFFER * 2) / perCheck) + 1;
    for (let i = 0; i < outageChecks; i++) expect((await checkNow(hostId)).body.result.success).toBe(true);
    await expect.poll(() => scrape('vigil_remote_write_buffered_samples'), { timeout: 10_000 }).toBe(BUFFER);
    expect(await scrape('vigil_remote_write_dropped_samples_total{reason="buffer_full"}')).toBe(outageChecks * perCheck - BUFFER);
    expect(await scrape('vigil_remote_write_failures_total')).toBeGreaterThan(0);

    // A fresh Prometheus on the same address: what it receives is exactly what the buffer kept.
    prometheus = await startPrometheus(port);
    await expect.poll(() => scrape('vigil_remote_write_buffered_samples'), { timeout: 60_000, interval: 500 }).toBe(0);
    const kept = await prometheus.query('count_over_time(vigil_uptime_seconds{host="tsdb-1"}[1h])');
    const keptChecks = Math.floor(BUFFER / perCheck);
    expect(Number(kept[0]!.value[1])).toBeGreaterThanOrEqual(keptChecks);
    expect(Number(kept[0]!.value[1])).toBeLessThanOrEqual(keptChecks + 1);
  }, 120_000);
});
