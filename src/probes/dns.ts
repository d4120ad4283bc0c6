/**
 * DNS probe: one query for a name and record type to a chosen server (by default the host itself),
 * judged by the response code and the answers. The answers, the rcode and the query time are in
 * the result's detail. Packets are dns-packet's; sockets and fallback are in dns-transport.ts.
 *
 * Node's own dns.Resolver was the other candidate: it can aim at a server and port, but it hides
 * the response code behind error codes (NOERROR-with-no-data and NXDOMAIN both become errors),
 * reports no query time and decides TCP fallback itself, so it cannot say what this probe says.
 */
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import type { Answer, RecordType } from 'dns-packet';
import { z } from 'zod';
import { classifySocketError, describeError, failed, succeeded } from './errors.ts';
import { DnsExchangeError, exchangeDns } from './dns-transport.ts';
import type { DnsAnswer } from './dns-transport.ts';
import { probeTimeoutSchema } from './probe-timeout.ts';
import type { ProbeContextWithCredential, ProbeResult } from './types.ts';

export const DNS_RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'SRV', 'NS', 'SOA'] as const;
export const DNS_RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'] as const;
/** Answers kept in a result's detail: a reply can hold hundreds; history needs a handful. */
const MAX_DETAIL_ANSWERS = 32;

/**
 * A DNS name: labels of 1-63 letters, digits, '-' or '_' (SRV's _service._proto); the length limit
 * (253 without a trailing dot) is a check of its own rather than a lookahead, so the pattern in
 * openapi.yaml is one every client's regex engine (and the fuzz suite's generator) understands.
 */
