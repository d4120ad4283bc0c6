/**
 * Cost per check of each probe type, the new ones included: N checks against loopback peers, in
 * this process, measuring CPU milliseconds per check (process.cpuUsage, user + system, this
 * process only — fping and the daemons are other processes, reported apart where they matter)
 * and wall time. Peers: Node HTTP/DNS servers of the test helpers, a net-snmp agent, and Debian's
 * fping. Run: `npm run bench:probes -- [checks per type, default 500]`. Prints a Markdown table.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { Pinger } from '../src/probes/fping.ts';
import { leafProbeSchema, runProbe } from '../src/probes/index.ts';
import type { ProbeResult, ResolvedCredential } from '../src/probes/types.ts';
import { startSnmpAgent } from '../test/helpers/snmp-agent.ts';
import { startHttpTarget, startTcpTarget } from '../test/helpers/targets.ts';

const CHECKS = Number(process.argv[2] ?? 500);
const CONCURRENCY = 50;
const LOOPBACK = '127.0.0.1';

interface Case {
  name: string;
  probe: Record<string, unknown>;
  credential?: ResolvedCredential;
}

function answer(message: Buffer): Buffer {
  const query = dnsPacket.decode(message);
  const question = query.questions![0]!;
  const answers = [{ type: 'A' as const, name: question.name, ttl: 60, data: LOOPBACK }];
  return dnsPacket.encode({ type: 'response', id: query.id, questions: [question], answers });
}

/** A DNS responder on one port over UDP and TCP (RFC 7766 framing: a 2-byte length, then the message). */
async function startDnsResponder(): Promise<{ port: number; close: () => Promise<void> }> {
  const tcp = net.createServer((conn) => {
    let buffered = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      const reply = answer(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      const length = Buffer.alloc(2);
      length.writeUInt16BE(reply.length);
      conn.end(Buffer.concat([length, reply]));
    });
    conn.on('error', () => {});
  });
  await new Promise<void>((resolve) => tcp.listen(0, LOOPBACK, resolve));
  const port = (tcp.address() as net.AddressInfo).port;
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message, from) => socket.send(answer(message), from.port, from.address));
  await new Promise<void>((resolve) => socket.bind(port, LOOPBACK, resolve));
  const close = async () => {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
  };
  return { port, close };
}

async function measure(c: Case, pinger: Pinger): Promise<string[]> {
  const config = leafProbeSchema.parse(c.probe);
  const run = (): Promise<ProbeResult> => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5000);
    return runProbe(config, { address: LOOPBACK, signal: controller.signal, timeoutMs: 5000, credential: c.credential, pinger }).finally(() => clearTimeout(timer));
  };
  for (let i = 0; i < 20; i++) await run(); // warm-up
  const launchedBefore = pinger.launchedProcesses;
  const cpu = process.cpuUsage();
  const start = performance.now();
  let next = 0;
  let failures = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < CHECKS) if (!(await run()).success) failures++;
  }));
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const cpuMsPerCheck = (used.user + used.system) / 1000 / CHECKS;
  const processes = pinger.launchedProcesses - launchedBefore;
  return [c.name, String(CHECKS), cpuMsPerCheck.toFixed(3), ((CHECKS / wallMs) * 1000).toFixed(0), String(failures), processes ? String(processes) : ''];
}

async function main(): Promise<void> {
  const json = JSON.stringify({ status: 'UP', checks: [{ name: 'db', ok: true }] });
  const [web, tcp, dns, agent] = await Promise.all([
    startHttpTarget({ '/health': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(json) }),
    startTcpTarget(),
    startDnsResponder(),
    startSnmpAgent({ communities: ['bench-community'] }),
  ]);
  const community: ResolvedCredential = { kind: 'snmp-community', community: 'bench-community' };
  const cases: Case[] = [
    { name: 'tcp', probe: { type: 'tcp', port: tcp.port } },
    { name: 'http', probe: { type: 'http', url: `${web.url}/health` } },
    {
      name: 'http + 3 conditions (JSON, header, response time)',
      probe: {
        type: 'http',
        url: `${web.url}/health`,
        conditions: [
          { kind: 'json', path: '$.status', op: 'equals', value: 'UP' },
          { kind: 'header', name: 'content-type', matches: 'json' },
          { kind: 'response_time', max_ms: 4000 },
        ],
      },
    },
    { name: 'dns (UDP, A)', probe: { type: 'dns', server: LOOPBACK, port: dns.port, name: 'host.bench.test', expect_answers_contain: [LOOPBACK] } },
    { name: 'dns (TCP only)', probe: { type: 'dns', server: LOOPBACK, port: dns.port, name: 'host.bench.test', transport: 'tcp' } },
    { name: 'snmp GET (2 OIDs)', probe: { type: 'snmp', port: agent.port, credential_id: crypto.randomUUID() }, credential: community },
    { name: 'snmp-table (system group as a 1-column walk)', probe: { type: 'snmp-table', port: agent.port, credential_id: crypto.randomUUID(), columns: { sys: '1.3.6.1.2.1.1' } }, credential: community },
    { name: 'icmp (count 1, batched fping)', probe: { type: 'icmp', count: 1 } },
    { name: 'icmp (count 3, 20 ms apart, batched fping)', probe: { type: 'icmp', count: 3, interval_ms: 20 } },
  ];
  const pinger = new Pinger({ command: ['/usr/bin/fping'] });
  const rows: string[][] = [];
  try {
    for (const c of cases) rows.push(await measure(c, pinger));
  } finally {
    await Promise.all([web.close(), tcp.close(), dns.close(), agent.close()]);
  }
  const header = ['probe', 'checks', 'CPU ms per check (Vigil process)', 'checks/s (50 at once)', 'failed', 'fping processes'];
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => ' --- ').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

await main();
