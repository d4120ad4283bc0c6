import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTcpProbe, tcpProbeSchema } from '../../src/probes/tcp.ts';
import type { ErrorType } from '../../src/probes/types.ts';
import { LOOPBACK, reserveRefusedPort, startTcpTarget, withProbeContext } from '../helpers/targets.ts';
import type { LoopbackTarget } from '../helpers/targets.ts';

let listener: LoopbackTarget;
let refused: LoopbackTarget;

beforeAll(async () => {
  [listener, refused] = await Promise.all([startTcpTarget(), reserveRefusedPort()]);
});

afterAll(async () => {
  await Promise.all([listener.close(), refused.close()]);
});

describe('runTcpProbe', () => {
  it('succeeds when the port accepts a connection, reporting the remote address', async () => {
    const result = await withProbeContext(2000, (ctx) => runTcpProbe({ type: 'tcp', port: listener.port }, ctx));
    expect(result).toMatchObject({ success: true, errorType: null, errorMessage: null });
    expect(result.detail).toEqual({ port: listener.port, remote_address: LOOPBACK });
    expect(result.responseTimeMs).toBeGreaterThanOrEqual(0);
  });

  it.each<[string, () => { address: string; port: number }, ErrorType]>([
    ['a closed port', () => ({ address: LOOPBACK, port: refused.port }), 'connection_refused'],
    ['a name that does not resolve', () => ({ address: 'nohost.invalid', port: 80 }), 'dns_failure'],
  ])('fails on %s as %s', async (_case, target, errorType) => {
    const { address, port } = target();
    const result = await withProbeContext(5000, (ctx) => runTcpProbe({ type: 'tcp', port }, ctx), { address });
    expect(result).toMatchObject({ success: false, errorType });
    expect(result.errorMessage).toBeTruthy();
    expect(result.detail).toEqual({ port, remote_address: null });
  });

  it('returns config_error rather than throwing for a port the schema would have rejected', async () => {
    const result = await withProbeContext(1000, (ctx) => runTcpProbe({ type: 'tcp', port: 70000 }, ctx));
    expect(result).toMatchObject({ success: false, errorType: 'config_error' });
  });

  it('returns a timeout at once when the signal has already fired', async () => {
    const signal = AbortSignal.abort();
    const result = await runTcpProbe({ type: 'tcp', port: listener.port }, { address: LOOPBACK, signal, timeoutMs: 250 });
    expect(result).toMatchObject({ success: false, errorType: 'timeout', errorMessage: 'no connection within 250 ms' });
  });

  it('returns a timeout when the signal fires while connecting', async () => {
    const controller = new AbortController();
    const pending = runTcpProbe({ type: 'tcp', port: listener.port }, { address: LOOPBACK, signal: controller.signal, timeoutMs: 1 });
    controller.abort(); // before the event loop turns, so before the connect can complete
    await expect(pending).resolves.toMatchObject({ success: false, errorType: 'timeout' });
  });
});

describe('tcpProbeSchema', () => {
  it.each([
    ['port 0', { type: 'tcp', port: 0 }],
    ['port 70000', { type: 'tcp', port: 70000 }],
    ['a fractional port', { type: 'tcp', port: 80.5 }],
    ['a port given as a string', { type: 'tcp', port: '80' }],
    ['a missing port', { type: 'tcp' }],
    ['an unknown field', { type: 'tcp', port: 80, timeout: 5 }],
    ['another probe type', { type: 'http', port: 80 }],
  ])('rejects %s', (_case, input) => {
    expect(tcpProbeSchema.safeParse(input).success).toBe(false);
  });

  it.each([1, 22, 65535])('accepts port %i', (port) => {
    expect(tcpProbeSchema.parse({ type: 'tcp', port })).toEqual({ type: 'tcp', port });
  });
});
