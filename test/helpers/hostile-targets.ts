/**
 * Hostile loopback peers for the reliability suite: servers that accept and then misbehave the
 * way broken or malicious devices do (silence, garbage, a close half-way, bytes dripped slowly, an
 * endless stream), for TCP, HTTP(S), SSH and SNMP over UDP. Real sockets on 127.0.0.1, no mocks.
 * Every peer's close() stops listening, destroys what it still holds and clears its timers.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { generateSelfSignedCert, LOOPBACK } from './targets.ts';

export interface HostilePeer {
  port: number;
  /** Connections (TCP) or datagrams (UDP) the peer has received so far. */
  contacts(): number;
  close(): Promise<void>;
}

/** What a TCP peer does with each connection it accepts; returns a clean-up for its timers, if any. */
export type Misbehaviour = (socket: net.Socket) => (() => void) | void;

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve((server.address() as net.AddressInfo).port));
  });
}

const ignore = (): void => {};

/** A TCP (or, with `server`, TLS) listener that treats every connection with `misbehave`. */
export async function startHostileTcpPeer(misbehave: Misbehaviour, server: net.Server = net.createServer()): Promise<HostilePeer> {
  const secure = server instanceof tls.Server;
  const sockets = new Set<net.Socket>(); // raw TCP sockets, TLS handshakes in progress included
  const cleanups = new Set<() => void>();
  let contacts = 0;
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', ignore); // the probe resetting the connection is expected
    socket.once('close', () => sockets.delete(socket));
  });
  server.on(secure ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    contacts++;
    socket.on('error', ignore);
    // Read and drop what the probe sends, or its FIN would never surface and the socket stay open.
    socket.resume();
    const cleanup = misbehave(socket);
    if (!cleanup) return;
    cleanups.add(cleanup);
    socket.once('close', () => {
      cleanup();
      cleanups.delete(cleanup);
    });
  });
  if (secure) server.on('tlsClientError', ignore);
  const port = await listen(server);
  return {
    port,
    contacts: () => contacts,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const cleanup of cleanups) cleanup();
        for (const socket of sockets) socket.destroy();
      }),
  };
}

let certificate: { key: string; cert: string } | undefined;

/** A TLS listener (self-signed certificate) whose connections, once the handshake is done, get `misbehave`. */
export function startHostileTlsPeer(misbehave: Misbehaviour): Promise<HostilePeer> {
  certificate ??= generateSelfSignedCert(1); // one openssl run for all TLS peers
  return startHostileTcpPeer(misbehave, tls.createServer(certificate));
}

// --- What a TCP peer does with a connection -----------------------------------------------------

/** Accept and never say a word. */
export const beSilent: Misbehaviour = () => {};

/** Write `bytes` and then hold the connection open, saying nothing more. */
export const sendThenStall = (bytes: Buffer | string): Misbehaviour => (socket) => void socket.write(bytes);

/** Write `bytes` and close (FIN). */
export const sendThenClose = (bytes: Buffer | string): Misbehaviour => (socket) => void socket.end(bytes);

/** Reset the connection at once (RST, via SO_LINGER 0). */
export const resetAtOnce: Misbehaviour = (socket) => void socket.resetAndDestroy();

/**
 * Write `head` at once, then `bytes` one byte every `everyMs`, then stall: each byte keeps an idle
 * timer from firing, so only a deadline for the whole exchange ends it.
 */
export const drip = (bytes: Buffer | string, everyMs: number, head: Buffer | string = ''): Misbehaviour => (socket) => {
  const data = Buffer.from(bytes);
  socket.write(head);
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < data.length && socket.writable) socket.write(data.subarray(sent, ++sent));
  }, everyMs);
  return () => clearInterval(timer);
};

/**
 * Write `head`, then `chunk` over and over as fast as the reader takes it, until the connection
 * ends. At most 64 KiB per event-loop turn: the peer shares its process with the probe, and a
 * write loop that only stops when the kernel buffer is full would starve the probe's timers.
 */
export const endless = (head: Buffer | string, chunk: Buffer | string): Misbehaviour => (socket) => {
  const block = Buffer.from(chunk);
  let next: NodeJS.Immediate | undefined;
  const pump = (): void => {
    next = undefined;
    for (let written = 0; written < 64 * 1024; written += block.length) {
      if (!socket.writable || !socket.write(block)) return; // 'drain' resumes
    }
    next = setImmediate(pump);
  };
  socket.write(head);
  socket.on('drain', pump);
  pump();
  return () => clearImmediate(next);
};

