/**
 * SNMP probe: one GET of a few OIDs (v1, v2c or v3 USM) over UDP with net-snmp. How net-snmp
 * reports each failure, and how it maps to an error type, is in snmp-errors.ts.
 */
import { getCiphers } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import {
  AuthProtocols,
  ObjectType,
  PrivProtocols,
  SecurityLevel,
  Version,
  createSession,
  createV3Session,
  isVarbindError,
} from 'net-snmp';
import type { Session, SessionOptions, User, Varbind } from 'net-snmp';
import { z } from 'zod';
import { probeTimeoutSchema } from './probe-timeout.ts';
import { classifySocketError, describeError, failed, succeeded } from './errors.ts';
import { classifyGetError, noAnswerMessage, v1Silence, v3Silence } from './snmp-errors.ts';
import type { Verdict } from './snmp-errors.ts';
import { toSnmpValue } from './snmp-values.ts';
import type { SnmpValue } from './snmp-values.ts';
import type { ProbeContextWithCredential, ProbeResult, ResolvedCredential } from './types.ts';

const MAX_OID_ARC = 2 ** 32 - 1;
/** Dotted numeric, no leading dot, first arc 0..2, no leading zeros (`1.3.6.1.2.1.1.5.0`). */
const OID_FORMAT = /^[0-2](\.(0|[1-9]\d{0,9})){1,127}$/;

export const oidSchema = z
  .string()
  .regex(OID_FORMAT, 'must be a dotted numeric OID such as 1.3.6.1.2.1.1.5.0')
  .refine((oid) => oid.split('.').every((arc) => Number(arc) <= MAX_OID_ARC), 'OID arc exceeds 2^32-1')
  .describe('A dotted numeric OID, e.g. 1.3.6.1.2.1.1.5.0 (sysName.0)');

export const snmpProbeSchema = z
  .object({
    type: z.literal('snmp').describe('Probe type: an SNMP GET'),
    version: z.enum(['1', '2c', '3']).default('2c').describe('SNMP version: 1 and 2c use a community, 3 uses USM'),
    port: z.int().min(1).max(65535).default(161).describe('UDP port of the agent'),
    credential_id: z
      .uuid()
      .describe("Credential to use: kind 'snmp-community' for versions 1 and 2c, 'snmp-v3' for version 3"),
    oids: z
      .array(oidSchema)
      .min(1)
      .max(32)
      .refine((oids) => new Set(oids).size === oids.length, 'OIDs must be distinct')
      .default(['1.3.6.1.2.1.1.3.0', '1.3.6.1.2.1.1.5.0'])
      .describe('OIDs read in one GET; every one must exist. Default: sysUpTime.0 and sysName.0'),
    retries: z
      .int()
      .min(0)
      .max(5)
      .default(0)
      .describe('Resends after an unanswered attempt; the timeout is shared out between attempts'),
    timeout_ms: probeTimeoutSchema,
  })
  .strict()
  .describe('SNMP probe: GET the listed OIDs; fails when any is missing or the agent does not answer');

export type SnmpProbeConfig = z.infer<typeof snmpProbeSchema>;
export type { SnmpValue } from './snmp-values.ts';

// OpenSSL 3 moved DES to its legacy provider, which Node does not load by default.
const DES_UNAVAILABLE =
  'SNMPv3 privacy protocol DES is unavailable: this Node.js uses OpenSSL 3 without its legacy provider ' +
  '(start Node with --openssl-legacy-provider, or switch the user to AES)';

export type SessionAuth = { community: string } | { user: User };

/** The session's authenticator from the credential, or why it cannot be used. */
export function resolveAuth(version: SnmpProbeConfig['version'], credential: ResolvedCredential | undefined): SessionAuth | string {
  if (version !== '3') {
    if (credential?.kind !== 'snmp-community') {
      return `SNMP v${version} needs an 'snmp-community' credential, got ${credential ? `'${credential.kind}'` : 'none'}`;
    }
    return { community: credential.community };
  }
  if (credential?.kind !== 'snmp-v3') {
    return `SNMP v3 needs an 'snmp-v3' credential, got ${credential ? `'${credential.kind}'` : 'none'}`;
  }
  const user: User = { name: credential.username, level: SecurityLevel[credential.level] };
  if (credential.level !== 'noAuthNoPriv') {
    if (!credential.authProtocol || !credential.authKey) return `SNMP v3 level ${credential.level} needs an auth protocol and key`;
    user.authProtocol = AuthProtocols[credential.authProtocol];
    user.authKey = credential.authKey;
  }
  if (credential.level === 'authPriv') {
    if (!credential.privProtocol || !credential.privKey) return 'SNMP v3 level authPriv needs a privacy protocol and key';
    if (credential.privProtocol === 'des' && !getCiphers().includes('des-cbc')) return DES_UNAVAILABLE;
    user.privProtocol = PrivProtocols[credential.privProtocol];
    user.privKey = credential.privKey;
  }
  return { user };
}

/**
 * Every secret the credential holds, scrubbed from results as a last line of defence: messages
 * are built from safe parts, but net-snmp quotes communities in some of its own, and an agent can
 * serve its own community as a value (SNMP-COMMUNITY-MIB's snmpCommunityName), which would
 * otherwise be stored in the history's detail.values.
 */
