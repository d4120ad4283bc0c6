import type { Pinger } from './fping.ts';

/**
 * The probe contract. A probe checks one thing about one host and reports a {@link ProbeResult}.
 * A target that is down, slow or misbehaving is data, not an exception: probes never throw for
 * anything the target does; they throw only for programming errors.
 */

/** Why a check failed, as a closed set a user can act on (and filter history by). */
export const ERROR_TYPES = [
  'connection_refused',
  'timeout',
  'dns_failure',
  'host_unreachable',
  'network_error',
  'tls_error',
  'unexpected_status',
  'body_mismatch',
  'condition_failed',
  'threshold',
  'http_error',
  'auth_failed',
  'host_key_mismatch',
  'command_failed',
  'protocol_error',
  'snmp_no_such_object',
  'snmp_error_status',
  'snmp_auth_failed',
  'config_error',
  'internal_error',
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

export interface ProbeResult {
  success: boolean;
  /** Wall time of the probe from start to verdict, in milliseconds. */
  responseTimeMs: number;
  errorType: ErrorType | null;
  /** Human-readable cause; never contains a secret. */
  errorMessage: string | null;
  /** Probe-specific facts (status code, cert expiry, values read, step timings). JSON-serialisable. */
  detail: Record<string, unknown>;
  /**
   * What the probe wants back at the host's next check (the snmp-table probe's last counter
   * values, for deltas): kept on the host (hosts.probe_memory), never in history.
   */
  memory?: Record<string, unknown>;
}

/** What every probe gets besides its own config. */
export interface ProbeContext {
  /** Host address (name or IP) from the host row. */
  address: string;
  /** Aborts the probe; fired at the check's hard timeout. Probes must release sockets on abort. */
  signal: AbortSignal;
  /** The probe's own timeout, in milliseconds (the signal fires at the same time). */
  timeoutMs: number;
  /** What this probe returned as `memory` at the host's previous check, if anything. */
  memory?: unknown;
  /** Shared fping batcher for ICMP probes; the process-wide default (/usr/bin/fping) when absent. */
  pinger?: Pinger;
}

/**
 * A credential with its secrets decrypted, handed to the probe that needs it for one check only.
 * Never log, serialise or echo one of these.
 */
export type ResolvedCredential =
  | { kind: 'ssh-password'; username: string; password: string }
  | { kind: 'ssh-key'; username: string; privateKey: string; passphrase?: string }
  | { kind: 'snmp-community'; community: string }
  | {
      kind: 'snmp-v3';
      username: string;
      level: 'noAuthNoPriv' | 'authNoPriv' | 'authPriv';
      authProtocol?: 'md5' | 'sha' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
      authKey?: string;
      privProtocol?: 'des' | 'aes' | 'aes256b' | 'aes256r';
      privKey?: string;
    }
  | { kind: 'http-basic'; username: string; password: string }
  | { kind: 'http-bearer'; token: string }
  | { kind: 'http-digest'; username: string; password: string }
  | { kind: 'http-secret'; value: string };

export interface ProbeContextWithCredential extends ProbeContext {
  /** The credential the probe config references, resolved; undefined when it references none. */
  credential?: ResolvedCredential;
}

/**
 * A credential exists but cannot be used (this Vigil has no VIGIL_SECRET_KEY, or the key does not
 * open it): a configuration problem of the host, recorded as a config_error result.
 */
export class CredentialUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialUnavailableError';
  }
}

/**
 * The check could not be run because Vigil itself failed (its database went away while a
 * credential was looked up, say). Nothing was observed about the target, so nothing is recorded
 * against the host: the job is failed for pg-boss to retry.
 */
export class CheckNotRunError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CheckNotRunError';
  }
}
