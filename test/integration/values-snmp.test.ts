/**
 * Values through the whole path: value templates created and assigned through the API, SNMP
 * scalars (one GET) and the ifTable walked with GETBULK against Debian's snmpd, the latest
 * values kept on the host and shown in its state, counter rates on the next check, and a
 * threshold breach failing the check with a `threshold` error that moves the host to DEGRADED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { startTcpTarget } from '../helpers/targets.ts';
import { startSnmpd, type TestSnmpd } from '../helpers/snmpd.ts';
import { useTestVigil } from '../helpers/vigil.ts';

const SYS_UPTIME = '1.3.6.1.2.1.1.3.0';
const MEM_TOTAL_REAL = '1.3.6.1.4.1.2021.4.5.0';
const IF_DESCR = '1.3.6.1.2.1.2.2.1.2';
const IF_IN_OCTETS = '1.3.6.1.2.1.2.2.1.10';
const IF_MTU = '1.3.6.1.2.1.2.2.1.4';

let snmpd: TestSnmpd;
beforeAll(async () => {
  snmpd = await startSnmpd();
});
afterAll(async () => {
  await snmpd?.stop();
});

const ctx = useTestVigil({ roles: ['api', 'worker'], env: { VIGIL_SECRET_KEY: randomBytes(32).toString('base64'), VIGIL_CHECK_TIMEOUT_MS: '5000' } });
const { call } = ctx;
let credentialId: string;
beforeAll(async () => {
  credentialId = (await call('post', '/api/credentials', { name: 'snmpd', kind: 'snmp-community', community: snmpd.community })).body.id;
});

async function snmpHost(name: string): Promise<string> {
  const res = await call('post', '/api/hosts', { name, address: '127.0.0.1', probes: [{ type: 'snmp', port: snmpd.port, credential_id: credentialId }] });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function template(body: Record<string, unknown>): Promise<string> {
  const res = await call('post', '/api/value-templates', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

const checkNow = (id: string) => call('post', `/api/monitoring/hosts/${id}/check-connectivity?wait=true&timeout=20`);

describe('SNMP values through a template', () => {
  it('collects scalars and a table column labelled by ifDescr, keeps them on the host, and computes counter rates on the next check', async () => {
    const templateId = await template({
      name: 'net-snmp-basics',
      items: [
        { source: 'snmp', name: 'uptime', unit: 'seconds', oid: SYS_UPTIME, scale: 0.01 },
        { source: 'snmp', name: 'memory_total', unit: 'bytes', oid: MEM_TOTAL_REAL, scale: 1024 },
        { source: 'snmp', name: 'if_in_octets', unit: 'bytes', kind: 'counter', column: IF_IN_OCTETS, label_column: IF_DESCR },
      ],
    });
    const hostId = await snmpHost('values-1');
    const assigned = await call('post', `/api/hosts/${hostId}/value-templates`, { template_ids: [templateId] });
    expect(assigned.status).toBe(200);
    expect(assigned.body.templates).toEqual([{ id: templateId, name: 'net-snmp-basics', via: 'host' }]);

    const first = await checkNow(hostId);
    expect(first.body.result).toMatchObject({ success: true, detail: { values: { errors: [], breaches: [] } } });
    const state = await call('get', `/api/monitoring/hosts/${hostId}/state`);
    const samples = state.body.latest_values.samples as { item: string; row: string | null; value: number; rate?: number | null }[];
    const uptime = samples.find((s) => s.item === 'uptime')!;
    expect(uptime).toMatchObject({ template: 'net-snmp-basics', unit: 'seconds', kind: 'gauge', row: null });
    expect(uptime.value).toBeGreaterThan(0);
    expect(samples.find((s) => s.item === 'memory_total')!.value).toBeGreaterThan(1024 * 1024);
    const lo = samples.find((s) => s.item === 'if_in_octets' && s.row === 'lo');
    expect(lo, JSON.stringify(samples)).toBeDefined();
    expect(lo!.rate).toBeNull();

    // Traffic on lo (the SNMP requests themselves) makes the counter grow; snmpd caches ifTable
    // for a few seconds, so check until a later check sees it.
    const loLater = async () => {
      await checkNow(hostId);
      const again = (await call('get', `/api/hosts/${hostId}/value-templates`)).body.latest_values.samples as typeof samples;
      return again.find((s) => s.item === 'if_in_octets' && s.row === 'lo')!;
    };
    await expect.poll(async () => (await loLater()).rate ?? 0, { timeout: 20_000, interval: 1000 }).toBeGreaterThan(0);
  });

  it('applies a group\'s templates to its hosts', async () => {
    const templateId = await template({ name: 'group-mtu', items: [{ source: 'snmp', name: 'if_mtu', unit: 'bytes', column: IF_MTU }] });
    const hostId = await snmpHost('values-grouped');
    expect((await call('patch', `/api/hosts/${hostId}`, { group: 'rack-9' })).status).toBe(200);
    expect((await call('post', '/api/groups/rack-9/value-templates', { template_ids: [templateId] })).body.templates).toHaveLength(1);
    await checkNow(hostId);
    const latest = (await call('get', `/api/hosts/${hostId}/value-templates`)).body;
    expect(latest.templates).toEqual([{ id: templateId, name: 'group-mtu', via: 'group' }]);
    expect(latest.latest_values.samples.find((s: { row: string }) => s.row === '1')).toMatchObject({ item: 'if_mtu', value: 65536 });
  });

  it('fails the check with a threshold error naming item, row and value, and the host becomes DEGRADED', async () => {
    const templateId = await template({ name: 'tight-mtu', items: [{ source: 'snmp', name: 'if_mtu', unit: 'bytes', column: IF_MTU, label_column: IF_DESCR, threshold: { below: 100_000 } }] });
    const hostId = await snmpHost('values-breach');
    await call('post', `/api/hosts/${hostId}/value-templates`, { template_ids: [templateId] });
    const res = await checkNow(hostId);
    expect(res.body.result).toMatchObject({ success: false, error_type: 'threshold' });
    expect(res.body.result.error_message).toContain('if_mtu[lo] 65536 below 100000');
    expect(res.body.result.detail.values.breaches[0]).toMatchObject({ item: 'if_mtu', row: 'lo', value: 65536 });
    expect((await call('get', `/api/monitoring/hosts/${hostId}/state`)).body.current_state).toBe('DEGRADED');
  });

  it('chooses a host\'s templates by its sysObjectID on first contact: the longest fitting prefix wins', async () => {
    // Debian's snmpd on Linux answers NET-SNMP-TC::linux, 1.3.6.1.4.1.8072.3.2.10.
    const vendor = await template({ name: 'net-snmp-any', sys_object_ids: ['1.3.6.1.4.1.8072'], items: [{ source: 'snmp', name: 'uptime', unit: 'seconds', oid: SYS_UPTIME, scale: 0.01 }] });
    const model = await template({ name: 'net-snmp-linux', sys_object_ids: ['1.3.6.1.4.1.8072.3.2.10'], items: [{ source: 'snmp', name: 'memory_total', unit: 'bytes', oid: MEM_TOTAL_REAL, scale: 1024 }] });
    await template({ name: 'other-vendor', sys_object_ids: ['1.3.6.1.4.1.9'], items: [{ source: 'snmp', name: 'uptime', oid: SYS_UPTIME }] });
    const hostId = await snmpHost('values-detect');
    const asked = await call('post', `/api/hosts/${hostId}/value-templates`, { template_ids: [], auto_detect: true });
    expect(asked.body).toMatchObject({ templates: [], auto_detect_pending: true });
    const res = await checkNow(hostId);
    expect(res.body.result.detail.values.auto_detect).toEqual({ sys_object_id: '1.3.6.1.4.1.8072.3.2.10', templates: ['net-snmp-linux'] });
    const after = (await call('get', `/api/hosts/${hostId}/value-templates`)).body;
    expect(after).toMatchObject({ templates: [{ id: model, name: 'net-snmp-linux', via: 'host' }], auto_detect_pending: false });
    // Collected in that same first check.
    expect(after.latest_values.samples.map((s: { item: string }) => s.item)).toEqual(['memory_total']);
    expect(vendor).not.toBe(model);
  });

  it('an agent that never answers costs the check its remaining time, not more: the check ends and says which values are missing', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const tcp = await startTcpTarget();
    try {
      const templateId = await template({ name: 'silent-agent', items: [{ source: 'snmp', name: 'uptime', oid: SYS_UPTIME }, { source: 'snmp', name: 'if_mtu', column: IF_MTU }] });
      // The composite passes on TCP; its optional SNMP member (the agent settings values use) gets no answer.
      const res = await call('post', '/api/hosts', {
        name: 'values-silent',
        address: '127.0.0.1',
        probes: [{ type: 'composite', probes: [{ type: 'tcp', port: tcp.port }, { type: 'snmp', port: silent.address().port, credential_id: credentialId, required: false, timeout_ms: 300 }] }],
      });
      await call('post', `/api/hosts/${res.body.id}/value-templates`, { template_ids: [templateId] });
      const started = Date.now();
      const checked = await checkNow(res.body.id);
      expect(checked.status).toBe(200);
      expect(checked.body.result.success).toBe(true);
      expect(checked.body.result.detail.values.errors.join(' ')).toMatch(/no answer from the agent|not read within/);
      // VIGIL_CHECK_TIMEOUT_MS is 5000: the values get what the probes left, never a second full budget.
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      silent.close();
      await tcp.close();
    }
  });

  it('rejects bad templates and unknown assignments with problem+json naming the field', async () => {
    const bad = await call('post', '/api/value-templates', { name: 'bad', items: [{ source: 'snmp', name: 'x', oid: SYS_UPTIME, column: IF_MTU }] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('exactly one of oid and column');
    const taken = await call('post', '/api/value-templates', { name: 'net-snmp-basics', items: [{ source: 'snmp', name: 'x', oid: SYS_UPTIME }] });
    expect(taken.status).toBe(409);
    const hostId = await snmpHost('values-unknown');
    const unknown = await call('post', `/api/hosts/${hostId}/value-templates`, { template_ids: ['00000000-0000-4000-8000-000000000000'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors?.[0]?.field ?? JSON.stringify(unknown.body)).toContain('template_ids');
  });
});
