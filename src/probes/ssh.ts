/**
 * The SSH probe: handshake, host key check, login, and optionally one command whose exit status
 * (and output) decide the verdict. Host keys are trusted on first use: the result always carries
 * the observed fingerprint, and the worker passes the recorded one back as `knownHostKeySha256`.
 */
import { z } from 'zod';
import { probeTimeoutSchema } from './probe-timeout.ts';
// ssh2 is CommonJS; Node's ESM loader does not expose its `utils` as a named export.
import ssh2 from 'ssh2';
import { elapsedMs, failed, succeeded } from './errors.ts';
import { compilePattern, MAX_PATTERN_CHARS, patternSchema } from './pattern.ts';
import { runRemoteCommand } from './ssh-command.ts';
import type { CommandOutcome } from './ssh-command.ts';
import { openSshConnection, WRONG_PASSPHRASE } from './ssh-connection.ts';
import type { SshAuth, SshConnection } from './ssh-connection.ts';
import type { ProbeContextWithCredential, ProbeResult, ResolvedCredential } from './types.ts';

/** Most command output kept in `detail.output`, in characters. */
const DETAIL_OUTPUT_CHARS = 1024;

/**
 * Command output is lines ending in '\n', so `^` and `$` match at line boundaries (grep's
 * semantics): `^ok$` matches the output "ok\n", which it would not without line mode.
 */
const OUTPUT_PATTERN_MODE = 'lines';

/** OpenSSH's fingerprint form: a SHA-256 digest (32 bytes) is 43 base64 characters unpadded. */
const FINGERPRINT_SHA256 = /^SHA256:[A-Za-z0-9+/]{43}$/;


export const sshProbeSchema = z
  .object({
    type: z.literal('ssh').describe('Probe type.'),
    port: z.number().int().min(1).max(65535).default(22).describe('TCP port of the SSH server.'),
    timeout_ms: probeTimeoutSchema,
    credential_id: z
      .uuid()
      .describe("Id of the credential to log in with; must be of kind 'ssh-password' or 'ssh-key'."),
    command: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe('Command to run after login; the check fails unless it exits with status 0.'),
    expect_output_regex: patternSchema(OUTPUT_PATTERN_MODE)
      .optional()
      .describe(
        `RE2 regular expression (at most ${MAX_PATTERN_CHARS} characters; no lookaround or backreferences) the command's stdout must match, with ^ and $ matching at line boundaries (requires command); matched in linear time.`,
      ),
    host_key_sha256: z
      .string()
      .regex(FINGERPRINT_SHA256, 'host_key_sha256 must look like SHA256:<43 base64 characters>, as ssh-keygen -lf prints')
      .optional()
      .describe('Pinned host key fingerprint; without it the key seen on first use is trusted.'),
  })
  .strict()
  .refine((c) => c.expect_output_regex === undefined || c.command !== undefined, {
    message: 'expect_output_regex needs a command whose output it checks',
    path: ['expect_output_regex'],
  });

export type SshProbeConfig = z.infer<typeof sshProbeSchema>;

/** What the SSH probe needs besides its config: the worker adds the fingerprint seen on first use. */
export type SshProbeContext = ProbeContextWithCredential & { knownHostKeySha256?: string | null };

/** Checks one SSH server; never throws for anything the server does. */
export async function runSshProbe(config: SshProbeConfig, ctx: SshProbeContext): Promise<ProbeResult> {
  const startNs = process.hrtime.bigint();
  const auth = resolveSshAuth(ctx.credential);
  if (typeof auth === 'string') return failed(startNs, 'config_error', auth);
  if (ctx.signal.aborted) return failed(startNs, 'timeout', 'SSH check aborted before it started');
  const connection = openSshConnection({
    host: ctx.address,
    port: config.port,
    auth,
    expectedHostKeySha256: config.host_key_sha256 ?? ctx.knownHostKeySha256 ?? null,
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
  });
  try {
    return scrubSecrets(await checkOverConnection(config, connection, startNs), auth);
  } finally {
    connection.close();
  }
}

