/**
 * A throwaway in-process SNMP agent (net-snmp's own Agent) on 127.0.0.1 at an ephemeral UDP port,
 * serving sysUpTime.0, sysName.0 and one configurable extra scalar to the communities and v3 users
 * given. Only v1/v2c/v3 GETs are meant to be exercised against it.
 */
import { createSocket } from 'node:dgram';
import {
  AuthProtocols,
  ErrorStatus,
  MaxAccess,
  MibProviderType,
  ObjectType,
  PrivProtocols,
  SecurityLevel,
  createAgent,
} from 'net-snmp';
import type { Mib, MibRequest, User } from 'net-snmp';
import type { ResolvedCredential } from '../../src/probes/types.ts';

export const SYS_UPTIME_OID = '1.3.6.1.2.1.1.3.0';
export const SYS_NAME_OID = '1.3.6.1.2.1.1.5.0';

/** A v3 user, in the probe's own credential shape. */
export type SnmpTestUser = Omit<Extract<ResolvedCredential, { kind: 'snmp-v3' }>, 'kind'>;

export interface ExtraScalar {
  /** Provider OID without the `.0` instance; the agent serves `${oid}.0`. */
  oid: string;
  type: 'Integer' | 'OctetString' | 'Counter64' | 'Gauge' | 'IpAddress';
  /** OctetString takes a string or Buffer; Counter64 a bigint, number or decimal string. */
  value: unknown;
  /** When set, every GET of this scalar answers with this error-status instead of a value. */
  errorStatus?: 'GeneralError' | 'NoAccess';
}

/** A table: its entry OID, columns (number, name, type; the first is the integer index) and rows. */
export interface TestTable {
  name: string;
  /** Entry OID, e.g. 1.3.6.1.4.1.99999.1.1: column n is `${oid}.${n}`. */
  oid: string;
  columns: { number: number; name: string; type: 'Integer' | 'OctetString' | 'Counter' | 'Counter64' | 'Gauge' }[];
  /** Each row: the value of every column in order (the first is the index). */
  rows: unknown[][];
}

export interface SnmpAgentOptions {
  communities?: string[];
  users?: SnmpTestUser[];
  /** Value of sysName.0; default 'vigil-agent'. */
  sysName?: string;
  /** Extra scalars beyond the system group (each registered as provider `extra<i>`). */
  extras?: ExtraScalar[];
  /** Tables served (net-snmp table providers), with rows the test controls. */
  tables?: TestTable[];
}

export interface TestSnmpAgent {
  address: '127.0.0.1';
  port: number;
  /** Messages of the errors the agent met (bad community, digest mismatch...), oldest first. */
  errors: string[];
  /** Closes the agent's socket(s); resolves once they are closed. */
  close(): Promise<void>;
}

function toAgentUser(user: SnmpTestUser): User {
  return {
    name: user.username,
    level: SecurityLevel[user.level],
    ...(user.authProtocol ? { authProtocol: AuthProtocols[user.authProtocol], authKey: user.authKey } : {}),
    ...(user.privProtocol ? { privProtocol: PrivProtocols[user.privProtocol], privKey: user.privKey } : {}),
  };
}

/**
 * A UDP port that was free a moment ago: bind port 0, read the port, close. Racy by nature (another
 * process may take it before we bind again), so callers that can retry on EADDRINUSE do.
 */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', resolve);
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export async function startSnmpAgent(options: SnmpAgentOptions = {}): Promise<TestSnmpAgent> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await listenOnce(await freeUdpPort(), options);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}

async function listenOnce(port: number, options: SnmpAgentOptions): Promise<TestSnmpAgent> {
  const errors: string[] = [];
  // net-snmp's Listener turns port 0 into 161 (`port || 161`), so we must name a free port.
  const agent = createAgent({ address: '127.0.0.1', port }, (error) => {
    if (error) errors.push(error.message);
  });
  const socket = Object.values(agent.listener.sockets)[0];
  if (!socket) throw new Error('net-snmp agent opened no socket');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('listening', resolve);
      socket.once('error', reject);
    });
  } catch (err) {
    try {
      agent.close();
    } catch {
      // the failed socket may already be closed
    }
    throw err;
  }
  const authorizer = agent.getAuthorizer();
  for (const community of options.communities ?? []) authorizer.addCommunity(community);
  for (const user of options.users ?? []) authorizer.addUser(toAgentUser(user));
  registerSystemGroup(agent.getMib(), options.sysName ?? 'vigil-agent');
  (options.extras ?? []).forEach((extra, i) => registerExtra(agent.getMib(), `extra${i}`, extra));
  for (const table of options.tables ?? []) registerTable(agent.getMib(), table);
  return {
    address: '127.0.0.1',
    port,
    errors,
    close: () => new Promise<void>((resolve) => agent.close(() => resolve())),
  };
}

function registerSystemGroup(mib: Mib, sysName: string): void {
  const startedAt = Date.now();
  mib.registerProvider({
    name: 'sysUpTime',
    type: MibProviderType.Scalar,
    oid: '1.3.6.1.2.1.1.3',
    scalarType: ObjectType.TimeTicks,
    maxAccess: MaxAccess['read-only'],
    handler: (request: MibRequest) => {
      request.instanceNode.value = Math.floor((Date.now() - startedAt) / 10);
      request.done();
    },
  });
  mib.registerProvider({
    name: 'sysName',
    type: MibProviderType.Scalar,
    oid: '1.3.6.1.2.1.1.5',
    scalarType: ObjectType.OctetString,
    maxAccess: MaxAccess['read-only'],
  });
  mib.setScalarValue('sysUpTime', 0);
  mib.setScalarValue('sysName', sysName);
}

function registerExtra(mib: Mib, name: string, extra: ExtraScalar): void {
  const errorStatus = extra.errorStatus;
  mib.registerProvider({
    name,
    type: MibProviderType.Scalar,
    oid: extra.oid,
    scalarType: ObjectType[extra.type],
    maxAccess: MaxAccess['read-only'],
    handler: (request: MibRequest) => {
      if (errorStatus) request.done({ errorStatus: ErrorStatus[errorStatus] });
      else request.done();
    },
  });
  // The agent encodes Counter64 from an 8-byte big-endian buffer only.
  const value = extra.type === 'Counter64' ? counter64Buffer(extra.value) : extra.value;
  mib.setScalarValue(name, value);
}

function counter64Buffer(value: unknown): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(value as bigint | number | string));
  return buffer;
}

function registerTable(mib: Mib, table: TestTable): void {
  mib.registerProvider({
    name: table.name,
    type: MibProviderType.Table,
    oid: table.oid,
    maxAccess: MaxAccess['not-accessible'],
    tableColumns: table.columns.map((c) => ({ number: c.number, name: c.name, type: ObjectType[c.type], maxAccess: MaxAccess['read-only'] })),
    tableIndex: [{ columnName: table.columns[0]!.name }],
  });
  for (const row of table.rows) mib.addTableRow(table.name, row);
}
