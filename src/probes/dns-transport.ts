/**
 * One DNS exchange with one server: a query over UDP, retried over TCP when the answer comes back
 * truncated (RFC 7766 §5), or over TCP alone. Packets are encoded and decoded by dns-packet; this
 * module owns the sockets, the matching of answers to the query, and the caps that keep a hostile
 * server from costing more than one bounded read. Rejects with a {@link DnsExchangeError}.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, RecordType } from 'dns-packet';

/** A DNS message over TCP is at most 65535 bytes (its 2-byte length prefix). */
const MAX_TCP_MESSAGE_BYTES = 65_535;

export interface DnsQuery {
  server: string;
  port: number;
  name: string;
  type: RecordType;
  recursionDesired: boolean;
  /** 'udp' starts on UDP and falls back to TCP on truncation; 'tcp' uses TCP only. */
  transport: 'udp' | 'tcp';
}

export interface DnsAnswer {
  response: DecodedPacket & { rcode?: string };
  /** The transport that carried the final answer. */
  transport: 'udp' | 'tcp';
  /** True when a truncated UDP answer was retried over TCP. */
  truncatedOverUdp: boolean;
  /** Time from sending the (final) query to its answer, in milliseconds. */
  queryTimeMs: number;
}

/** Why an exchange failed; `kind` says what the probe should call it. */
export class DnsExchangeError extends Error {
  readonly kind: 'network' | 'protocol' | 'aborted';
  /** The socket error code, for kind 'network'. */
  readonly code?: string;
  constructor(kind: 'network' | 'protocol' | 'aborted', message: string, code?: string) {
    super(message);
    this.name = 'DnsExchangeError';
    this.kind = kind;
    if (code !== undefined) this.code = code;
  }
}

export async function exchangeDns(query: DnsQuery, signal: AbortSignal): Promise<DnsAnswer> {
  if (query.transport === 'tcp') return { ...(await overTcp(query, signal)), transport: 'tcp', truncatedOverUdp: false };
  const udp = await overUdp(query, signal);
  if (!udp.response.flag_tc) return { ...udp, transport: 'udp', truncatedOverUdp: false };
  return { ...(await overTcp(query, signal)), transport: 'tcp', truncatedOverUdp: true };
}

function encodeQuery(query: DnsQuery, id: number): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: query.recursionDesired ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type: query.type, name: query.name, class: 'IN' }],
  });
}

/**
 * The decoded answer to our query, or why this message is not one: a message with another id or
 * question is what a spoofer (or a confused server) sends, and is ignored on UDP as resolvers do.
 */
function decodeAnswer(message: Buffer, query: DnsQuery, id: number): DecodedPacket | { mismatch: string } | { garbage: string } {
  let packet: DecodedPacket;
  try {
    packet = dnsPacket.decode(message);
  } catch (err) {
    return { garbage: `unparseable DNS response (${message.length} bytes): ${err instanceof Error ? err.message : String(err)}` };
  }
  if (packet.id !== id || packet.type !== 'response') return { mismatch: 'a message that is not the answer to this query' };
  const question = packet.questions?.[0];
  // A truncated answer may carry no question section at all (RFC 2181 §9); otherwise it must echo ours.
  if (question && (question.name.toLowerCase() !== query.name.toLowerCase().replace(/\.$/, '') || question.type !== query.type)) {
    return { mismatch: `an answer to another question (${question.type} ${question.name})` };
  }
  return packet;
}

interface Timed {
  response: DecodedPacket;
  queryTimeMs: number;
}

function overUdp(query: DnsQuery, signal: AbortSignal): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const id = randomInt(0, 65_536);
    const socket = dgram.createSocket(net.isIPv6(query.server) ? 'udp6' : 'udp4');
    let sentNs = 0n;
    const done = (finish: () => void): void => {
      signal.removeEventListener('abort', onAbort);
      socket.close();
      finish();
    };
    const onAbort = (): void => done(() => reject(new DnsExchangeError('aborted', 'no answer')));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err: NodeJS.ErrnoException) => done(() => reject(new DnsExchangeError('network', err.message, err.code))));
    socket.on('message', (message, from) => {
      if (from.port !== query.port) return;
      const decoded = decodeAnswer(message, query, id);
      if ('garbage' in decoded) return done(() => reject(new DnsExchangeError('protocol', decoded.garbage)));
      if ('mismatch' in decoded) return;
      const queryTimeMs = Number(process.hrtime.bigint() - sentNs) / 1e6;
      done(() => resolve({ response: decoded, queryTimeMs }));
    });
    // connect() makes the kernel drop datagrams from any other address, and turns an ICMP
    // port-unreachable into ECONNREFUSED instead of silence.
    socket.connect(query.port, query.server, () => {
      sentNs = process.hrtime.bigint();
      socket.send(encodeQuery(query, id));
    });
  });
}

function overTcp(query: DnsQuery, signal: AbortSignal): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const id = randomInt(0, 65_536);
    const socket = net.connect({ host: query.server, port: query.port });
    let sentNs = 0n;
    let received = Buffer.alloc(0);
    const done = (finish: () => void): void => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      finish();
    };
    const onAbort = (): void => done(() => reject(new DnsExchangeError('aborted', 'no answer')));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err: NodeJS.ErrnoException) => done(() => reject(new DnsExchangeError('network', err.message, err.code))));
    socket.once('connect', () => {
      sentNs = process.hrtime.bigint();
      const message = encodeQuery(query, id);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(message.length);
      socket.write(Buffer.concat([length, message]));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2) return;
      const length = received.readUInt16BE(0);
      if (received.length - 2 > MAX_TCP_MESSAGE_BYTES) return done(() => reject(new DnsExchangeError('protocol', 'DNS server sent more than one 64 KiB message over TCP')));
      if (received.length < 2 + length) return;
      const decoded = decodeAnswer(received.subarray(2, 2 + length), query, id);
      if ('garbage' in decoded) return done(() => reject(new DnsExchangeError('protocol', decoded.garbage)));
      if ('mismatch' in decoded) return done(() => reject(new DnsExchangeError('protocol', `DNS server sent ${decoded.mismatch} over TCP`)));
      const queryTimeMs = Number(process.hrtime.bigint() - sentNs) / 1e6;
      done(() => resolve({ response: decoded, queryTimeMs }));
    });
    socket.once('end', () => done(() => reject(new DnsExchangeError('protocol', `DNS server closed the TCP connection after ${received.length} bytes, before a whole answer`))));
  });
}
