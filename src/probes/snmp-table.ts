/**
 * SNMP table probe: walks a few columns of a table (IF-MIB's ifTable, say) with GETBULK and
 * checks conditions over its rows — "every interface whose ifAlias matches X has ifOperStatus
 * up(1)", "no row's ifInErrors grew by more than N since the last check". For the second, the
 * last values are kept on the host (hosts.probe_memory) and handed back at the next check.
 */
import { Version } from 'net-snmp';
import type { Session } from 'net-snmp';
import { z } from 'zod';
import { classifySocketError, describeError, failed, succeeded } from './errors.ts';
import { compilePattern, patternSchema } from './pattern.ts';
import { probeTimeoutSchema } from './probe-timeout.ts';
import { closeQuietly, oidSchema, openSession, resolveAuth, resolveTarget, scrub, secretsOf } from './snmp.ts';
import { classifyGetError, v1Silence, v3Silence } from './snmp-errors.ts';
import type { SnmpValue } from './snmp-values.ts';
import { TableWalkError, walkTable } from './snmp-walk.ts';
import type { TableWalk } from './snmp-walk.ts';
import type { ProbeContextWithCredential, ProbeResult } from './types.ts';

const COLUMN_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
/** Rows shown in a result's detail; the rest are counted. */
const DETAIL_ROWS = 20;
/** Failing rows named in a message. */
const MESSAGE_ROWS = 5;

const columnRef = z.string().regex(COLUMN_NAME, 'must name a column of `columns`');

const rowFilterSchema = z
  .object({
    column: columnRef.describe('Column whose value (as text) is matched.'),
    matches: patternSchema('text').describe('RE2 pattern, e.g. "^uplink" for ifAlias.'),
  })
  .strict()
  .describe('Only rows whose column matches are checked.');

const everyRowCondition = z
  .object({
    kind: z.literal('every_row').describe('Every (matching) row has a value: e.g. ifOperStatus equals 1 (up).'),
    where: rowFilterSchema.optional(),
    column: columnRef.describe('Column checked.'),
    equals: z.union([z.string().max(1024), z.number()]).optional().describe('Value the column must have (compared as text).'),
    matches: patternSchema('text').optional().describe('RE2 pattern the column (as text) must match.'),
  })
  .strict()
  .refine((c) => (c.equals === undefined) !== (c.matches === undefined), { message: 'give exactly one of equals or matches', path: ['equals'] });

const maxIncreaseCondition = z
  .object({
    kind: z.literal('max_increase').describe("No (matching) row's counter grew by more than max since the previous check (values kept on the host)."),
    where: rowFilterSchema.optional(),
    column: columnRef.describe('Counter column, e.g. ifInErrors.'),
    max: z.number().min(0).describe('Largest increase allowed between two checks; Counter32/Counter64 wrap-around is accounted for.'),
  })
  .strict();

const rowConditionSchema = z.discriminatedUnion('kind', [everyRowCondition, maxIncreaseCondition]);
type RowCondition = z.infer<typeof rowConditionSchema>;

export const snmpTableProbeSchema = z
  .object({
    type: z.literal('snmp-table').describe('Probe type: walk SNMP table columns (GETBULK) and check conditions over the rows'),
    version: z.enum(['1', '2c', '3']).default('2c').describe('SNMP version: 1 walks with GETNEXT, 2c and 3 with GETBULK'),
    port: z.int().min(1).max(65535).default(161).describe('UDP port of the agent'),
    credential_id: z.uuid().describe("Credential: kind 'snmp-community' for versions 1 and 2c, 'snmp-v3' for version 3"),
    columns: z
      .record(z.string().regex(COLUMN_NAME, 'a column name is a letter then letters, digits or _ (at most 32)'), oidSchema)
      .refine((c) => Object.keys(c).length >= 1 && Object.keys(c).length <= 16, 'give 1 to 16 columns')
      .describe('Columns to walk, name -> column OID, e.g. {"descr": "1.3.6.1.2.1.2.2.1.2", "oper": "1.3.6.1.2.1.2.2.1.8"}'),
    max_rows: z.int().min(1).max(10_000).default(1000).describe('Most rows read; a longer table fails the check (it bounds an agent whose table never ends)'),
    max_repetitions: z.int().min(1).max(100).default(20).describe('GETBULK max-repetitions: rows asked for per request'),
    min_rows: z.int().min(0).max(10_000).default(1).describe('Fewest rows the table must have'),
    row_conditions: z.array(rowConditionSchema).max(16).default([]).describe('Conditions over the rows, checked in order; the first failing one fails the check'),
    retries: z.int().min(0).max(5).default(0).describe('Resends after an unanswered request; the timeout is shared out between attempts'),
    timeout_ms: probeTimeoutSchema,
  })
  .strict()
  .superRefine((config, ctx) => {
    const names = new Set(Object.keys(config.columns));
    config.row_conditions.forEach((condition, i) => {
      for (const [field, name] of [['column', condition.column], ['where', condition.where?.column]] as const) {
        if (name !== undefined && !names.has(name)) ctx.addIssue({ code: 'custom', path: ['row_conditions', i, field], message: `no column named ${name} in columns` });
      }
    });
  })
  .describe('SNMP table probe: fails when the agent does not answer, the table is too short or too long, or a row condition fails');

