import { createHash } from 'node:crypto';
import { connect as connectTcp } from 'node:net';
// ssh2 is CommonJS; Node's ESM loader does not expose all its names (utils), so use the default.
import ssh2 from 'ssh2';
import type { Client, ConnectConfig } from 'ssh2';
import { classifySocketError, describeError } from './errors.ts';
import type { ErrorType } from './types.ts';

export const WRONG_PASSPHRASE = 'SSH private key is encrypted and the passphrase is missing or wrong';

/** How to authenticate: exactly one of password or privateKey (+ passphrase) is set. */
export interface SshAuth {
  username: string;
  password?: string;
  privateKey?: string;
  passphrase?: string;
}

export interface SshConnectOptions {
  host: string;
  port: number;
  auth: SshAuth;
  /** Pinned or first-use fingerprint (`SHA256:…`); null accepts any host key. */
  expectedHostKeySha256: string | null;
  timeoutMs: number;
  signal: AbortSignal;
}

/** Why a connection ended or never became usable. */
export interface SshFailure {
  errorType: ErrorType;
  message: string;
}

export interface SshConnection {
  client: Client;
  /** Resolves once authenticated, or with the failure that prevented it. Never rejects. */
  ready: Promise<SshFailure | null>;
  /** Resolves with the first failure on this connection (error, unexpected close, abort). Never rejects. */
  lost: Promise<SshFailure>;
  /** The server's host key fingerprint, once the key exchange has shown it. */
  hostKeySha256(): string | null;
  /** Ends the connection and releases the socket; safe to call more than once. */
  close(): void;
}

/** The fingerprint of a raw SSH public key blob, in the form `ssh-keygen -lf` prints. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/**
 * Opens a TCP socket we own (ssh2's destroy() is a no-op once end() has half-closed its socket, so
 * a peer that never answers would otherwise keep the socket forever) and runs the SSH handshake
 * and authentication over it.
 */
export function openSshConnection(opts: SshConnectOptions): SshConnection {
  let observedKey: string | null = null;
  let keyMismatch = false;
  let isReady = false;
  let closed = false;
  let settleLost: (failure: SshFailure) => void = () => {};
  const lost = new Promise<SshFailure>((resolve) => (settleLost = resolve));

  // Without TCP_NODELAY, Nagle and delayed ACKs add ~40 ms to each of the handshake's small
  // round trips: a loopback login to the test server took ~230 ms without it on either end, 5 ms with.
  const socket = connectTcp({ host: opts.host, port: opts.port, noDelay: true });
  const client = new ssh2.Client();
  const onError = (err: unknown) => settleLost(describeSshError(err, opts, keyMismatch, observedKey));
  const onClose = () => settleLost(describeUnexpectedClose(isReady));
  const onAbort = () => {
    const phase = isReady ? 'while the command ran' : 'before the SSH login completed';
    settleLost({ errorType: 'timeout', message: `SSH check timed out after ${opts.timeoutMs} ms, ${phase}` });
    socket.destroy();
  };
  const ready = new Promise<SshFailure | null>((resolve) => {
    client.once('ready', () => {
      isReady = true;
      resolve(null);
    });
    void lost.then(resolve);
  });

  const verifyHostKey = (keyBlob: Buffer): boolean => {
    observedKey = fingerprintSha256(keyBlob);
    // Returning false makes ssh2 abort the key exchange, before any userauth request is sent.
    keyMismatch = opts.expectedHostKeySha256 !== null && observedKey !== opts.expectedHostKeySha256;
    return !keyMismatch;
  };

  client.on('error', onError).on('close', onClose);
  opts.signal.addEventListener('abort', onAbort, { once: true });
  try {
    client.connect(buildConnectConfig(opts, socket, verifyHostKey));
  } catch (err) {
    // ssh2 decrypts the private key here, before it writes anything to the socket; the caller has
    // already ruled out every other key problem. Its message is not passed on: it could quote the key.
    const wrongPassphrase = /passphrase/i.test(describeError(err));
    settleLost({ errorType: 'config_error', message: wrongPassphrase ? WRONG_PASSPHRASE : 'SSH client rejected the credential' });
    socket.destroy();
  }

  const close = () => {
    if (closed) return;
    closed = true;
    opts.signal.removeEventListener('abort', onAbort);
    client.removeListener('error', onError).removeListener('close', onClose).removeAllListeners('ready');
    // ssh2 may still emit while tearing down; an unhandled 'error' event would crash the worker.
    client.on('error', () => {});
    client.end(); // a polite SSH_MSG_DISCONNECT when the transport is up, so sshd logs no reset
    socket.destroy();
  };
  return { client, ready, lost, hostKeySha256: () => observedKey, close };
}

function buildConnectConfig(
  opts: SshConnectOptions,
  socket: ConnectConfig['sock'],
  hostVerifier: (keyBlob: Buffer) => boolean,
): ConnectConfig {
  const config: ConnectConfig = {
    sock: socket,
    username: opts.auth.username,
    readyTimeout: opts.timeoutMs,
    // hostHash left unset: ssh2 then hands the verifier the raw key blob, which we hash as OpenSSH does.
    hostVerifier,
  };
  if (opts.auth.password !== undefined) config.password = opts.auth.password;
  if (opts.auth.privateKey !== undefined) config.privateKey = opts.auth.privateKey;
  if (opts.auth.passphrase !== undefined) config.passphrase = opts.auth.passphrase;
  return config;
}

/** ssh2 tags its errors with a `level`; that, not the message text, says which step failed. */
function describeSshError(
  err: unknown,
  opts: SshConnectOptions,
  keyMismatch: boolean,
  observedKey: string | null,
): SshFailure {
  if (keyMismatch) {
    return {
      errorType: 'host_key_mismatch',
      message: `host key mismatch: expected ${opts.expectedHostKeySha256}, got ${observedKey}`,
    };
  }
  const level = (err as { level?: unknown } | null)?.level;
  const method = opts.auth.password !== undefined ? 'password' : 'publickey';
  switch (level) {
    case 'client-timeout':
      return { errorType: 'timeout', message: `no SSH handshake and login within ${opts.timeoutMs} ms` };
    case 'client-authentication':
      return { errorType: 'auth_failed', message: `authentication (${method}) rejected for user '${opts.auth.username}'` };
    case 'client-socket':
    case 'client-dns':
      return { errorType: classifySocketError(err), message: describeError(err) };
    default:
      // 'protocol' and 'handshake' levels, a server DISCONNECT, or a parser exception (no level):
      // the peer is not speaking SSH as we understand it.
      return { errorType: 'protocol_error', message: `SSH protocol error: ${describeError(err)}` };
  }
}

function describeUnexpectedClose(isReady: boolean): SshFailure {
  return isReady
    ? { errorType: 'network_error', message: 'server closed the SSH connection' }
    : { errorType: 'protocol_error', message: 'connection closed during the SSH handshake' };
}