// --- A listener that never accepts --------------------------------------------------------------

/**
 * Node program: listen with a backlog of 1, print the port, then block its event loop, so it never
 * accepts. For 10 minutes at most: an orphan (its test process killed) then exits by itself.
 */
const NEVER_ACCEPT = `
const server = require('node:net').createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write(server.address().port + '\\n', () => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 * 60 * 1000);
    process.exit(0);
  });
});`;

function connectWithin(port: number, withinMs: number): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: LOOPBACK });
    socket.on('error', () => {});
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, withinMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

/**
 * A listening port whose accept queue is full: a child process listens with a backlog of 1 and
 * never calls accept (its event loop is blocked), and this helper holds connections until one no
 * longer completes. Linux then drops further SYNs (tcp_abort_on_overflow=0, the default), so a
 * connect neither succeeds nor is refused: it hangs, as to an overloaded or wedged server.
 */
export async function startFullBacklogPeer(): Promise<HostilePeer> {
  const child = spawn(process.execPath, ['-e', NEVER_ACCEPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await readPort(child);
  const fillers: net.Socket[] = [];
  for (;;) {
    const socket = await connectWithin(port, 300);
    if (!socket) break;
    fillers.push(socket);
    if (fillers.length > 64) throw new Error('the never-accepting listener kept accepting: is tcp_abort_on_overflow set?');
  }
  return {
    port,
    contacts: () => fillers.length,
    close: async () => {
      for (const socket of fillers) socket.destroy();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function readPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.once('exit', (code) => reject(new Error(`never-accepting listener exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(Number(text.trim()));
    });
  });
}

// --- SSH ----------------------------------------------------------------------------------------

export const SSH_BANNER = 'SSH-2.0-OpenSSH_9.6\r\n';

/** One unencrypted SSH binary packet (RFC 4253 §6) around `payload`. */
function sshPacket(payload: Buffer): Buffer {
  let padding = 8 - ((payload.length + 5) % 8);
  if (padding < 4) padding += 8;
  const header = Buffer.alloc(5);
  header.writeUInt32BE(payload.length + padding + 1, 0);
  header[4] = padding;
  return Buffer.concat([header, payload, Buffer.alloc(padding)]);
}

function nameList(names: string): Buffer {
  const text = Buffer.from(names);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(text.length, 0);
  return Buffer.concat([length, text]);
}

/** A well-formed SSH_MSG_KEXINIT offering algorithms ssh2 accepts, so the client goes on to key exchange. */
export function sshKexInit(): Buffer {
  const lists = ['curve25519-sha256', 'ssh-ed25519', 'aes128-ctr', 'aes128-ctr', 'hmac-sha2-256', 'hmac-sha2-256', 'none', 'none', '', ''];
  return sshPacket(Buffer.concat([Buffer.from([20]), randomBytes(16), ...lists.map(nameList), Buffer.alloc(5)]));
}

// --- SNMP over UDP ------------------------------------------------------------------------------

/** A UDP peer that answers each datagram with whatever `reply` returns (nothing for null). */
export async function startHostileUdpPeer(reply: (request: Buffer) => Buffer | Buffer[] | null): Promise<HostilePeer> {
  const socket = createSocket('udp4');
  let contacts = 0;
  socket.on('message', (request, from) => {
    contacts++;
    const answer = reply(request);
    for (const datagram of answer === null ? [] : [answer].flat()) socket.send(datagram, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
  return {
    port: socket.address().port,
    contacts: () => contacts,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** One BER TLV: its tag, where its value starts and how long it is (short and long definite forms). */
interface Tlv {
  tag: number;
  start: number;
  length: number;
}

function readTlv(buffer: Buffer, offset: number): Tlv {
  const tag = buffer[offset]!;
  const first = buffer[offset + 1]!;
  if (first < 0x80) return { tag, start: offset + 2, length: first };
  const octets = first & 0x7f;
  return { tag, start: offset + 2 + octets, length: buffer.readUIntBE(offset + 2, octets) };
}

const GET_REQUEST = 0xa0;
const GET_RESPONSE = 0xa2;

/**
 * The answer to a v1/v2c GetRequest that a confused agent might send: the request itself turned
 * into a GetResponse (its NULL values read as values), with `requestId` mapped by `changeId`.
 * Lengths are unchanged, so the result is valid BER.
 */
export function snmpResponseTo(request: Buffer, changeId: (requestId: number) => number): Buffer {
  const message = readTlv(request, 0);
  const version = readTlv(request, message.start);
  const community = readTlv(request, version.start + version.length);
  const pduOffset = community.start + community.length;
  const pdu = readTlv(request, pduOffset);
  if (pdu.tag !== GET_REQUEST) throw new Error(`not a GetRequest: PDU tag 0x${pdu.tag.toString(16)}`);
  const requestId = readTlv(request, pdu.start);
  const answer = Buffer.from(request);
  answer[pduOffset] = GET_RESPONSE;
  const id = answer.readIntBE(requestId.start, requestId.length);
  answer.writeIntBE(changeId(id), requestId.start, requestId.length);
  return answer;
}

/** Flip the low bit: a different request id of the same encoded length. */
export const otherRequestId = (requestId: number): number => requestId ^ 1;

// --- Leak accounting ----------------------------------------------------------------------------

/**
 * Sockets of every kind this process holds, from /proc/self/fd. Unlike
 * process.getActiveResourcesInfo() it counts unref()ed handles too (net-snmp unrefs its UDP
 * socket between requests) and sockets whose handle Node has lost track of.
 */
export function countOpenSocketFds(): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) count++;
    } catch {
      // closed while we looked
    }
  }
  return count;
}

/** process.getActiveResourcesInfo() as counts by type (TCPSocketWrap, UDPWrap, Timeout, TLSWrap...). */
export function activeResourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/** The types whose count in `now` exceeds `baseline`, with both counts; empty when nothing grew. */
export function grownResources(baseline: Record<string, number>, now: Record<string, number>): Record<string, [number, number]> {
  const grown: Record<string, [number, number]> = {};
  for (const [name, count] of Object.entries(now)) {
    if (count > (baseline[name] ?? 0)) grown[name] = [baseline[name] ?? 0, count];
  }
  return grown;
}

// --- SNMP table walks ---------------------------------------------------------------------------

const GET_BULK_REQUEST = 0xa5;

function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  const head = length < 0x80 ? Buffer.from([tag, length]) : Buffer.from([tag, 0x82, length >> 8, length & 0xff]);
  return Buffer.concat([head, content]);
}

/**
 * The answer of an agent whose table never ends: to every v2c GetBulkRequest, one varbind per
 * requested OID, at `nextOid(requested)` (raw BER OID content) with the value INTEGER 1.
 * `deeper` (append arc .1) always stays inside the column and always increases: the walk
 * can only end by its own bounds. `sameRowOid` answers one row again and again: a looping agent.
 */
export function snmpEndlessBulkResponseTo(request: Buffer, nextOid: (oid: Buffer) => Buffer): Buffer {
  const message = readTlv(request, 0);
  const version = readTlv(request, message.start);
  const community = readTlv(request, version.start + version.length);
  const pdu = readTlv(request, community.start + community.length);
  if (pdu.tag !== GET_BULK_REQUEST) throw new Error(`not a GetBulkRequest: PDU tag 0x${pdu.tag.toString(16)}`);
  const requestId = readTlv(request, pdu.start);
  const nonRepeaters = readTlv(request, requestId.start + requestId.length);
  const maxRepetitions = readTlv(request, nonRepeaters.start + nonRepeaters.length);
  const list = readTlv(request, maxRepetitions.start + maxRepetitions.length);
  const varbinds: Buffer[] = [];
  for (let offset = list.start; offset < list.start + list.length; ) {
    const varbind = readTlv(request, offset);
    const oid = readTlv(request, varbind.start);
    varbinds.push(tlv(0x30, Buffer.concat([tlv(0x06, nextOid(request.subarray(oid.start, oid.start + oid.length))), Buffer.from([0x02, 0x01, 0x01])])));
    offset = varbind.start + varbind.length;
  }
  const raw = (t: Tlv, from: number) => request.subarray(from, t.start + t.length);
  const pduContent = Buffer.concat([raw(requestId, pdu.start), Buffer.from([0x02, 0x01, 0x00, 0x02, 0x01, 0x00]), tlv(0x30, Buffer.concat(varbinds))]);
  const head = request.subarray(message.start, community.start + community.length);
  return tlv(0x30, Buffer.concat([head, tlv(GET_RESPONSE, pduContent)]));
}

export const deeperOid = (oid: Buffer): Buffer => Buffer.concat([oid, Buffer.from([0x01])]);
/** Answers the first row (arc .1 below the column) and then that same row again, forever. */
export const sameRowOid = (oid: Buffer): Buffer => (oid.at(-1) === 0x01 ? oid : deeperOid(oid));
