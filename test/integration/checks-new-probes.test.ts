/**
 * The new probe types through the API and the worker, against Debian daemons on loopback: a
 * composite of HTTP digest (Apache), DNS (dnsmasq), ICMP (fping) and an SNMP table walk with a
 * counter delta (snmpd) — every member recorded, last counter values kept on the host, no
 * secret in any response, log line or history row.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIGEST_PASSWORD, DIGEST_USER, startApache } from '../helpers/apache.ts';
import type { TestApache } from '../helpers/apache.ts';
import { startDnsmasq } from '../helpers/dnsmasq.ts';
import type { TestDnsmasq } from '../helpers/dnsmasq.ts';
import { startSnmpd } from '../helpers/snmpd.ts';
import type { TestSnmpd } from '../helpers/snmpd.ts';
import { useTestVigil } from '../helpers/vigil.ts';

let apache: TestApache;
let dnsmasq: TestDnsmasq;
let snmpd: TestSnmpd;
const creds: Record<string, string> = {};

beforeAll(async () => {
  // One after another: if one fails to start, the ones before are still stopped by afterAll.
  apache = await startApache();
  dnsmasq = await startDnsmasq();
  snmpd = await startSnmpd();
});
afterAll(async () => {
  await Promise.all([apache?.stop(), dnsmasq?.stop(), snmpd?.stop()]);
});

const ctx = useTestVigil({ roles: ['api', 'worker'], env: { VIGIL_SECRET_KEY: randomBytes(32).toString('base64'), VIGIL_CHECK_TIMEOUT_MS: '8000' } });
const { call } = ctx;

beforeAll(async () => {
  const make = async (name: string, body: Record<string, unknown>) => {
    const res = await call('post', '/api/credentials', { name, ...body });
    expect(res.status).toBe(201);
    creds[name] = res.body.id;
  };
  await make('camera', { kind: 'http-digest', username: DIGEST_USER, password: DIGEST_PASSWORD });
  await make('snmp', { kind: 'snmp-community', community: snmpd.community });
});

async function addHost(name: string, probes: unknown[]): Promise<string> {
  const res = await call('post', '/api/hosts', { name, address: '127.0.0.1', probes });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

const checkNow = (id: string) => call('post', `/api/monitoring/hosts/${id}/check-connectivity?wait=true&timeout=20`);

const members = () => [
  { type: 'http', url: `${apache.url}/digest/status.json`, credential_id: creds.camera, conditions: [{ kind: 'json', path: '$.status', op: 'equals', value: 'UP' }] },
  { type: 'dns', port: dnsmasq.port, name: 'a.vigil.test', expect_answers_equal: ['192.0.2.10'] },
  { type: 'icmp', count: 2, interval_ms: 20 },
  {
    type: 'snmp-table',
    port: snmpd.port,
    credential_id: creds.snmp,
    columns: { descr: '1.3.6.1.2.1.2.2.1.2', oper: '1.3.6.1.2.1.2.2.1.8', in_octets: '1.3.6.1.2.1.2.2.1.10' },
    row_conditions: [
      { kind: 'every_row', where: { column: 'descr', matches: '^lo$' }, column: 'oper', equals: 1 },
      { kind: 'max_increase', column: 'in_octets', max: 1e12 },
    ],
  },
];

describe('composite check of the new probes through the worker', () => {
  it('runs every member, records each, and keeps the SNMP counters on the host', async () => {
    const id = await addHost('camera-1', [{ type: 'composite', parallel: true, probes: members() }]);
    const { body } = await checkNow(id);
    expect(body.result, JSON.stringify(body.result)).toMatchObject({ success: true });
    expect(body.result.detail.probes.map((p: { type: string; success: boolean }) => [p.type, p.success])).toEqual([
      ['http', true],
      ['dns', true],
      ['icmp', true],
      ['snmp-table', true],
    ]);
    const stored = await ctx.vigil.pool.query('SELECT probe_memory FROM hosts WHERE id = $1', [id]);
    const memory = stored.rows[0].probe_memory['0:composite']['3:snmp-table'];
    expect(Object.keys(memory)).toEqual(['1.3.6.1.2.1.2.2.1.10']);
    const second = await checkNow(id);
    expect(second.body.result.detail.probes[3].detail).not.toHaveProperty('delta_baseline');
  });

  it('fails when a required member fails, but not for an optional one, running all of them', async () => {
    const [http, dns, icmp, table] = members();
    const badDns = { ...dns, name: 'nope.vigil.test' };
    const optional = await addHost('camera-2', [{ type: 'composite', probes: [http, { ...badDns, required: false }, icmp, table] }]);
    const passed = (await checkNow(optional)).body.result;
    expect(passed.success).toBe(true);
    expect(passed.detail.probes[1]).toMatchObject({ success: false, required: false, error_type: 'condition_failed' });

    const required = await addHost('camera-3', [{ type: 'composite', probes: [http, badDns, icmp, table] }]);
    const failed = (await checkNow(required)).body.result;
    expect(failed).toMatchObject({ success: false, error_type: 'condition_failed', error_message: 'probe 2 (dns): condition rcode NOERROR failed: observed NXDOMAIN' });
    expect(failed.detail.probes).toHaveLength(4);
    expect(failed.detail.probes[3].success).toBe(true);
  });

  it("names a composite member's unusable credential by its path", async () => {
    const res = await call('post', '/api/hosts', { name: 'camera-4', address: '127.0.0.1', probes: [{ type: 'composite', probes: [{ type: 'http', url: apache.url, credential_id: creds.snmp }] }] });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'body.probes.0.probes.0.credential_id', message: 'a http probe needs a credential of kind http-basic or http-bearer or http-digest, not snmp-community' }]);
  });
});

describe('secrets', () => {
  it('appear in no API response, log line or history row', async () => {
    const logs = ctx.vigil.transport.entries.map((e) => JSON.stringify(e));
    const history = (await ctx.vigil.pool.query('SELECT row_to_json(h)::text AS t FROM host_monitoring_history h')).rows.map((r) => r.t);
    expect(history.length).toBeGreaterThan(3);
    for (const text of [...ctx.vigil.answers, ...logs, ...history]) {
      for (const secret of [DIGEST_PASSWORD, snmpd.community]) expect(text).not.toContain(secret);
    }
  });
});