export type SnmpTableProbeConfig = z.infer<typeof snmpTableProbeSchema>;

/** What the probe keeps between checks: column OID -> row index -> last counter value (decimal). */
export type SnmpTableMemory = Record<string, Record<string, string>>;

interface Table {
  names: string[];
  oids: string[];
  walk: TableWalk;
}

export async function runSnmpTableProbe(config: SnmpTableProbeConfig, ctx: ProbeContextWithCredential): Promise<ProbeResult> {
  const startNs = process.hrtime.bigint();
  const detail: Record<string, unknown> = { version: config.version };
  const auth = resolveAuth(config.version, ctx.credential);
  if (typeof auth === 'string') return failed(startNs, 'config_error', auth, detail);
  const secrets = secretsOf(ctx.credential).filter((secret) => !ctx.address.includes(secret));
  let session: Session | undefined;
  let answers = 0;
  const silence = () => (config.version === '3' ? v3Silence(ctx.timeoutMs, session?.msgSecurityParameters !== undefined) : v1Silence(ctx.timeoutMs, answers));
  try {
    const { ip, transport } = await resolveTarget(ctx.address);
    const timeout = Math.max(1, Math.floor(ctx.timeoutMs / (config.retries + 1)));
    session = openSession(ip, { port: config.port, retries: config.retries, timeout, transport, version: Version[config.version] }, auth);
    session.dgram.on('message', () => answers++);
    const table = await walkUntilAborted(session, config, ctx.signal);
    return scrub(judge(config, table, ctx.memory as SnmpTableMemory | undefined, startNs, detail), secrets);
  } catch (err) {
    const [type, message, extra] = classifyWalkError(err, ctx, silence);
    return scrub(failed(startNs, type, message, { ...detail, ...extra }), secrets);
  } finally {
    closeQuietly(session);
  }
}

/** The walk, or a rejection when the probe's signal fires first (closing the session ends its requests). */
async function walkUntilAborted(session: Session, config: SnmpTableProbeConfig, signal: AbortSignal): Promise<Table> {
  const names = Object.keys(config.columns);
  const oids = names.map((name) => config.columns[name]!);
  // net-snmp emits 'error' for an unparseable datagram; unheard, that would throw.
  const garbage = new Promise<never>((_, reject) => session.on('error', (err: unknown) => reject(new TableWalkError(`unparseable SNMP message: ${describeError(err)}`))));
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(new AbortedWalk());
    signal.addEventListener('abort', () => reject(new AbortedWalk()), { once: true });
  });
  garbage.catch(() => {});
  aborted.catch(() => {});
  const walk = await Promise.race([walkTable(session, { columns: oids, maxRows: config.max_rows, maxRepetitions: config.max_repetitions, version: config.version }), garbage, aborted]);
  return { names, oids, walk };
}

class AbortedWalk extends Error {}

function classifyWalkError(err: unknown, ctx: ProbeContextWithCredential, silence: () => ReturnType<typeof v1Silence>): ReturnType<typeof v1Silence> {
  if (err instanceof AbortedWalk || ctx.signal.aborted) return silence();
  if (err instanceof TableWalkError) return ['protocol_error', err.message, {}];
  if (err instanceof Error && 'code' in err && typeof err.code === 'string' && !('status' in err)) {
    return [classifySocketError(err), `cannot reach ${ctx.address}: ${describeError(err)}`, {}];
  }
  if (err instanceof Error) return classifyGetError(err, silence);
  return ['internal_error', `SNMP table walk failed: ${describeError(err)}`, {}];
}

function judge(config: SnmpTableProbeConfig, table: Table, memory: SnmpTableMemory | undefined, startNs: bigint, base: Record<string, unknown>): ProbeResult {
  const { walk } = table;
  const nextMemory = rememberCounters(config, table);
  const detail = { ...base, row_count: walk.rows.size, requests: walk.requests, rows: sampleRows(table) };
  const withMemory = (result: ProbeResult): ProbeResult => (nextMemory ? { ...result, memory: nextMemory } : result);
  if (walk.truncated) {
    return withMemory(failed(startNs, 'protocol_error', `the table did not end within max_rows (${config.max_rows}) rows; raise max_rows if it is really that long`, detail));
  }
  if (walk.rows.size < config.min_rows) {
    return withMemory(failed(startNs, 'condition_failed', `condition min_rows ${config.min_rows} failed: observed ${walk.rows.size} rows`, detail));
  }
  for (const condition of config.row_conditions) {
    const problem = checkCondition(condition, table, memory);
    if (problem) return withMemory(failed(startNs, 'condition_failed', problem, detail));
  }
  return withMemory(succeeded(startNs, { ...detail, ...(memory === undefined && nextMemory ? { delta_baseline: true } : {}) }));
}

