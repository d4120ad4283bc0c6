import { z } from 'zod';
import { dnsProbeSchema, runDnsProbe, type DnsProbeConfig } from './dns.ts';
import { icmpProbeSchema, runIcmpProbe, type IcmpProbeConfig } from './icmp.ts';
import { runSnmpTableProbe, snmpTableProbeSchema, type SnmpTableProbeConfig } from './snmp-table.ts';
import { httpProbeSchema, runHttpProbe, type HttpProbeConfig } from './http.ts';
import { runSnmpProbe, snmpProbeSchema, type SnmpProbeConfig } from './snmp.ts';
import { runSshProbe, sshProbeSchema, type SshProbeConfig } from './ssh.ts';
import { runTcpProbe, tcpProbeSchema, type TcpProbeConfig } from './tcp.ts';
import type { ProbeContextWithCredential, ProbeResult } from './types.ts';

/**
 * Every probe type Vigil knows. Adding one touches: its module here (schema + run function), this
 * union and dispatch, credential kinds it accepts (src/credentials/kinds.ts), docs/api.md's probe
 * list, and a test against a real peer (openapi.yaml is generated from the union).
 */
export const probeConfigSchema = z.discriminatedUnion('type', [
  tcpProbeSchema,
  httpProbeSchema,
  sshProbeSchema,
  snmpProbeSchema,
  dnsProbeSchema,
  icmpProbeSchema,
  snmpTableProbeSchema,
]);
export type ProbeConfig = z.infer<typeof probeConfigSchema>;
export type ProbeType = ProbeConfig['type'];

/** Per-host facts some probes need besides their config. */
export interface HostFacts {
  /** SSH host key fingerprint trusted on first use, if recorded. */
  sshHostKeySha256?: string | null;
}

export function runProbe(config: ProbeConfig, ctx: ProbeContextWithCredential, facts: HostFacts = {}): Promise<ProbeResult> {
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

/** The credential a probe config references, if any. */
export function credentialIdOf(config: ProbeConfig): string | undefined {
  return 'credential_id' in config ? (config.credential_id as string | undefined) : undefined;
}
