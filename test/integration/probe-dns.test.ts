/** The DNS probe against Debian's dnsmasq on a high loopback port, and against hostile UDP servers of the test's own. */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsProbeSchema, runDnsProbe } from '../../src/probes/dns.ts';
import type { ProbeResult } from '../../src/probes/types.ts';
import { BIG_TXT_COUNT, startDnsmasq } from '../helpers/dnsmasq.ts';
import type { TestDnsmasq } from '../helpers/dnsmasq.ts';
import { withProbeContext } from '../helpers/targets.ts';

let dnsmasq: TestDnsmasq;

beforeAll(async () => {
  dnsmasq = await startDnsmasq();
});

afterAll(async () => {
  await dnsmasq?.stop();
});

function query(input: Record<string, unknown>, timeoutMs = 5000): Promise<ProbeResult> {
  const config = dnsProbeSchema.parse({ type: 'dns', server: '127.0.0.1', port: dnsmasq.port, ...input });
  return withProbeContext(timeoutMs, (ctx) => runDnsProbe(config, ctx));
}

describe('DNS probe against dnsmasq', () => {
  it.each([
    ['A', 'a.vigil.test', ['192.0.2.10']],
    ['AAAA', 'a.vigil.test', ['2001:db8::10']],
    ['CNAME', 'www.vigil.test', ['a.vigil.test']],
    ['MX', 'vigil.test', ['10 mail.vigil.test']],
    ['TXT', 'vigil.test', ['v=spf1 -all']],
    ['SRV', '_sip._udp.vigil.test', ['0 5 5060 sip.vigil.test']],
    ['NS', 'vigil.test', ['ns1.vigil.test']],
  ])('answers %s %s with %j, and the probe checks it', async (recordType, name, answers) => {
    const result = await query({ name, record_type: recordType, expect_answers_equal: answers });
    expect(result, dnsmasq.output()).toMatchObject({ success: true, detail: { rcode: 'NOERROR', answers, transport: 'udp' } });
    expect(result.detail.query_time_ms).toEqual(expect.any(Number));
  });

  it('reads the SOA record', async () => {
    const result = await query({ name: 'vigil.test', record_type: 'SOA', expect_answers_contain: ['ns1.vigil.test hostmaster.vigil.test 2026120601 1200 180 1209600 600'] });
    expect(result).toMatchObject({ success: true });
  });

  it('compares names without case or trailing dot, and IPv6 in any spelling', async () => {
    expect(await query({ name: 'vigil.test', record_type: 'MX', expect_answers_contain: ['10 MAIL.vigil.test.'] })).toMatchObject({ success: true });
    expect(await query({ name: 'a.vigil.test', record_type: 'AAAA', expect_answers_contain: ['2001:0db8:0:0::10'] })).toMatchObject({ success: true });
  });

  it('fails a missing answer with condition_failed naming what was observed', async () => {
    const result = await query({ name: 'a.vigil.test', expect_answers_contain: ['192.0.2.99'] });
    expect(result).toMatchObject({
      success: false,
      errorType: 'condition_failed',
      errorMessage: 'condition answers contain ["192.0.2.99"] failed: observed ["192.0.2.10"]',
    });
  });

  it('checks the response code: NXDOMAIN expected passes, NOERROR expected fails', async () => {
    expect(await query({ name: 'nope.vigil.test', expect_rcode: 'NXDOMAIN' })).toMatchObject({ success: true, detail: { rcode: 'NXDOMAIN', answers: [] } });
    expect(await query({ name: 'nope.vigil.test' })).toMatchObject({ success: false, errorType: 'condition_failed', errorMessage: 'condition rcode NOERROR failed: observed NXDOMAIN' });
  });

  it('retries over TCP when the UDP answer is truncated', async () => {
    const result = await query({ name: 'big.vigil.test', record_type: 'TXT', expect_answers_contain: ['padding-record-number-30-xxxxxxxxxxxxxxxxxxxxxxxx'] });
    expect(result).toMatchObject({ success: true, detail: { transport: 'tcp', truncated_over_udp: true, answers: expect.any(Array) } });
    expect((result.detail.answers as string[]).length).toBe(BIG_TXT_COUNT);
  });

  it('queries over TCP only when asked', async () => {
    expect(await query({ name: 'a.vigil.test', transport: 'tcp' })).toMatchObject({ success: true, detail: { transport: 'tcp', answers: ['192.0.2.10'] } });
  });

  it("asks the host's own address when no server is given", async () => {
    const config = dnsProbeSchema.parse({ type: 'dns', port: dnsmasq.port, name: 'a.vigil.test' });
    const result = await withProbeContext(5000, (ctx) => runDnsProbe(config, ctx), { address: '127.0.0.1' });
    expect(result).toMatchObject({ success: true, detail: { server: `127.0.0.1:${dnsmasq.port}` } });
  });
});

describe('DNS probe against hostile servers', () => {
  async function udpServer(onQuery: (socket: dgram.Socket, message: Buffer, port: number, address: string) => void): Promise<dgram.Socket> {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (message, from) => onQuery(socket, message, from.port, from.address));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return socket;
  }
  const close = (socket: dgram.Socket) => new Promise<void>((resolve) => socket.close(() => resolve()));

  it('reports garbage as a protocol error', async () => {
    const server = await udpServer((socket, message, port, address) => socket.send(Buffer.concat([message.subarray(0, 2), Buffer.from([0x81, 0x80, 0xff, 0xff, 0xff])]), port, address));
    try {
      const config = dnsProbeSchema.parse({ type: 'dns', server: '127.0.0.1', port: server.address().port, name: 'a.vigil.test' });
      const result = await withProbeContext(3000, (ctx) => runDnsProbe(config, ctx));
      expect(result).toMatchObject({ success: false, errorType: 'protocol_error' });
      expect(result.errorMessage).toMatch(/^unparseable DNS response \(7 bytes\)/);
    } finally {
      await close(server);
    }
  });

  it('times out on a server that never answers', async () => {
    const server = await udpServer(() => {});
    try {
      const config = dnsProbeSchema.parse({ type: 'dns', server: '127.0.0.1', port: server.address().port, name: 'a.vigil.test' });
      const result = await withProbeContext(300, (ctx) => runDnsProbe(config, ctx));
      expect(result).toMatchObject({ success: false, errorType: 'timeout', errorMessage: 'no DNS answer within 300 ms' });
    } finally {
      await close(server);
    }
  });

  it('rejects bad config naming the field', () => {
    const parsed = dnsProbeSchema.safeParse({ type: 'dns', name: 'bad name!', record_type: 'PTR' });
    expect(parsed.error?.issues.map((i) => i.path[0]).sort()).toEqual(['name', 'record_type']);
  });
});