export function secretsOf(credential: ResolvedCredential | undefined): string[] {
  if (credential?.kind === 'snmp-community') return [credential.community];
  if (credential?.kind === 'snmp-v3') return [credential.authKey ?? '', credential.privKey ?? ''];
  return [];
}

export function scrub(result: ProbeResult, secrets: string[]): ProbeResult {
  const live = secrets.filter(Boolean);
  if (live.length === 0) return result;
  const clean = (value: unknown): unknown => {
    if (typeof value === 'string') return live.reduce((text, secret) => text.split(secret).join('***'), value);
    if (Array.isArray(value)) return value.map(clean);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, clean(inner)]));
  };
  return clean(result) as ProbeResult;
}

/** Resolve a host name, preferring IPv4: most agents (snmpd's default included) listen on udp4 only. */
export async function resolveTarget(address: string): Promise<{ ip: string; transport: 'udp4' | 'udp6' }> {
  const { address: ip, family } = await lookup(address, { order: 'ipv4first' });
  return { ip, transport: family === 6 ? 'udp6' : 'udp4' };
}

export function openSession(ip: string, options: SessionOptions, auth: SessionAuth): Session {
  if ('community' in auth) return createSession(ip, auth.community, options);
  return createV3Session(ip, auth.user, options);
}

/** The verdict on a response: every OID must be present. */
function judgeVarbinds(startNs: bigint, varbinds: Varbind[], detail: Record<string, unknown>): ProbeResult {
  const values: Record<string, SnmpValue> = {};
  const missing: string[] = [];
  for (const varbind of varbinds) {
    if (isVarbindError(varbind)) missing.push(`${varbind.oid} (${ObjectType[varbind.type] ?? varbind.type})`);
    else values[varbind.oid] = toSnmpValue(varbind);
  }
  const full = { ...detail, values };
  if (missing.length === 0) return succeeded(startNs, full);
  return failed(startNs, 'snmp_no_such_object', `agent has no value for ${missing.join(', ')}`, full);
}

/** Run one SNMP GET against ctx.address. Never throws for anything the target does. */
export async function runSnmpProbe(config: SnmpProbeConfig, ctx: ProbeContextWithCredential): Promise<ProbeResult> {
  const startNs = process.hrtime.bigint();
  const detail: Record<string, unknown> = { version: config.version };
  const auth = resolveAuth(config.version, ctx.credential);
  if (typeof auth === 'string') return failed(startNs, 'config_error', auth, detail);
  if (ctx.signal.aborted) return failed(startNs, 'timeout', noAnswerMessage(ctx.timeoutMs), detail);
  const result = await getOnce(startNs, config, ctx, auth, detail);
  return scrub(result, secretsOf(ctx.credential).filter((secret) => !ctx.address.includes(secret)));
}

function getOnce(
  startNs: bigint,
  config: SnmpProbeConfig,
  ctx: ProbeContextWithCredential,
  auth: SessionAuth,
  detail: Record<string, unknown>,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let session: Session | undefined;
    let settled = false;
    /** Datagrams the session received; net-snmp drops answers whose request-id is not ours without a word. */
    let answers = 0;
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      closeQuietly(session);
      resolve(result);
    };
    const fail = ([type, message, extra]: Verdict): void => finish(failed(startNs, type, message, { ...detail, ...extra }));
    // Nobody answered: for v3, whether the agent answered discovery tells keys from a down host.
    const silence = (): Verdict =>
      config.version === '3'
        ? v3Silence(ctx.timeoutMs, session?.msgSecurityParameters !== undefined)
        : v1Silence(ctx.timeoutMs, answers);
    const onAbort = (): void => fail(silence());
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    resolveTarget(ctx.address).then(
      ({ ip, transport }) => {
        if (settled) return;
        // net-snmp's timeout is per attempt; share the probe's budget so retries can happen at all.
        const timeout = Math.max(1, Math.floor(ctx.timeoutMs / (config.retries + 1)));
        const options: SessionOptions = {
          port: config.port,
          retries: config.retries,
          timeout,
          transport,
          version: Version[config.version],
        };
        session = openSession(ip, options, auth);
        session.dgram.on('message', () => answers++);
        // net-snmp emits 'error' for an unparseable datagram; unheard, that would throw.
        session.on('error', (err: unknown) => fail(['protocol_error', `unparseable SNMP message: ${describeError(err)}`, {}]));
        session.get(config.oids, (err, varbinds) => {
          if (err) {
            fail(classifyGetError(err, silence));
          } else {
            finish(judgeVarbinds(startNs, varbinds ?? [], detail));
          }
        });
      },
      (err: unknown) => fail([classifySocketError(err), `cannot resolve ${ctx.address}: ${describeError(err)}`, {}]),
    ).catch((err: unknown) => fail(['internal_error', `SNMP probe failed: ${describeError(err)}`, {}]));
  });
}

/** Close the session's UDP socket; closing twice throws in dgram, and nothing else can fail here. */
export function closeQuietly(session: Session | undefined): void {
  try {
    session?.close();
  } catch {
    // already closed
  }
}