const DNS_NAME = /^([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

const answerList = z.array(z.string().min(1).max(1024)).min(1).max(64);

export const dnsProbeSchema = z
  .object({
    type: z.literal('dns').describe('Probe type: a DNS query to a chosen server.'),
    name: z
      .string()
      .max(254)
      .regex(DNS_NAME, 'must be a DNS name such as www.example.com or _sip._udp.example.com')
      .refine((n) => n.replace(/\.$/, '').length <= 253, 'must be at most 253 characters (without a trailing dot)')
      .describe('Name to query.'),
    record_type: z.enum(DNS_RECORD_TYPES).default('A').describe('Record type to ask for.'),
    server: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe("DNS server to ask (IP address or name); omitted = the host's own address, for checking a DNS server."),
    port: z.int().min(1).max(65535).default(53).describe('Port of the DNS server.'),
    transport: z.enum(['udp', 'tcp']).default('udp').describe('udp: UDP, retried over TCP when the answer is truncated; tcp: TCP only.'),
    recursion_desired: z.boolean().default(true).describe('Set the RD flag (ask a resolver to recurse); turn off to query an authoritative server.'),
    expect_rcode: z.enum(DNS_RCODES).default('NOERROR').describe('Response code the answer must carry, e.g. NXDOMAIN to check a name is absent.'),
    expect_answers_contain: answerList
      .optional()
      .describe('Each of these must be among the answers of record_type (as shown in detail.answers, e.g. "192.0.2.1", "10 mail.example.com", "0 5 5060 sip.example.com"); names compare without case or trailing dot.'),
    expect_answers_equal: answerList.optional().describe('The answers of record_type must be exactly these, in any order.'),
    timeout_ms: probeTimeoutSchema,
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.expect_rcode !== 'NOERROR' && (config.expect_answers_contain || config.expect_answers_equal)) {
      ctx.addIssue({ code: 'custom', path: ['expect_rcode'], message: `a ${config.expect_rcode} answer carries no answers to expect; drop expect_answers_*` });
    }
  })
  .describe('Succeeds when the server answers with the expected response code and, if asked, the expected answers.');

export type DnsProbeConfig = z.infer<typeof dnsProbeSchema>;

export async function runDnsProbe(config: DnsProbeConfig, ctx: ProbeContextWithCredential): Promise<ProbeResult> {
  const startNs = process.hrtime.bigint();
  const detail: Record<string, unknown> = { name: config.name, record_type: config.record_type };
  const server = await resolveServer(config.server ?? ctx.address).catch((err: unknown) => ({ error: err }));
  if (typeof server !== 'string') {
    return failed(startNs, classifySocketError(server.error), `cannot resolve DNS server ${config.server ?? ctx.address}: ${describeError(server.error)}`, detail);
  }
  detail.server = `${server}:${config.port}`;
  try {
    const answer = await exchangeDns(
      { server, port: config.port, name: config.name, type: config.record_type, recursionDesired: config.recursion_desired, transport: config.transport },
      ctx.signal,
    );
    return judge(config, answer, startNs, detail);
  } catch (err) {
    return failed(startNs, ...classify(err, ctx, config), detail);
  }
}

async function resolveServer(server: string): Promise<string> {
  if (net.isIP(server)) return server;
  return (await lookup(server, { order: 'ipv4first' })).address;
}

function classify(err: unknown, ctx: ProbeContextWithCredential, config: DnsProbeConfig): [ProbeResult['errorType'] & string, string] {
  if (ctx.signal.aborted || (err instanceof DnsExchangeError && err.kind === 'aborted')) {
    return ['timeout', `no DNS answer within ${ctx.timeoutMs} ms`];
  }
  if (err instanceof DnsExchangeError && err.kind === 'protocol') return ['protocol_error', err.message];
  const code = err instanceof DnsExchangeError ? err.code : undefined;
  return [classifySocketError({ code }), `DNS query over ${config.transport} failed: ${describeError(err)}`];
}

function judge(config: DnsProbeConfig, answer: DnsAnswer, startNs: bigint, detail: Record<string, unknown>): ProbeResult {
  const rcode = answer.response.rcode ?? 'NOERROR';
  const records = (answer.response.answers ?? []).filter((a) => a.type === config.record_type);
  const answers = records.map(formatAnswer);
  const full = {
    ...detail,
    rcode,
    answers: answers.slice(0, MAX_DETAIL_ANSWERS),
    ...(answers.length > MAX_DETAIL_ANSWERS ? { answer_count: answers.length } : {}),
    transport: answer.transport,
    ...(answer.truncatedOverUdp ? { truncated_over_udp: true } : {}),
    query_time_ms: Math.round(answer.queryTimeMs * 10) / 10,
  };
  const problem = describeMismatch(config, rcode, answers);
  return problem ? failed(startNs, 'condition_failed', problem, full) : succeeded(startNs, full);
}

function describeMismatch(config: DnsProbeConfig, rcode: string, answers: string[]): string | null {
  if (rcode !== config.expect_rcode) return `condition rcode ${config.expect_rcode} failed: observed ${rcode}`;
  const seen = new Set(answers.map(normalise));
  const observed = () => `observed ${answers.length === 0 ? 'no answers' : JSON.stringify(answers.slice(0, 8))}${answers.length > 8 ? '…' : ''}`;
  const missing = config.expect_answers_contain?.filter((want) => !seen.has(normalise(want)));
  if (missing?.length) return `condition answers contain ${JSON.stringify(missing)} failed: ${observed()}`;
  const equal = config.expect_answers_equal;
  if (equal && !sameSet(new Set(equal.map(normalise)), seen)) return `condition answers equal ${JSON.stringify(equal)} failed: ${observed()}`;
  return null;
}

/** Names compare without case or trailing dots, IPv6 addresses in their canonical form. */
function normalise(answer: string): string {
  if (net.isIPv6(answer)) return new URL(`http://[${answer}]`).hostname.slice(1, -1);
  return answer.toLowerCase().replace(/\.(?=\s|$)/g, '');
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((item) => b.has(item));
}

/** One answer as text, in zone-file order: "10 mail.example.com", "0 5 5060 sip.example.com"… */
export function formatAnswer(answer: Answer): string {
  const data = (answer as { data: unknown }).data;
  switch (answer.type as RecordType) {
    case 'MX': {
      const mx = data as { preference: number; exchange: string };
      return `${mx.preference} ${mx.exchange}`;
    }
    case 'SRV': {
      const srv = data as { priority: number; weight: number; port: number; target: string };
      return `${srv.priority} ${srv.weight} ${srv.port} ${srv.target}`;
    }
    case 'SOA': {
      const soa = data as { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
      return `${soa.mname} ${soa.rname} ${soa.serial} ${soa.refresh} ${soa.retry} ${soa.expire} ${soa.minimum}`;
    }
    case 'TXT': {
      const parts = Array.isArray(data) ? data : [data];
      return parts.map((part) => (Buffer.isBuffer(part) ? part.toString('utf8') : String(part))).join('');
    }
    default:
      return String(data);
  }
}
