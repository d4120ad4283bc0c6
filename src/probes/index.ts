import { z } from 'zod';
import { httpProbeSchema, runHttpProbe, type HttpProbeConfig } from './http.ts';
import { runTcpProbe, tcpProbeSchema, type TcpProbeConfig } from './tcp.ts';
import type { ProbeContextWithCredential, ProbeResult } from './types.ts';

/**
 * Every probe type Vigil knows. Adding one touches: its module here (schema + run function), this
 * union and dispatch, the README's probe list, and a test against a real peer (openapi.yaml is
 * generated from the union).
 */
export const probeConfigSchema = z.discriminatedUnion('type', [tcpProbeSchema, httpProbeSchema]);
export type ProbeConfig = z.infer<typeof probeConfigSchema>;
export type ProbeType = ProbeConfig['type'];

export function runProbe(config: ProbeConfig, ctx: ProbeContextWithCredential): Promise<ProbeResult> {
  switch (config.type) {
    case 'tcp':
      return runTcpProbe(config as TcpProbeConfig, ctx);
    case 'http':
      return runHttpProbe(config as HttpProbeConfig, ctx);
  }
}

/** The credential a probe config references, if any. */
export function credentialIdOf(config: ProbeConfig): string | undefined {
  return 'credential_id' in config ? (config.credential_id as string | undefined) : undefined;
}
