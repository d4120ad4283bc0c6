/**
 * TCP probe: can a connection be opened to the host's address on a port? Success is the
 * completed handshake; the socket is destroyed at once, so nothing is sent to the service.
 */
import net from 'node:net';
import { z } from 'zod';
import { probeTimeoutSchema } from './probe-timeout.ts';
import { classifySocketError, describeError, failed, succeeded } from './errors.ts';
import type { ProbeContextWithCredential, ProbeResult } from './types.ts';

export const tcpProbeSchema = z
  .object({
    type: z.literal('tcp').describe('Probe type: open a TCP connection to the host address.'),
    port: z.number().int().min(1).max(65535).describe('TCP port to connect to on the host address (1-65535).'),
    timeout_ms: probeTimeoutSchema,
  })
  .strict()
  .describe('Succeeds when a TCP connection to the host address and port is established.');

export type TcpProbeConfig = z.infer<typeof tcpProbeSchema>;

/**
 * describeError, plus the case it misses: when a name resolves to several addresses, Node's
 * happy-eyeballs connect fails with an AggregateError whose own message is empty, so the
 * useful text ("connect ECONNREFUSED ::1:80") is only in its members.
 */
export function describeConnectError(err: unknown): string {
  if (err instanceof AggregateError && !err.message && err.errors.length > 0) {
    return err.errors.map(describeError).join('; ');
  }
  return describeError(err);
}

/** Connect to ctx.address:port; never throws, and leaves no socket or listener behind. */
export function runTcpProbe(config: TcpProbeConfig, ctx: ProbeContextWithCredential): Promise<ProbeResult> {
  const startNs = process.hrtime.bigint();
  const detail = { port: config.port, remote_address: null as string | null };
  const timedOut = (): ProbeResult => failed(startNs, 'timeout', `no connection within ${ctx.timeoutMs} ms`, detail);
  if (ctx.signal.aborted) return Promise.resolve(timedOut());
  return new Promise((resolve) => {
    const socket = new net.Socket();
    const finish = (result: ProbeResult): void => {
      ctx.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => finish(timedOut());
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      finish(succeeded(startNs, { ...detail, remote_address: socket.remoteAddress ?? null }));
    });
    // `on`, not `once`: a late second error must not become an uncaught exception.
    socket.on('error', (err) => {
      finish(failed(startNs, classifySocketError(err), describeConnectError(err), detail));
    });
    connectOrFail(socket, ctx.address, config.port, (err) => {
      finish(failed(startNs, 'config_error', describeError(err), detail));
    });
  });
}

/** Only a bad argument makes connect throw (the schema should have caught it); that too is a result. */
function connectOrFail(socket: net.Socket, host: string, port: number, onThrow: (err: unknown) => void): void {
  try {
    socket.connect({ host, port });
  } catch (err) {
    onThrow(err);
  }
}