function text(value: SnmpValue | undefined): string {
  return value === undefined || value.value === null ? '' : String(value.value);
}

function matchingRows(condition: RowCondition, table: Table): [string, (SnmpValue | undefined)[]][] {
  const rows = [...table.walk.rows];
  if (!condition.where) return rows;
  const column = table.names.indexOf(condition.where.column);
  const pattern = compilePattern(condition.where.matches);
  return rows.filter(([, row]) => pattern.test(text(row[column])));
}

function describeRowCondition(condition: RowCondition): string {
  const where = condition.where ? ` where ${condition.where.column} matches /${condition.where.matches}/` : '';
  if (condition.kind === 'max_increase') return `${condition.column} increase <= ${condition.max}${where}`;
  const expectation = condition.equals !== undefined ? `equals ${JSON.stringify(condition.equals)}` : `matches /${condition.matches}/`;
  return `every row${where} has ${condition.column} ${expectation}`;
}

/** Why the condition fails (naming up to MESSAGE_ROWS rows and their observed values), or null. */
function checkCondition(condition: RowCondition, table: Table, memory: SnmpTableMemory | undefined): string | null {
  const column = table.names.indexOf(condition.column);
  const label = (index: string, row: (SnmpValue | undefined)[]) => (condition.where ? `row ${index} (${condition.where.column} ${JSON.stringify(text(row[table.names.indexOf(condition.where.column)]))})` : `row ${index}`);
  const failures: string[] = [];
  for (const [index, row] of matchingRows(condition, table)) {
    const observed = condition.kind === 'every_row' ? everyRowFailure(condition, row[column]) : increaseFailure(condition, row[column], memory?.[table.oids[column]!]?.[index]);
    if (observed !== null) failures.push(`${label(index, row)} observed ${observed}`);
  }
  if (failures.length === 0) return null;
  const more = failures.length > MESSAGE_ROWS ? ` and ${failures.length - MESSAGE_ROWS} more rows` : '';
  return `condition ${describeRowCondition(condition)} failed: ${failures.slice(0, MESSAGE_ROWS).join('; ')}${more}`;
}

function everyRowFailure(condition: Extract<RowCondition, { kind: 'every_row' }>, value: SnmpValue | undefined): string | null {
  if (value === undefined) return 'no value';
  const seen = text(value);
  const ok = condition.equals !== undefined ? seen === String(condition.equals) : compilePattern(condition.matches!).test(seen);
  return ok ? null : JSON.stringify(value.value);
}

const WRAP: Record<string, bigint> = { Counter: 2n ** 32n, Counter64: 2n ** 64n };

function increaseFailure(condition: Extract<RowCondition, { kind: 'max_increase' }>, value: SnmpValue | undefined, previous: string | undefined): string | null {
  const current = toBigInt(value);
  if (current === null || previous === undefined) return null; // a new row, or not a number: nothing to compare yet
  let delta = current - BigInt(previous);
  // A counter below its last value wrapped around (or the device restarted: then the delta is an over-estimate of nothing, so skip).
  if (delta < 0n) delta = value && WRAP[value.type] !== undefined ? delta + WRAP[value.type]! : 0n;
  return delta > BigInt(Math.floor(condition.max)) ? `+${delta}` : null;
}

function toBigInt(value: SnmpValue | undefined): bigint | null {
  if (!value || value.value === null || typeof value.value === 'boolean') return null;
  try {
    return BigInt(value.value);
  } catch {
    return null;
  }
}

/** The counters the max_increase conditions read, to compare against at the next check. */
function rememberCounters(config: SnmpTableProbeConfig, table: Table): SnmpTableMemory | undefined {
  const columns = new Set(config.row_conditions.filter((c) => c.kind === 'max_increase').map((c) => c.column));
  if (columns.size === 0) return undefined;
  const memory: SnmpTableMemory = {};
  for (const name of columns) {
    const column = table.names.indexOf(name);
    const values: Record<string, string> = {};
    for (const [index, row] of table.walk.rows) {
      const value = toBigInt(row[column]);
      if (value !== null) values[index] = value.toString();
    }
    memory[table.oids[column]!] = values;
  }
  return memory;
}

function sampleRows(table: Table): Record<string, Record<string, string | number | boolean | null>> {
  const sample: Record<string, Record<string, string | number | boolean | null>> = {};
  for (const [index, row] of [...table.walk.rows].slice(0, DETAIL_ROWS)) {
    sample[index] = Object.fromEntries(table.names.map((name, i) => [name, row[i]?.value ?? null]));
  }
  return sample;
}

