/**
 * The snmp-table probe against Debian's snmpd (IF-MIB for the machine's interfaces, loopback
 * among them), started per file on a free loopback port with its own config (test/helpers/snmpd.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/probes/run-check.ts';
import { runSnmpTableProbe, snmpTableProbeSchema } from '../../src/probes/snmp-table.ts';
import type { SnmpTableMemory } from '../../src/probes/snmp-table.ts';
import type { ProbeResult, ResolvedCredential } from '../../src/probes/types.ts';
import { startSnmpAgent } from '../helpers/snmp-agent.ts';
import type { TestSnmpAgent } from '../helpers/snmp-agent.ts';
import { startSnmpd } from '../helpers/snmpd.ts';
import type { TestSnmpd } from '../helpers/snmpd.ts';
import { withProbeContext } from '../helpers/targets.ts';

const CREDENTIAL_ID = '0d5e2c1a-7b3f-4e8a-9c6d-1f2e3a4b5c6d';
const IF_TABLE = { descr: '1.3.6.1.2.1.2.2.1.2', oper: '1.3.6.1.2.1.2.2.1.8', in_octets: '1.3.6.1.2.1.2.2.1.10' };

let snmpd: TestSnmpd;
let agent: TestSnmpAgent;

/** An interface table whose rows the test controls (net-snmp's agent): two uplinks, one down, and access ports. */
const PORTS = '1.3.6.1.4.1.99999.2.1';
const PORT_ROWS = [
  [1, 'uplink-a', 1, 0],
  [2, 'uplink-b', 2, 17],
  [3, 'access-1', 2, 0],
  ...Array.from({ length: 47 }, (_, i) => [10 + i, `access-${i + 2}`, 1, i]),
];

beforeAll(async () => {
  snmpd = await startSnmpd();
  agent = await startSnmpAgent({
    communities: ['table-community'],
    tables: [{
      name: 'ports',
      oid: PORTS,
      columns: [{ number: 1, name: 'index', type: 'Integer' }, { number: 2, name: 'alias', type: 'OctetString' }, { number: 3, name: 'oper', type: 'Integer' }, { number: 4, name: 'errors', type: 'Counter' }],
      rows: PORT_ROWS,
    }],
  });
});

afterAll(async () => {
  await Promise.all([snmpd?.stop(), agent?.close()]);
});

function walk(input: Record<string, unknown>, options: { memory?: unknown; version?: string; timeoutMs?: number } = {}): Promise<ProbeResult> {
  const config = snmpTableProbeSchema.parse({ type: 'snmp-table', credential_id: CREDENTIAL_ID, port: snmpd.port, columns: IF_TABLE, ...(options.version ? { version: options.version } : {}), ...input });
  const credential: ResolvedCredential = options.version === '3' ? { kind: 'snmp-v3', ...snmpd.user } : { kind: 'snmp-community', community: snmpd.community };
  return withProbeContext(options.timeoutMs ?? 5000, (ctx) => runSnmpTableProbe(config, { ...ctx, credential, memory: options.memory }));
}

const LOOPBACK_UP = { kind: 'every_row', where: { column: 'descr', matches: '^lo$' }, column: 'oper', equals: 1 };

describe("snmp-table probe against net-snmp's agent, rows the test controls", () => {
  const columns = { alias: `${PORTS}.2`, oper: `${PORTS}.3`, errors: `${PORTS}.4` };
  const walkPorts = (input: Record<string, unknown>, memory?: unknown) => {
    const config = snmpTableProbeSchema.parse({ type: 'snmp-table', credential_id: CREDENTIAL_ID, port: agent.port, columns, ...input });
    return withProbeContext(5000, (ctx) => runSnmpTableProbe(config, { ...ctx, credential: { kind: 'snmp-community', community: 'table-community' }, memory }));
  };

  it('reads every row over several GETBULK requests', async () => {
    const result = await walkPorts({ max_repetitions: 10 });
    expect(result).toMatchObject({ success: true, detail: { row_count: PORT_ROWS.length } });
    expect((result.detail.rows as Record<string, unknown>)['2']).toEqual({ alias: 'uplink-b', oper: 2, errors: 17 });
  });

  it('fails "every uplink is up" naming only the uplink that is down', async () => {
    const result = await walkPorts({ row_conditions: [{ kind: 'every_row', where: { column: 'alias', matches: '^uplink' }, column: 'oper', equals: 1 }] });
    expect(result).toMatchObject({
      success: false,
      errorType: 'condition_failed',
      errorMessage: 'condition every row where alias matches /^uplink/ has oper equals 1 failed: row 2 (alias "uplink-b") observed 2',
    });
  });

  it('counts the failing rows beyond the five it names', async () => {
    const result = await walkPorts({ row_conditions: [{ kind: 'every_row', column: 'oper', matches: '^2$' }] });
    expect(result.errorMessage).toMatch(/^condition every row has oper matches \/\^2\$\/ failed: row 1 observed 1; .* and \d+ more rows$/);
  });

  it('judges counter growth per row against the remembered values', async () => {
    const first = await walkPorts({ row_conditions: [{ kind: 'max_increase', column: 'errors', max: 5 }] });
    const memory = first.memory as SnmpTableMemory;
    expect(memory[columns.errors]).toMatchObject({ '1': '0', '2': '17' });
    const earlier = { [columns.errors]: { ...memory[columns.errors], '2': '3' } };
    const result = await walkPorts({ row_conditions: [{ kind: 'max_increase', column: 'errors', max: 5 }] }, earlier);
    expect(result).toMatchObject({ success: false, errorMessage: 'condition errors increase <= 5 failed: row 2 observed +14' });
  });

  it('stops at max_rows', async () => {
    const result = await walkPorts({ max_rows: 20 });
    expect(result).toMatchObject({ success: false, errorType: 'protocol_error', detail: { row_count: 20 } });
  });
});

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
