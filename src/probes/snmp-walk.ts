/**
 * Walking SNMP table columns (GETBULK on v2c/v3, GETNEXT on v1) into rows keyed by instance
 * index. Reusable by anything that reads tables (the snmp-table probe; value collection later):
 * it takes an open net-snmp session and returns rows, never throws for what the agent does
 * beyond rejecting with the agent's error, and is bounded — a table that never ends, or an agent
 * that answers OIDs going backwards (a loop), stops at maxRows or with a protocol error.
 */
import { isVarbindError } from 'net-snmp';
import type { Session, Varbind } from 'net-snmp';
import { toSnmpValue } from './snmp-values.ts';
import type { SnmpValue } from './snmp-values.ts';

export interface TableWalkOptions {
  /** Column OIDs (e.g. ifDescr 1.3.6.1.2.1.2.2.1.2), walked side by side. */
  columns: readonly string[];
  /** Most rows read; the walk stops (truncated) past this many. */
  maxRows: number;
  /** GETBULK max-repetitions: rows asked for per request. */
  maxRepetitions: number;
  /** '1' walks with GETNEXT, which has no bulk form. */
  version: '1' | '2c' | '3';
}

export interface TableWalk {
  /** Row index (the OID suffix after the column, e.g. "1" or "10.1.2") -> value per column, in column order. */
  rows: Map<string, (SnmpValue | undefined)[]>;
  /** True when the table had more than maxRows rows. */
  truncated: boolean;
  /** SNMP requests sent. */
  requests: number;
}

/** An agent that broke the walk's rules (OIDs not increasing); its message names the OIDs. */
export class TableWalkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TableWalkError';
  }
}

/** Walks `options.columns` on `session`. Rejects with the session's error or a TableWalkError. */
export async function walkTable(session: Session, options: TableWalkOptions): Promise<TableWalk> {
  const rows = new Map<string, (SnmpValue | undefined)[]>();
  const cursors = [...options.columns];
  const active = options.columns.map(() => true);
  let requests = 0;
  while (active.some(Boolean)) {
    const asked = options.columns.map((_, i) => i).filter((i) => active[i]);
    const answers = await request(session, asked.map((i) => cursors[i]!), options);
    requests++;
    asked.forEach((column, k) => {
      for (const varbind of answers[k] ?? []) {
        if (!active[column]) break;
        active[column] = accept(varbind, column, options, cursors, rows);
      }
    });
    if (rows.size > options.maxRows) return { rows: firstRows(rows, options.maxRows), truncated: true, requests };
  }
  return { rows, truncated: false, requests };
}

/** Records one varbind; false when the column has ended (end of MIB, or the next object's OID). */
function accept(varbind: Varbind, column: number, options: TableWalkOptions, cursors: string[], rows: Map<string, (SnmpValue | undefined)[]>): boolean {
  const prefix = `${options.columns[column]}.`;
  if (isVarbindError(varbind) || !varbind.oid.startsWith(prefix)) return false;
  if (compareOids(varbind.oid, cursors[column]!) <= 0) {
    throw new TableWalkError(`agent answered ${varbind.oid} after ${cursors[column]}: OIDs must increase (the agent loops)`);
  }
  cursors[column] = varbind.oid;
  const index = varbind.oid.slice(prefix.length);
  const row = rows.get(index) ?? options.columns.map(() => undefined);
  row[column] = toSnmpValue(varbind);
  rows.set(index, row);
  return true;
}

function request(session: Session, oids: string[], options: TableWalkOptions): Promise<Varbind[][]> {
  return new Promise((resolve, reject) => {
    if (options.version === '1') {
      session.getNext(oids, (error, varbinds) => (error ? reject(error) : resolve((varbinds ?? []).map((v) => [v]))));
    } else {
      session.getBulk(oids, 0, options.maxRepetitions, (error, varbinds) => (error ? reject(error) : resolve(varbinds ?? [])));
    }
  });
}

function firstRows(rows: Map<string, (SnmpValue | undefined)[]>, count: number): Map<string, (SnmpValue | undefined)[]> {
  return new Map([...rows].slice(0, count));
}

/** Numeric OID order, arc by arc (string order would put 1.10 before 1.9). */
export function compareOids(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}
