/**
 * The snmp-table probe against Debian's snmpd (IF-MIB for the machine's interfaces, loopback
 * among them), started per file on a free loopback port with its own config (test/helpers/snmpd.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/probes/run-check.ts';
import { runSnmpTableProbe, snmpTableProbeSchema } from '../../src/probes/snmp-table.ts';
import type { SnmpTableMemory } from '../../src/probes/snmp-table.ts';
import type { ProbeResult, ResolvedCredential } from '../../src/probes/types.ts';
import { startSnmpd } from '../helpers/snmpd.ts';
import type { TestSnmpd } from '../helpers/snmpd.ts';
import { withProbeContext } from '../helpers/targets.ts';

const CREDENTIAL_ID = '0d5e2c1a-7b3f-4e8a-9c6d-1f2e3a4b5c6d';
const IF_TABLE = { descr: '1.3.6.1.2.1.2.2.1.2', oper: '1.3.6.1.2.1.2.2.1.8', in_octets: '1.3.6.1.2.1.2.2.1.10' };

let snmpd: TestSnmpd;

beforeAll(async () => {
  snmpd = await startSnmpd();
});

afterAll(async () => {
  await snmpd?.stop();
});

function walk(input: Record<string, unknown>, options: { memory?: unknown; version?: string; timeoutMs?: number } = {}): Promise<ProbeResult> {
  const config = snmpTableProbeSchema.parse({ type: 'snmp-table', credential_id: CREDENTIAL_ID, port: snmpd.port, columns: IF_TABLE, ...(options.version ? { version: options.version } : {}), ...input });
  const credential: ResolvedCredential = options.version === '3' ? { kind: 'snmp-v3', ...snmpd.user } : { kind: 'snmp-community', community: snmpd.community };
  return withProbeContext(options.timeoutMs ?? 5000, (ctx) => runSnmpTableProbe(config, { ...ctx, credential, memory: options.memory }));
}

const LOOPBACK_UP = { kind: 'every_row', where: { column: 'descr', matches: '^lo$' }, column: 'oper', equals: 1 };

describe('snmp-table probe against snmpd', () => {
  it.each(['1', '2c', '3'])('walks ifTable over SNMP v%s and finds the loopback row', async (version) => {
    const result = await walk({ row_conditions: [LOOPBACK_UP] }, { version });
    expect(result, snmpd.output()).toMatchObject({ success: true, detail: { row_count: expect.any(Number) } });
    const rows = Object.values(result.detail.rows as Record<string, Record<string, unknown>>);
    expect(rows).toContainEqual(expect.objectContaining({ descr: 'lo', oper: 1 }));
  });

  it('walks with several GETBULK requests when a request returns fewer rows than the table', async () => {
    const result = await walk({ max_repetitions: 1 });
    expect(result.success).toBe(true);
    expect(result.detail.requests).toBeGreaterThan(result.detail.row_count as number);
  });

  it('fails a row condition naming the row and the observed value', async () => {
    const result = await walk({ row_conditions: [{ ...LOOPBACK_UP, equals: 2 }] });
    expect(result).toMatchObject({ success: false, errorType: 'condition_failed' });
    expect(result.errorMessage).toMatch(/^condition every row where descr matches \/\^lo\$\/ has oper equals 2 failed: row \d+ \(descr "lo"\) observed 1$/);
  });

  it('fails min_rows when no row exists', async () => {
    const result = await walk({ columns: { nothing: '1.3.6.1.2.1.2.2.1.99' } });
    expect(result).toMatchObject({ success: false, errorType: 'condition_failed', errorMessage: 'condition min_rows 1 failed: observed 0 rows' });
  });

  it('stops a walk that runs past max_rows (a table that does not end) with a clear error', async () => {
    const result = await walk({ columns: { everything: '1.3.6.1' }, max_rows: 50 });
    expect(result).toMatchObject({
      success: false,
      errorType: 'protocol_error',
      errorMessage: 'the table did not end within max_rows (50) rows; raise max_rows if it is really that long',
      detail: { row_count: 50 },
    });
  });

  describe('counter deltas', () => {
    const growth = { kind: 'max_increase', where: { column: 'descr', matches: '^lo$' }, column: 'in_octets', max: 100 };

    it('keeps the first check as the baseline and returns the counters as memory', async () => {
      const result = await walk({ row_conditions: [growth] });
      expect(result).toMatchObject({ success: true, detail: { delta_baseline: true } });
      const memory = result.memory as SnmpTableMemory;
      expect(Object.keys(memory)).toEqual([IF_TABLE.in_octets]);
      expect(Object.values(memory[IF_TABLE.in_octets]!).every((v) => /^\d+$/.test(v))).toBe(true);
    });

    it('fails when a counter grew by more than max since the remembered values', async () => {
      const first = await walk({ row_conditions: [growth] });
      const earlier = lowered(first.memory as SnmpTableMemory, 5000);
      const result = await walk({ row_conditions: [growth] }, { memory: earlier });
      expect(result).toMatchObject({ success: false, errorType: 'condition_failed' });
      expect(result.errorMessage).toMatch(/^condition in_octets increase <= 100 where descr matches \/\^lo\$\/ failed: row \d+ \(descr "lo"\) observed \+\d{4,}$/);
      const passing = await walk({ row_conditions: [{ ...growth, max: 1e12 }] }, { memory: earlier });
      expect(passing).toMatchObject({ success: true });
      expect(passing.detail).not.toHaveProperty('delta_baseline');
    });

    it('reads a Counter32 below its last value as a wrap-around', async () => {
      const first = await walk({ row_conditions: [growth] });
      const later = lowered(first.memory as SnmpTableMemory, -10);
      const result = await walk({ row_conditions: [{ ...growth, max: 2 ** 32 }] }, { memory: later });
      expect(result.success).toBe(true);
      const tight = await walk({ row_conditions: [{ ...growth, max: 2 ** 31 }] }, { memory: later });
      expect(tight.errorMessage).toMatch(/observed \+429496\d{4}$/);
    });

    it('round-trips memory through runCheck under the probe position and type', async () => {
      const probe = { type: 'snmp-table', credential_id: CREDENTIAL_ID, port: snmpd.port, columns: IF_TABLE, row_conditions: [growth] };
      const resolveCredential = async () => ({ kind: 'snmp-community', community: snmpd.community }) as const;
      const first = await runCheck({ address: '127.0.0.1', probes: [probe] }, { timeoutMs: 5000, resolveCredential });
      expect(Object.keys(first.memory ?? {})).toEqual(['0:snmp-table']);
      const earlier = { '0:snmp-table': lowered(first.memory!['0:snmp-table'] as SnmpTableMemory, 5000) };
      const second = await runCheck({ address: '127.0.0.1', probes: [probe], probeMemory: earlier }, { timeoutMs: 5000, resolveCredential });
      expect(second).toMatchObject({ success: false, errorType: 'condition_failed' });
      expect(JSON.stringify(second.detail)).not.toContain(snmpd.community);
    });
  });

  it('rejects a condition on a column it does not walk, naming the field', () => {
    const parsed = snmpTableProbeSchema.safeParse({ type: 'snmp-table', credential_id: CREDENTIAL_ID, columns: IF_TABLE, row_conditions: [{ kind: 'every_row', column: 'alias', equals: 'x' }] });
    expect(parsed.error?.issues[0]).toMatchObject({ path: ['row_conditions', 0, 'column'], message: 'no column named alias in columns' });
  });
});

/** The memory as if every counter had been `by` lower at the previous check. */
function lowered(memory: SnmpTableMemory, by: number): SnmpTableMemory {
  return Object.fromEntries(Object.entries(memory).map(([oid, rows]) => [oid, Object.fromEntries(Object.entries(rows).map(([i, v]) => [i, (BigInt(v) - BigInt(by)).toString()]))]));
}
