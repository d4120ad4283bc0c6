import { z } from 'zod';
import { dnsProbeSchema, runDnsProbe, type DnsProbeConfig } from './dns.ts';
import { icmpProbeSchema, runIcmpProbe, type IcmpProbeConfig } from './icmp.ts';
import { runSnmpTableProbe, snmpTableProbeSchema, type SnmpTableProbeConfig } from './snmp-table.ts';
import { httpProbeSchema, runHttpProbe, type HttpProbeConfig } from './http.ts';
import { runSnmpProbe, snmpProbeSchema, type SnmpProbeConfig } from './snmp.ts';
import { runSshProbe, sshProbeSchema, type SshProbeConfig } from './ssh.ts';
import { runTcpProbe, tcpProbeSchema, type TcpProbeConfig } from './tcp.ts';
import { probeTimeoutSchema } from './probe-timeout.ts';
import type { ProbeContextWithCredential, ProbeResult } from './types.ts';

/**
 * Every probe type Vigil knows. Adding one touches: its module here (schema + run function), this
 * union and dispatch, credential kinds it accepts (src/credentials/kinds.ts), docs/api.md's probe
 * list, and a test against a real peer (openapi.yaml is generated from the union).
 */
const LEAF_PROBE_SCHEMAS = [tcpProbeSchema, httpProbeSchema, sshProbeSchema, snmpProbeSchema, dnsProbeSchema, icmpProbeSchema, snmpTableProbeSchema] as const;

/** One probe that checks one thing (every type but composite). */
export const leafProbeSchema = z.discriminatedUnion('type', [...LEAF_PROBE_SCHEMAS]);
export type LeafProbeConfig = z.infer<typeof leafProbeSchema>;

const requiredSchema = z
  .boolean()
  .default(true)
  .describe('Whether a failure of this probe fails the composite check; an optional probe is still run and recorded.');

/** The probes of a composite: any single probe, with `required`. */
const memberProbeSchema = z.discriminatedUnion(
  'type',
  LEAF_PROBE_SCHEMAS.map((schema) => schema.safeExtend({ required: requiredSchema })) as unknown as [typeof tcpProbeSchema, ...(typeof tcpProbeSchema)[]],
);
/** A composite's member: `required` is set by the schema (its type is lost in the mapped union). */
export type MemberProbeConfig = LeafProbeConfig & { required?: boolean };

export const compositeProbeSchema = z
  .object({
    type: z.literal('composite').describe('Probe type: run several probes as one check and record each (seed 004\'s composite node).'),
    parallel: z.boolean().default(false).describe('Run the probes at once (true) or one after another (false); either way every probe runs, bounded by the timeout.'),
    probes: z.array(memberProbeSchema).min(1).max(16).describe('The probes to run; each is recorded in detail.probes, and the check fails when any required one fails.'),
    timeout_ms: probeTimeoutSchema,
  })
  .strict()
  .describe('Composite mode: every probe runs (unlike the default chain of probes, which stops at the first failure); fails when any required probe fails.');
export type CompositeProbeConfig = z.infer<typeof compositeProbeSchema>;

export const probeConfigSchema = z.discriminatedUnion('type', [...LEAF_PROBE_SCHEMAS, compositeProbeSchema]);
export type ProbeConfig = z.infer<typeof probeConfigSchema>;
export type ProbeType = ProbeConfig['type'];

/** Per-host facts some probes need besides their config. */
export interface HostFacts {
  /** SSH host key fingerprint trusted on first use, if recorded. */
  sshHostKeySha256?: string | null;
}

/** Runs one single probe; composites are run by run-check.ts, which resolves each member's credential. */
export function runProbe(config: LeafProbeConfig, ctx: ProbeContextWithCredential, facts: HostFacts = {}): Promise<ProbeResult> {
  switch (config.type) {
    case 'tcp':
      return runTcpProbe(config as TcpProbeConfig, ctx);
    case 'http':
      return runHttpProbe(config as HttpProbeConfig, ctx);
    case 'ssh':
      return runSshProbe(config as SshProbeConfig, { ...ctx, knownHostKeySha256: facts.sshHostKeySha256 ?? null });
    case 'snmp':
      return runSnmpProbe(config as SnmpProbeConfig, ctx);
    case 'dns':
      return runDnsProbe(config as DnsProbeConfig, ctx);
    case 'icmp':
      return runIcmpProbe(config as IcmpProbeConfig, ctx);
    case 'snmp-table':
      return runSnmpTableProbe(config as SnmpTableProbeConfig, ctx);
  }
}

/** The credential a single probe references, if any. */
export function credentialIdOf(config: LeafProbeConfig): string | undefined {
  return 'credential_id' in config ? (config.credential_id as string | undefined) : undefined;
}

/** A credential reference inside a probe: the probe holding it and its path below the probe (for error fields). */
export interface CredentialRef {
  id: string;
  probe: LeafProbeConfig;
  /** '' for the probe itself, 'probes.2.' for a composite's third member. */
  prefix: string;
}

/** Every credential a probe references, a composite's members' included. */
export function credentialRefsOf(config: ProbeConfig): CredentialRef[] {
  if (config.type === 'composite') {
    return config.probes.flatMap((member, j) => credentialRefsOf(member).map((ref) => ({ ...ref, prefix: `probes.${j}.${ref.prefix}` })));
  }
  const id = credentialIdOf(config);
  return id === undefined ? [] : [{ id, probe: config, prefix: '' }];
}
