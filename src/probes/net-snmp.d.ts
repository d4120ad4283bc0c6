/**
 * Minimal hand-written types for net-snmp 3.x (it ships none): only what the SNMP probe and its
 * test helpers use. Names mirror node_modules/net-snmp/index.js and its README.
 */
declare module 'net-snmp' {
  import type { EventEmitter } from 'node:events';
  import type { Socket } from 'node:dgram';

  /** Name <-> number tables: `Table.Name` is a number, `Table[number]` the name. */
  type ConstantTable<Name extends string> = { readonly [K in Name]: number } & {
    readonly [code: number]: string | undefined;
  };

  export const Version: { readonly '1': number; readonly '2c': number; readonly '3': number };
  export const ObjectType: ConstantTable<
    'Integer' | 'OctetString' | 'OID' | 'IpAddress' | 'Counter' | 'Gauge' | 'TimeTicks' | 'Counter64'
  >;
  export const ErrorStatus: ConstantTable<'NoError' | 'NoSuchName' | 'GeneralError' | 'NoAccess'>;
  export const ResponseInvalidCode: ConstantTable<
    'EAuthFailure' | 'ECouldNotDecrypt' | 'ENotInTimeWindow' | 'EUnexpectedReport'
  >;
  export const SecurityLevel: ConstantTable<'noAuthNoPriv' | 'authNoPriv' | 'authPriv'>;
  export const AuthProtocols: ConstantTable<
    'none' | 'md5' | 'sha' | 'sha224' | 'sha256' | 'sha384' | 'sha512'
  >;
  export const PrivProtocols: ConstantTable<'none' | 'des' | 'aes' | 'aes256b' | 'aes256r'>;
  export const MibProviderType: ConstantTable<'Scalar' | 'Table'>;
  export const MaxAccess: ConstantTable<'not-accessible' | 'read-only' | 'read-write'>;

  export interface Varbind {
    oid: string;
    /** An ObjectType code; 128..130 are the v2c exceptions noSuchObject/noSuchInstance/endOfMibView. */
    type: number;
    /** number, string, Buffer (OctetString, Opaque, Counter64), boolean or null, by type. */
    value: unknown;
  }

  /** True for noSuchObject, noSuchInstance and endOfMibView varbinds. */
  export function isVarbindError(varbind: Varbind): boolean;

  /** The agent answered with a non-zero error-status; `status` is its ErrorStatus code. */
  export class RequestFailedError extends Error {
    status?: number;
  }
  /** No answer after the last retry. */
  export class RequestTimedOutError extends Error {}
  /** A response (or v3 Report PDU) the session refused; `code` is a ResponseInvalidCode. */
  export class ResponseInvalidError extends Error {
    code: number;
  }

  export interface SessionOptions {
    port?: number;
    retries?: number;
    /** Per attempt, in milliseconds. */
    timeout?: number;
    transport?: 'udp4' | 'udp6';
    version?: number;
  }

  export interface User {
    name: string;
    level: number;
    authProtocol?: number;
    authKey?: string;
    privProtocol?: number;
    privKey?: string;
  }

  /** Emits 'error' when a datagram cannot be parsed (throws if nobody listens) and 'close'. */
  export interface Session extends EventEmitter {
    get(oids: string[], callback: (error: Error | null, varbinds?: Varbind[]) => void): Session;
    /** v1 GETNEXT: one varbind per requested OID. */
    getNext(oids: string[], callback: (error: Error | null, varbinds?: Varbind[]) => void): Session;
    /** v2c/v3 GETBULK: with nonRepeaters 0, one array of up to maxRepetitions varbinds per requested OID. */
    getBulk(oids: string[], nonRepeaters: number, maxRepetitions: number, callback: (error: Error | null, varbinds?: Varbind[][]) => void): Session;
    /** Closes the UDP socket; pending requests are called back with "Socket forcibly closed". */
    close(): Session;
    /**
     * Internal (not in the README): set once a v3 session has learned the agent's engine ID from
     * its discovery Report, i.e. once the agent has answered at least one v3 message.
     */
    msgSecurityParameters?: unknown;
    /** Internal (not in the README): the session's UDP socket; every datagram the agent sends arrives on it. */
    dgram: Socket;
  }

  export function createSession(target: string, community: string, options?: SessionOptions): Session;
  export function createV3Session(target: string, user: User, options?: SessionOptions): Session;

  export interface MibRequest {
    instanceNode: { value: unknown };
    done(error?: { errorStatus: number }): void;
  }

  export interface ScalarProvider {
    name: string;
    type: number;
    /** The object's OID without the trailing `.0` instance. */
    oid: string;
    scalarType: number;
    maxAccess: number;
    handler?: (request: MibRequest) => void;
  }

  /** A conceptual table (test helpers): columns under `${oid}.${number}`, rows indexed by tableIndex. */
  export interface TableProvider {
    name: string;
    type: number;
    /** The entry OID (e.g. ifEntry 1.3.6.1.2.1.2.2.1). */
    oid: string;
    maxAccess: number;
    tableColumns: { number: number; name: string; type: number; maxAccess: number }[];
    tableIndex: { columnName: string }[];
  }

  export interface Mib {
    registerProvider(provider: ScalarProvider | TableProvider): void;
    setScalarValue(providerName: string, value: unknown): void;
    /** Adds a row: the index column values first (as tableIndex lists them), then every column in order. */
    addTableRow(providerName: string, row: unknown[]): void;
  }

  export interface Authorizer {
    addCommunity(community: string): void;
    addUser(user: User): void;
  }

  export interface AgentOptions {
    port?: number;
    address?: string | null;
    transport?: 'udp4' | 'udp6';
  }

  export interface Agent {
    getMib(): Mib;
    getAuthorizer(): Authorizer;
    /** `callback` runs once per listening socket, after it is closed. */
    close(callback?: () => void): void;
    /** Internal (not in the README): the bound sockets, read to learn the port chosen for port 0. */
    listener: { sockets: Record<string, Socket> };
  }

  /** `callback` receives every error the agent meets (bad community, digest mismatch, ...). */
  export function createAgent(
    options: AgentOptions,
    callback: (error: Error | null, data?: unknown) => void,
  ): Agent;
}
