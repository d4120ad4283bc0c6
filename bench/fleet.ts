/**
 * The simulated fleet, in its own process (started by bench/run.ts with an IPC channel): HTTP
 * servers answering by path (ok, slow, 500), TCP listeners, listeners that accept and never
 * answer, refused ports, SSH servers (ssh2), SNMP agents (net-snmp) and DNS responders (dns-packet),
 * all on 127.0.0.1; ICMP hosts ping 127.0.0.1 itself.
 *
 * Protocol: parent sends `start` → we send `ready` with the ports; parent sends `stop` → we close
 * everything, send `stopped` with what we served, and exit. We also exit when the parent goes
 * away and after the lifetime it gives, so nothing outlives a run.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import http from 'node:http';
import dnsPacket from 'dns-packet';
import type { AddressInfo } from 'node:net';
import { startSnmpAgent, type TestSnmpAgent } from '../test/helpers/snmp-agent.ts';
import { startTestSshServer, type TestSshServer } from '../test/helpers/ssh-server.ts';
import { reserveRefusedPort, startTcpTarget, type LoopbackTarget } from '../test/helpers/targets.ts';
import { exitWithParent } from './children.ts';
import { LOOPBACK, type FleetLayout, type FleetPorts } from './fleet-plan.ts';

export interface FleetStart {
  type: 'start';
  layout: FleetLayout;
  ssh: { username: string; password: string };
  snmpCommunity: string;
  slowMs: number;
  lifetimeMs: number;
}
export interface FleetReady {
  type: 'ready';
  ports: FleetPorts;
}
export interface FleetStopped {
  type: 'stopped';
  /** Requests and connections served, by kind. */
  served: Record<string, number>;
}

const served: Record<string, number> = { http_ok: 0, http_slow: 0, http_500: 0, http_404: 0, ssh_logins: 0, dns_answers: 0 };
const closers: (() => Promise<void>)[] = [];

/** One HTTP server for many hosts: the first path segment picks the behaviour. */
function startHttpServer(slowMs: number): Promise<number> {
  const server = http.createServer((req, res) => {
    const kind = (req.url ?? '/').split('/')[1];
    if (kind === 'ok') {
      served.http_ok!++;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } else if (kind === 'slow') {
      served.http_slow!++;
      const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('slow ok'), slowMs);
      res.once('close', () => clearTimeout(timer));
    } else if (kind === 'fail') {
      served.http_500!++;
      res.writeHead(500, { 'content-type': 'text/plain' }).end('failing on purpose');
    } else {
      served.http_404!++;
      res.writeHead(404).end();
    }
  });
  server.keepAliveTimeout = 1000;
  server.on('clientError', (_err, socket) => socket.destroy());
  closers.push(
    () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve((server.address() as AddressInfo).port));
  });
}

/** A bound UDP socket that reads and drops every datagram: SNMP requests to it go unanswered. */
async function startSilentUdp(): Promise<number> {
  const socket: UdpSocket = createSocket('udp4');
  socket.on('message', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, LOOPBACK, () => resolve());
  });
  closers.push(() => new Promise((resolve) => socket.close(() => resolve())));
  return socket.address().port;
}

/** A DNS server answering every A query with 127.0.0.1 (dns-packet over UDP): what DNS probes check. */
async function startDnsServer(): Promise<number> {
  const socket: UdpSocket = createSocket('udp4');
  socket.on('message', (message, from) => {
    try {
      const query = dnsPacket.decode(message);
      const question = query.questions?.[0];
      if (!question) return;
      const answers = question.type === 'A' ? [{ type: 'A' as const, name: question.name, ttl: 60, data: LOOPBACK }] : [];
      socket.send(dnsPacket.encode({ type: 'response', id: query.id, flags: dnsPacket.AUTHORITATIVE_ANSWER, questions: [question], answers }), from.port, from.address);
      served.dns_answers!++;
    } catch {
      // not DNS: ignored
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, LOOPBACK, () => resolve());
  });
  closers.push(() => new Promise((resolve) => socket.close(() => resolve())));
  return socket.address().port;
}

function keep<T extends LoopbackTarget | TestSshServer | TestSnmpAgent>(target: T): T {
  closers.push(() => target.close());
  return target;
}

async function times<T>(n: number, start: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await start());
  return out;
}

async function startFleet(msg: FleetStart): Promise<FleetPorts> {
  const { layout } = msg;
  const users = { [msg.ssh.username]: { password: msg.ssh.password } };
  const sshServers = await times(layout.sshServers, async () => keep(await startTestSshServer({ users })));
  // The helper records every login; a long run must not grow that without bound.
  const trim = setInterval(() => sshServers.forEach((s) => (served.ssh_logins! += s.authAttempts.splice(0).length)), 1000);
  closers.push(async () => clearInterval(trim));
  return {
    http: await times(layout.httpServers, () => startHttpServer(msg.slowMs)),
    tcp: (await times(layout.tcpListeners, async () => keep(await startTcpTarget()))).map((t) => t.port),
    silent: (await times(layout.silentListeners, async () => keep(await startTcpTarget()))).map((t) => t.port),
    refused: (await times(layout.refusedPorts, reserveRefusedPort)).map((t) => t.port),
    ssh: sshServers.map((s) => s.port),
    snmp: (await times(layout.snmpAgents, async () => keep(await startSnmpAgent({ communities: [msg.snmpCommunity] })))).map((a) => a.port),
    silentUdp: await times(layout.silentUdpPorts, startSilentUdp),
    dns: await times(layout.dnsServers, startDnsServer),
  };
}

async function stopFleet(): Promise<void> {
  await Promise.all(closers.splice(0).map((close) => close().catch(() => {})));
}

process.on('message', (message: FleetStart | { type: 'stop' }) => {
  if (message.type === 'start') {
    exitWithParent(message.lifetimeMs);
    startFleet(message).then(
      (ports) => process.send!({ type: 'ready', ports } satisfies FleetReady),
      (err) => {
        console.error('fleet failed to start:', err);
        process.exit(1);
      },
    );
  } else if (message.type === 'stop') {
    void stopFleet().then(() => process.send!({ type: 'stopped', served } satisfies FleetStopped, () => process.exit(0)));
  }
});
