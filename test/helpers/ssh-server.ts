/**
 * An in-process SSH server (ssh2's Server) on 127.0.0.1 for probe tests. It records every
 * authentication attempt it receives, so a test can prove a credential was never sent.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
// ssh2 is CommonJS; Node's ESM loader exposes only some of its names, so take them off the default.
import ssh2 from 'ssh2';
import type { AuthContext, Connection, ParsedKey } from 'ssh2';

const { Server, utils } = ssh2;

/** One account the server accepts: by password, by any of the public keys, or both. */
export interface TestSshUser {
  password?: string;
  /** Public keys in OpenSSH `ssh-ed25519 AAAA…` form. */
  publicKeys?: string[];
}

/** What a command run through exec produces. */
export interface TestCommandResult {
  exitCode?: number;
  /** Ends the command by this signal instead of an exit status (e.g. 'KILL'). */
  signal?: string;
  stdout?: string;
  /** Never finish the command (for abort tests). */
  hang?: boolean;
}

export type TestCommandHandler = (command: string, username: string) => TestCommandResult;

/** One authentication request as the server saw it. */
export interface AuthAttempt {
  method: string;
  username: string;
  password?: string;
  /** The offered public key blob, base64. */
  publicKey?: string;
}

export interface TestSshServerOptions {
  users?: Record<string, TestSshUser>;
  onCommand?: TestCommandHandler;
}

export interface TestSshServer {
  port: number;
  /** Host key fingerprint as `ssh-keygen -lf` prints it. */
  hostKeySha256: string;
  authAttempts: AuthAttempt[];
  /** Commands received through exec, in order. */
  commands: string[];
  close(): Promise<void>;
}

export interface TestKeyPair {
  /** OpenSSH private key text. */
  privateKey: string;
  /** `ssh-ed25519 AAAA…` */
  publicKey: string;
}

/** A fresh ed25519 key pair; with a passphrase the private key is encrypted (aes256-cbc). */
export function generateTestKeyPair(passphrase?: string): TestKeyPair {
  // ssh2 1.17's generator drops a leading zero byte of the ed25519 public key, so about one key in
  // 256 comes out 31 bytes long and its own parser rejects it ("Malformed OpenSSH private key"):
  // that made the bench fleet and SSH tests fail at random. Draw again until the key parses.
  for (;;) {
    // 16 bcrypt rounds is ssh-keygen's default too.
    const { private: privateKey, public: publicKey } =
      passphrase === undefined
        ? utils.generateKeyPairSync('ed25519')
        : utils.generateKeyPairSync('ed25519', { passphrase, cipher: 'aes256-cbc', rounds: 16 });
    if (!(utils.parseKey(privateKey, passphrase) instanceof Error)) return { privateKey, publicKey };
  }
}

export async function startTestSshServer(options: TestSshServerOptions = {}): Promise<TestSshServer> {
  const hostKey = generateTestKeyPair();
  const authAttempts: AuthAttempt[] = [];
  const commands: string[] = [];
  const onCommand = options.onCommand ?? (() => ({ exitCode: 0 }));
  const sshServer = new Server({ hostKeys: [hostKey.privateKey] }, (connection) => {
    let username = '';
    connection.on('authentication', (ctx) => {
      authAttempts.push(recordAttempt(ctx));
      if (!isAuthorised(ctx, options.users ?? {})) return ctx.reject(['password', 'publickey']);
      username = ctx.username;
      ctx.accept();
    });
    serveSessions(connection, (command) => onCommand(command, username), commands);
    // A client that vanishes mid-handshake is routine in these tests, not a failure.
    connection.on('error', () => {});
  });
  // We accept the TCP sockets ourselves so close() can destroy them: ssh2's Server has no way to
  // end the connections it holds, and a lingering one would look like a leak in the probe.
  const sockets = new Set<Socket>();
  const tcpServer = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true); // else each handshake round trip waits on a delayed ACK
    sshServer.injectSocket(socket);
  });
  const port = await listenOnLoopback(tcpServer);
  return {
    port,
    hostKeySha256: fingerprintOfPublicKey(hostKey.publicKey),
    authAttempts,
    commands,
    close: () => closeServer(tcpServer, sockets),
  };
}

/**
 * The SHA256 fingerprint of an `ssh-ed25519 AAAA…` public key line, computed here from the line
 * itself (not with the probe's code) so tests check the probe against an independent answer.
 */
export function fingerprintOfPublicKey(publicKey: string): string {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1] ?? '', 'base64');
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

function parsePublicKey(publicKey: string): ParsedKey {
  const parsed = utils.parseKey(publicKey);
  if (parsed instanceof Error) throw parsed;
  return parsed;
}

function recordAttempt(ctx: AuthContext): AuthAttempt {
  const attempt: AuthAttempt = { method: ctx.method, username: ctx.username };
  if (ctx.method === 'password') attempt.password = ctx.password;
  if (ctx.method === 'publickey') attempt.publicKey = ctx.key.data.toString('base64');
  return attempt;
}

function isAuthorised(ctx: AuthContext, users: Record<string, TestSshUser>): boolean {
  const user = users[ctx.username];
  if (user === undefined) return false;
  if (ctx.method === 'password') return user.password !== undefined && ctx.password === user.password;
  if (ctx.method !== 'publickey') return false;
  const key = (user.publicKeys ?? []).map(parsePublicKey).find((k) => k.getPublicSSH().equals(ctx.key.data));
  if (key === undefined) return false;
  // Without a signature the client is only asking whether this key would do; with one, verify it.
  if (ctx.signature === undefined || ctx.blob === undefined) return true;
  return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
}

function serveSessions(connection: Connection, onCommand: (command: string) => TestCommandResult, commands: string[]): void {
  connection.on('ready', () => {
    connection.on('session', (acceptSession) => {
      const session = acceptSession();
      session.on('exec', (acceptExec, _reject, info) => {
        commands.push(info.command);
        const channel = acceptExec();
        const result = onCommand(info.command);
        if (result.stdout !== undefined) channel.write(result.stdout);
        if (result.hang === true) return;
        if (result.signal !== undefined) channel.exit(result.signal);
        else channel.exit(result.exitCode ?? 0);
        channel.end();
      });
    });
  });
}

function listenOnLoopback(server: NetServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedLoopbackPort(): Promise<number> {
  const server = createServer();
  const port = await listenOnLoopback(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function closeServer(server: NetServer, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}