async function checkOverConnection(config: SshProbeConfig, connection: SshConnection, startNs: bigint): Promise<ProbeResult> {
  const failure = await connection.ready;
  const detail: Record<string, unknown> = {};
  const hostKey = connection.hostKeySha256();
  if (hostKey !== null) detail.host_key_sha256 = hostKey;
  if (failure) return failed(startNs, failure.errorType, failure.message, detail);
  detail.connect_auth_ms = elapsedMs(startNs);
  if (config.command === undefined) return succeeded(startNs, detail);

  const commandStartNs = process.hrtime.bigint();
  const outcome = await Promise.race([runRemoteCommand(connection.client, config.command), connection.lost]);
  detail.command_ms = elapsedMs(commandStartNs);
  if ('errorType' in outcome) return failed(startNs, outcome.errorType, outcome.message, detail);
  if ('refused' in outcome) return failed(startNs, 'command_failed', outcome.refused, detail);
  return judgeCommand(outcome, config.expect_output_regex, startNs, detail);
}

function judgeCommand(
  outcome: CommandOutcome,
  expectOutputRegex: string | undefined,
  startNs: bigint,
  detail: Record<string, unknown>,
): ProbeResult {
  const output = outcome.output.toString('utf8');
  detail.exit_code = outcome.exitCode;
  if (outcome.exitSignal !== null) detail.exit_signal = outcome.exitSignal;
  detail.output = output.slice(0, DETAIL_OUTPUT_CHARS);
  if (outcome.exitSignal !== null) {
    return failed(startNs, 'command_failed', `command was killed by ${outcome.exitSignal}`, detail);
  }
  if (outcome.exitCode === null) {
    return failed(startNs, 'command_failed', 'command ended without an exit status', detail);
  }
  if (outcome.exitCode !== 0) {
    return failed(startNs, 'command_failed', `command exited with status ${outcome.exitCode}`, detail);
  }
  if (expectOutputRegex !== undefined && !compilePattern(expectOutputRegex, OUTPUT_PATTERN_MODE).test(output)) {
    return failed(startNs, 'command_failed', `command output did not match /${expectOutputRegex}/m`, detail);
  }
  return succeeded(startNs, detail);
}

/** The login to use, or why the credential cannot be used (a message without key material). */
export function resolveSshAuth(credential: ResolvedCredential | undefined): SshAuth | string {
  if (credential === undefined) return 'SSH probe needs a credential, and none was resolved';
  if (credential.kind === 'ssh-password') return { username: credential.username, password: credential.password };
  if (credential.kind !== 'ssh-key') return `SSH probe cannot log in with a credential of kind '${credential.kind}'`;
  const problem = checkPrivateKey(credential.privateKey, credential.passphrase);
  if (problem !== null) return problem;
  const auth: SshAuth = { username: credential.username, privateKey: credential.privateKey };
  if (credential.passphrase !== undefined) auth.passphrase = credential.passphrase;
  return auth;
}

/**
 * Checks the key up front so an unusable one is a config_error before any connection is made.
 * The key is parsed without the passphrase: decrypting an OpenSSH key runs bcrypt_pbkdf, a few
 * hundred ms of blocked event loop, and ssh2 does that once anyway when it connects (a wrong
 * passphrase surfaces there, see openSshConnection). ssh2's parse messages are not passed on: they
 * are not meant to be shown and could echo key text.
 */
function checkPrivateKey(privateKey: string, passphrase: string | undefined): string | null {
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error) {
    if (/no passphrase given/i.test(parsed.message) && passphrase !== undefined) return null;
    return /passphrase/i.test(parsed.message)
      ? WRONG_PASSPHRASE
      : 'SSH private key could not be parsed (not a supported private key format)';
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key.getPrivatePEM() === null) return 'SSH key credential holds a public key, not a private key';
  return null;
}

/**
 * Backstop for "secrets never leave the probe": messages come from servers and libraries we do not
 * control. Secrets under 4 characters are skipped — they occur by chance in ordinary text, and
 * blanking them would garble every message without protecting anything.
 */
function scrubSecrets(result: ProbeResult, auth: SshAuth): ProbeResult {
  const secrets = [auth.password, auth.passphrase, auth.privateKey].filter(
    (s): s is string => s !== undefined && s.length >= 4,
  );
  const scrub = (text: string) => secrets.reduce((acc, secret) => acc.split(secret).join('[redacted]'), text);
  if (result.errorMessage !== null) result.errorMessage = scrub(result.errorMessage);
  if (typeof result.detail.output === 'string') result.detail.output = scrub(result.detail.output);
  return result;
}
