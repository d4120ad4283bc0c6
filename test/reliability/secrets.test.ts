/**
 * Promise 6, "Secrets stay secret": one full run of a real Vigil process (`src/main.ts`, all roles,
 * LOG_LEVEL=debug) monitoring hosts with every kind of credential, on working and failing paths,
 * read back through every API surface, then every byte it produced is searched for every secret
 * and simple encodings of it (base64, hex, URL, JSON and CSV escaping): API answers, the SSE
 * stream, the export, webhook requests a receiver got, /metrics, the process's stdout and stderr,
 * and every row of every table in the database (history, events, incidents, deliveries, pg-boss
 * jobs...). Also: a host whose SSH host key does not match is never sent the credential.
 * Notification channels (e-mail, Slack, Teams, PagerDuty, webhook) and remote write of values run
 * too: their credentials reach only their own receivers, and the messages they carry hold none.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { expectAnswerConforms } from '../helpers/openapi.ts';
import { startSnmpAgent, type TestSnmpAgent } from '../helpers/snmp-agent.ts';
import { closedLoopbackPort, generateTestKeyPair, startTestSshServer, type TestSshServer } from '../helpers/ssh-server.ts';
import { startSmtpTarget, type SmtpTarget } from '../helpers/smtp.ts';
import { reserveRefusedPort, startHttpTarget, startTcpTarget, type HttpTarget, type LoopbackTarget, type ReceivedRequest } from '../helpers/targets.ts';
import { waitFor } from '../helpers/vigil.ts';

// ---- the secrets ------------------------------------------------------------------------------
// Each holds a unique core (searched for alone too, so a truncated or re-quoted echo is caught)
// and characters that URL, JSON, CSV and base64 encode differently.
const SECRETS = {
  sshPassword: 'Zk1core-ssh pw/+="q\\1',
  sshWrongPassword: 'Zk2core-wrong pw&?#',
  sshPinnedPassword: 'Zk3core-pinned pw%20',
  sshMovedPassword: 'Zk4core-moved pw<>',
  keyPassphrase: 'Zk5core-passphrase +/=',
  wrongPassphrase: 'Zk6core-bad phrase',
  community: 'Zk7core-community/+=',
  wrongCommunity: 'Zk8core-wrong-comm"x',
  authKey: 'Zk9core-auth+/=',
  privKey: 'Zj1core-priv&x=',
  wrongAuthKey: 'Zj2core-bad-auth',
  wrongPrivKey: 'Zj3core-bad-priv',
  httpPassword: 'Zj4core-basic pw:/+=',
  bearerToken: 'Zj5core-bearer.tok+/=',
  digestPassword: 'Zg1core-digest pw/+="x',
  apiKey: 'Zf6core-api key+/="x',
  // Notification channels and remote write.
  smtpPassword: 'Zf5core-smtp pw/+="x',
  slackPath: 'Zf2core-slack-path',
  teamsPath: 'Zf3core-teams-path',
  routingKey: 'Zf1coreRoutingKey0123456789abcd',
  channelSecret: 'Zf4core-channel-whsec-01',
  deadSlackPath: 'Zf8core-dead-slack',
  tsdbPassword: 'Zf7core-tsdb pw/+="x',
  webhookSecret: 'Zj6core-whsec-0123456789',
  webhookOldSecret: 'Zj7core-whsec-rotated-away',
  webhookRotatedSecret: 'Zj8core-whsec-rotated-in!',
  webhookDeadSecret: 'Zj9core-whsec-dead-receiver',
  // Secrets sent only in requests the API refuses: they must not be echoed either.
  rejectedJsonSecret: 'Zh1core-in-malformed-json',
  rejectedFieldSecret: 'Zh2core-foreign-field',
  rejectedShortUsmKey: 'Zh3core',
  rejectedUrlPassword: 'Zh4core-url-pw',
  rejectedShortWebhookSecret: 'Zh5core-short',
  rejectedChannelUrlPassword: 'Zh9core-chan-url-pw',
  bogusBearer: 'Zh6core-not-a-token-at-all',
  // Process configuration.
  adminToken: `Zh7core-admin-${randomBytes(16).toString('hex')}`,
  metricsToken: `Zh8core-metrics-${randomBytes(8).toString('hex')}`,
  secretKey: randomBytes(32).toString('base64'),
};
const clientKey = generateTestKeyPair();
const encryptedKey = generateTestKeyPair(SECRETS.keyPassphrase);
const wrongPassphraseKey = generateTestKeyPair(SECRETS.wrongPassphrase);
const PRIVATE_KEYS = { clientKey: clientKey.privateKey, encryptedKey: encryptedKey.privateKey, wrongPassphraseKey: wrongPassphraseKey.privateKey };

/** The strings whose presence would mean a secret got out, named for the failure message. */
function needlesOf(name: string, secret: string): [string, string][] {
  const core = /^(Z[a-z]\dcore)/.exec(secret)?.[1];
  const forms: [string, string][] = [
    ['raw', secret],
    ['json', JSON.stringify(secret).slice(1, -1)],
    ['csv', secret.replaceAll('"', '""')],
    ['url', encodeURIComponent(secret)],
    ['form', new URLSearchParams({ x: secret }).toString().slice(2)],
    ['base64', Buffer.from(secret).toString('base64').replace(/=+$/, '')],
    ['base64url', Buffer.from(secret).toString('base64url')],
    ['hex', Buffer.from(secret).toString('hex')],
    ['HEX', Buffer.from(secret).toString('hex').toUpperCase()],
  ];
  if (core) forms.push(['core', core]);
  // One entry per distinct string, named by its first (simplest) encoding.
  const byText = new Map<string, string>();
  for (const [how, text] of forms) if (!byText.has(text)) byText.set(text, `${name} (${how})`);
  return [...byText].map(([text, label]) => [label, text]);
}

/** A private key leaks if any line of its body does (the first holds only the format header). */
function keyNeedles(name: string, pem: string): [string, string][] {
  const body = pem.split('\n').filter((line) => line && !line.startsWith('-----'));
  return body.slice(1).filter((line) => line.length >= 16).map((line, i) => [`${name} body line ${i + 2}`, line]);
}

const needles: [string, string][] = [
  ...Object.entries(SECRETS).flatMap(([name, secret]) => needlesOf(name, secret)),
  ...Object.entries(PRIVATE_KEYS).flatMap(([name, pem]) => [...keyNeedles(name, pem), ...needlesOf(name, pem).filter(([l]) => !l.includes('(raw)'))]),
];

/** Every needle found in `text`, as "<surface>: <secret> (<encoding>)". */
function leaksIn(surface: string, text: string): string[] {
  return needles.filter(([, needle]) => text.includes(needle)).map(([label]) => `${surface}: ${label}`);
}

// ---- the run ----------------------------------------------------------------------------------
const MAIN = path.resolve('src/main.ts');
const ENV = {
  LOG_LEVEL: 'debug',
  HOST: '127.0.0.1',
  PORT: '0',
  VIGIL_ADMIN_TOKEN: SECRETS.adminToken,
  VIGIL_SECRET_KEY: SECRETS.secretKey,
  VIGIL_METRICS_TOKEN: SECRETS.metricsToken,
  // The webhook receiver here is on loopback, which webhooks may not reach unless named.
  VIGIL_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8',
  // Failing hosts reach DOWN (an incident) three checks in; working ones are checked now and then.
  VIGIL_HEALTHY_INTERVAL_SECONDS: '2',
  VIGIL_DEGRADED_INTERVAL_SECONDS: '0.5',
  VIGIL_CRITICAL_INTERVAL_SECONDS: '0.5',
  VIGIL_DOWN_INTERVAL_SECONDS: '3',
  VIGIL_PRODUCER_INTERVAL_MS: '100',
  VIGIL_FIRST_CHECK_SPREAD_SECONDS: '0',
  VIGIL_INTERVAL_JITTER: '0',
  // An SSH handshake is CPU work: on a loaded 2-core runner 1.5 s was not always enough for a working host.
  VIGIL_CHECK_TIMEOUT_MS: '3000',
  VIGIL_WORKER_CONCURRENCY: '12',
  VIGIL_WEBHOOK_TIMEOUT_MS: '1000',
  VIGIL_WEBHOOK_RETRY_LIMIT: '1',
  VIGIL_WEBHOOK_RETRY_DELAY_SECONDS: '1',
  VIGIL_WEBHOOK_RETRY_DELAY_MAX_SECONDS: '1',
  VIGIL_SSE_HEARTBEAT_SECONDS: '1',
  VIGIL_SHUTDOWN_GRACE_MS: '5000',
  VIGIL_NOTIFY_TIMEOUT_MS: '1000',
  VIGIL_NOTIFY_RETRY_LIMIT: '1',
  VIGIL_NOTIFY_RETRY_DELAY_SECONDS: '1',
  VIGIL_NOTIFY_RETRY_DELAY_MAX_SECONDS: '1',
  VIGIL_NOTIFY_DIGEST_SECONDS: '2',
  VIGIL_REMOTE_WRITE_USERNAME: 'vigil',
  VIGIL_REMOTE_WRITE_PASSWORD: SECRETS.tsdbPassword,
  VIGIL_REMOTE_WRITE_FLUSH_MS: '200',
  VIGIL_REMOTE_WRITE_TIMEOUT_MS: '1000',
};

interface Answer {
  method: string;
  path: string;
  status: number;
  headers: Record<string, string>;
  text: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const ctx = useTestDatabase();
let child: ChildProcess;
let exited: Promise<number | null>;
let stdout = '';
let stderr = '';
let apiUrl = '';
let ssh: TestSshServer;
let snmp: TestSnmpAgent;
let target: HttpTarget;
let otherOrigin: HttpTarget;
let receiver: HttpTarget;
let silentTcp: LoopbackTarget;
let refused: LoopbackTarget;
/** Where channels deliver (Slack, Teams, PagerDuty, webhook channel) and where values are written: they get the secrets meant for them. */
let channels: HttpTarget;
let tsdb: HttpTarget;
let smtp: SmtpTarget;
const answers: Answer[] = [];
/** Answers allowed to hold one secret: the token creation answers, each with its own token. */
const allowed = new Map<Answer, string>();
let sseText = '';
let sseRequest: http.ClientRequest | undefined;

async function api(method: string, p: string, opts: { body?: unknown; raw?: string; token?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? SECRETS.adminToken}`, ...opts.headers };
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(apiUrl + p, { method: method.toUpperCase(), headers, body });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  const answer: Answer = {
    method: method.toUpperCase(),
    path: p,
    status: res.status,
    headers: Object.fromEntries(res.headers),
    text,
    body: /[/+]json(;|$)/.test(contentType) && text ? JSON.parse(text) : undefined,
  };
  answers.push(answer);
  if (p.startsWith('/api/')) {
    expectAnswerConforms({ method: answer.method, path: p.split('?')[0]!, status: res.status, contentType, text, body: answer.body });
  }
  return answer;
}

async function create(p: string, body: unknown): Promise<string> {
  const res = await api('post', p, { body });
  expect(res.status, `${p} ${res.text}`).toBe(201);
  return res.body.id as string;
}

function startVigilProcess(databaseUrl: string): Promise<string> {
  const env = { PATH: process.env.PATH!, DATABASE_URL: databaseUrl, ...ENV, VIGIL_REMOTE_WRITE_URL: `${tsdb.url}/api/v1/write` };
  child = spawn(process.execPath, [MAIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return waitFor('the API to listen', async () => /Vigil API listening on (http:\/\/\S+)/.exec(stdout)?.[1] ?? (child.exitCode !== null && Promise.reject(new Error(stderr))), 30_000);
}

/** The raw text of an SSE stream, from the first event on. */
function captureEvents(token: string): void {
  sseRequest = http.get(`${apiUrl}/api/events?last_event_id=0`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (sseText += chunk));
    res.on('error', () => {});
  });
  sseRequest.on('error', () => {});
}

/** Vigil-Signature verified as a receiver would, with nothing of Vigil's code. */
function signedWith(req: ReceivedRequest, secret: string): boolean {
  const parts = Object.fromEntries(String(req.headers['vigil-signature'] ?? '').split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  if (!/^[0-9a-f]{64}$/.test(parts.v1 ?? '')) return false;
  return timingSafeEqual(createHmac('sha256', secret).update(`${parts.t}.${req.body}`).digest(), Buffer.from(parts.v1!, 'hex'));
}

const hosts: Record<string, string> = {};
const creds: Record<string, string> = {};
const tokens: Record<string, string> = {};
const hooks: Record<string, string> = {};
const ECHO_OID = '1.3.6.1.4.1.99999.1';
const COMMUNITY_TABLE = '1.3.6.1.4.1.99999.2.1';

beforeAll(async () => {
  ssh = await startTestSshServer({
    users: {
      ops: { password: SECRETS.sshPassword, publicKeys: [clientKey.publicKey, encryptedKey.publicKey, wrongPassphraseKey.publicKey] },
      pinned: { password: SECRETS.sshPinnedPassword },
      moved: { password: SECRETS.sshMovedPassword },
    },
    // A hostile or careless server: echoes the password the probe logged in with.
    onCommand: (cmd) => (cmd === 'uptime' ? { exitCode: 0, stdout: 'up 3 days\n' } : { exitCode: 0, stdout: `motd: your password is ${SECRETS.sshPassword}\n` }),
  });
  snmp = await startSnmpAgent({
    communities: [SECRETS.community],
    users: [{ username: 'mon', level: 'authPriv', authProtocol: 'sha', authKey: SECRETS.authKey, privProtocol: 'aes', privKey: SECRETS.privKey }],
    sysName: 'olt-7',
    // As SNMP-COMMUNITY-MIB's snmpCommunityName does: an agent that serves its own community.
    extras: [{ oid: ECHO_OID, type: 'OctetString', value: SECRETS.community }],
    // And, as snmpCommunityTable does, a table naming its communities (a column walked as values' labels).
    tables: [{
      name: 'communities',
      oid: COMMUNITY_TABLE,
      columns: [{ number: 1, name: 'index', type: 'Integer' }, { number: 2, name: 'name', type: 'OctetString' }, { number: 3, name: 'uses', type: 'Counter' }],
      rows: [[1, SECRETS.community, 5], [2, 'public-ro', 7]],
    }],
  });
  otherOrigin = await startHttpTarget({ '/landing': (_req, res) => void res.writeHead(200).end('elsewhere') });
  target = await startHttpTarget({
    '/basic': (req, res) => {
      const ok = req.headers.authorization === `Basic ${Buffer.from(`web:${SECRETS.httpPassword}`).toString('base64')}`;
      res.writeHead(ok ? 200 : 401).end();
    },
    '/bearer-refused': (_req, res) => void res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end(),
    // A target that echoes the token it got into a redirect, then lands.
    '/echo': (req, res) => void res.writeHead(302, { location: `/landing?seen=${encodeURIComponent(String(req.headers.authorization))}` }).end(),
    '/landing': (_req, res) => void res.writeHead(200).end('landed'),
    // Digest: a challenge, then any Digest answer passes and is echoed into the body (it holds hashes only).
    '/digest': (req, res) => {
      const answer = req.headers.authorization;
      if (!answer?.startsWith('Digest ')) return void res.writeHead(401, { 'www-authenticate': 'Digest realm="cam", qop="auth", algorithm=SHA-256, nonce="n0nce"' }).end();
      res.writeHead(200).end(`seen ${answer}`);
    },
    '/away': (_req, res) => void res.writeHead(302, { location: `${otherOrigin.url}/landing` }).end(),
    '/api-key': (req, res) => void res.writeHead(req.headers['x-api-key'] === SECRETS.apiKey ? 200 : 401).end(),
    // A target that echoes the placed query secret into a redirect, then lands.
    '/api-key-echo': (req, res) => void res.writeHead(302, { location: `/landing?seen=${encodeURIComponent(new URL(req.url!, 'http://t').searchParams.get('api_key') ?? '')}` }).end(),
  });
  channels = await startHttpTarget({
    [`/services/${SECRETS.slackPath}`]: (_req, res) => void res.writeHead(200).end('ok'),
    [`/teams/${SECRETS.teamsPath}`]: (_req, res) => void res.writeHead(202).end(),
    '/pagerduty/v2/enqueue': (_req, res) => void res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"success","message":"Event processed"}'),
    '/channel-hook': (_req, res) => void res.writeHead(204).end(),
  });
  // A TSDB that is down at first, and (as a careless proxy might) echoes the Authorization it got into its error.
  let writes = 0;
  tsdb = await startHttpTarget({
    '/api/v1/write': (req, res) => void (++writes <= 2 ? res.writeHead(503).end(`unavailable; you sent ${req.headers.authorization}`) : res.writeHead(204).end()),
  });
  smtp = await startSmtpTarget('mailer', SECRETS.smtpPassword);
  receiver = await startHttpTarget({ '/hook': (_req, res) => void res.writeHead(204).end(), '/fail': (_req, res) => void res.writeHead(500).end() });
  silentTcp = await startTcpTarget();
  refused = await reserveRefusedPort();
  apiUrl = await startVigilProcess(ctx.db.url);
}, 60_000);

afterAll(async () => {
  sseRequest?.destroy();
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
  await Promise.all([ssh?.close(), snmp?.close(), target?.close(), otherOrigin?.close(), receiver?.close(), silentTcp?.close(), channels?.close(), tsdb?.close()]);
  await smtp?.close();
});

describe('a full run with every kind of credential', () => {
  it('sets up tokens, webhooks, credentials and hosts through the API, refusing bad input without echoing it', async () => {
    for (const [name, scopes] of [['reader', ['read']], ['checker', ['check']], ['revoked', ['read']]] as const) {
      const res = await api('post', '/api/tokens', { body: { name, scopes } });
      expect(res.status).toBe(201);
      tokens[name] = res.body.token;
      tokens[`${name}Id`] = res.body.id;
      allowed.set(res, name);
    }
    needles.push(...['reader', 'checker', 'revoked'].flatMap((name) => needlesOf(`${name} API token`, tokens[name]!)));
    expect((await api('delete', `/api/tokens/${tokens.revokedId}`)).status).toBe(200);
    captureEvents(tokens.reader!);

    hooks.all = await create('/api/webhooks', { url: `${receiver.url}/hook`, secret: SECRETS.webhookSecret });
    hooks.incidents = await create('/api/webhooks', { url: `${receiver.url}/hook?only=incidents`, secret: SECRETS.webhookOldSecret, event_types: ['incident_opened', 'incident_updated'] });
    expect((await api('patch', `/api/webhooks/${hooks.incidents}`, { body: { secret: SECRETS.webhookRotatedSecret } })).body.has_secret).toBe(true);
    hooks.dead = await create('/api/webhooks', { url: refused.url, secret: SECRETS.webhookDeadSecret, event_types: ['incident_opened'] });
    hooks.failing = await create('/api/webhooks', { url: `${receiver.url}/fail`, secret: SECRETS.webhookDeadSecret, event_types: ['incident_opened'] });

    const credential = (name: string, body: Record<string, unknown>) => create('/api/credentials', { name, ...body }).then((id) => (creds[name] = id));
    await credential('ssh-ok', { kind: 'ssh-password', username: 'ops', password: SECRETS.sshPassword });
    await credential('ssh-wrong', { kind: 'ssh-password', username: 'ops', password: SECRETS.sshWrongPassword });
    await credential('ssh-pinned', { kind: 'ssh-password', username: 'pinned', password: SECRETS.sshPinnedPassword });
    await credential('ssh-moved', { kind: 'ssh-password', username: 'moved', password: SECRETS.sshMovedPassword });
    await credential('key', { kind: 'ssh-key', username: 'ops', private_key: clientKey.privateKey });
    await credential('key-encrypted', { kind: 'ssh-key', username: 'ops', private_key: encryptedKey.privateKey, passphrase: SECRETS.keyPassphrase });
    await credential('key-wrong-phrase', { kind: 'ssh-key', username: 'ops', private_key: wrongPassphraseKey.privateKey, passphrase: SECRETS.keyPassphrase });
    await credential('v2c', { kind: 'snmp-community', community: SECRETS.community });
    await credential('v2c-wrong', { kind: 'snmp-community', community: SECRETS.wrongCommunity });
    const v3 = { kind: 'snmp-v3', username: 'mon', level: 'authPriv', auth_protocol: 'sha', priv_protocol: 'aes' };
    await credential('v3', { ...v3, auth_key: SECRETS.authKey, priv_key: SECRETS.privKey });
    await credential('v3-wrong-auth', { ...v3, auth_key: SECRETS.wrongAuthKey, priv_key: SECRETS.privKey });
    await credential('v3-wrong-priv', { ...v3, auth_key: SECRETS.authKey, priv_key: SECRETS.wrongPrivKey });
    await credential('v3-unknown-user', { ...v3, username: 'nobody', auth_key: SECRETS.authKey, priv_key: SECRETS.privKey });
    await credential('basic', { kind: 'http-basic', username: 'web', password: SECRETS.httpPassword });
    await credential('bearer', { kind: 'http-bearer', token: SECRETS.bearerToken });
    await credential('digest', { kind: 'http-digest', username: 'cam', password: SECRETS.digestPassword });
    await credential('api-key', { kind: 'http-secret', value: SECRETS.apiKey });
    // A rotation: the old secret is replaced, then PATCHed back to the one the checks use.
    expect((await api('patch', `/api/credentials/${creds['ssh-wrong']}`, { body: { password: SECRETS.sshWrongPassword } })).status).toBe(200);

    // Refused requests carrying secrets: the answers name fields, never values.
    const refusals = [
      await api('post', '/api/credentials', { raw: `{"name":"x","kind":"ssh-password","password":"${SECRETS.rejectedJsonSecret}",` }),
      await api('post', '/api/credentials', { body: { name: 'x', kind: 'snmp-community', community: 'c-ok-value', password: SECRETS.rejectedFieldSecret } }),
      await api('post', '/api/credentials', { body: { name: 'x', kind: 'ssh-password', password: SECRETS.rejectedFieldSecret } }),
      await api('post', '/api/credentials', { body: { name: 'x', ...v3, auth_key: SECRETS.rejectedShortUsmKey, priv_key: SECRETS.privKey } }),
      await api('patch', `/api/credentials/${creds.v2c}`, { body: { password: SECRETS.rejectedFieldSecret } }),
      await api('post', '/api/webhooks', { body: { url: `http://user:${SECRETS.rejectedUrlPassword}@127.0.0.1/hook` } }),
      await api('post', '/api/webhooks', { body: { url: `${receiver.url}/hook`, secret: SECRETS.rejectedShortWebhookSecret } }),
      await api('post', '/api/notification-channels', { body: { name: 'x', type: 'slack', config: { url: `http://u:${SECRETS.rejectedChannelUrlPassword}@127.0.0.1/x` } } }),
      await api('post', '/api/notification-channels', { body: { name: 'x', type: 'pagerduty', config: { routing_key: SECRETS.routingKey, events_url: 'http://169.254.169.254/v2/enqueue' } } }),
      await api('post', '/api/notification-channels', { body: { name: 'x', type: 'email', config: { smtp_host: '127.0.0.1', password: SECRETS.smtpPassword, from: 'not an address', to: ['ops@example.test'] } } }),
    ];
    expect(refusals.map((r) => r.status)).toEqual([400, 400, 400, 400, 400, 400, 400, 400, 400, 400]);
    expect((await api('get', '/api/hosts', { token: SECRETS.bogusBearer })).status).toBe(401);
    expect((await api('get', '/api/hosts', { token: tokens.revoked })).status).toBe(401);
    expect((await api('get', '/api/credentials', { token: tokens.checker })).status).toBe(403);

    const host = (name: string, probes: unknown[], extra: Record<string, unknown> = {}) =>
      create('/api/hosts', { name, address: '127.0.0.1', probes, ...extra }).then((id) => (hosts[name] = id));
    const sshProbe = (cred: string, more: Record<string, unknown> = {}) => ({ type: 'ssh', port: ssh.port, credential_id: creds[cred], ...more });
    const snmpProbe = (cred: string, more: Record<string, unknown> = {}) => ({ type: 'snmp', port: snmp.port, credential_id: creds[cred], ...more });
    await host('ssh-ok', [sshProbe('ssh-ok', { command: 'uptime', expect_output_regex: '^up ' })]);
    await host('ssh-echo', [sshProbe('ssh-ok', { command: 'cat /etc/motd' })]);
    await host('ssh-wrong', [sshProbe('ssh-wrong')]);
    await host('ssh-key', [sshProbe('key')]);
    await host('ssh-key-encrypted', [sshProbe('key-encrypted')]);
    await host('ssh-key-wrong-phrase', [sshProbe('key-wrong-phrase')]);
    await host('ssh-pinned', [sshProbe('ssh-pinned', { host_key_sha256: `SHA256:${'A'.repeat(43)}` })]);
    // Seen before with another key: the recorded key is set while it is disabled, then it runs.
    await host('ssh-moved', [sshProbe('ssh-moved')], { enabled: false });
    await api('post', `/api/hosts/${hosts['ssh-moved']}/ssh-host-key/accept`, { body: { host_key_sha256: `SHA256:${'B'.repeat(43)}` } });
    expect((await api('patch', `/api/hosts/${hosts['ssh-moved']}`, { body: { enabled: true } })).body.ssh_host_key_sha256).toBe(`SHA256:${'B'.repeat(43)}`);
    await host('ssh-down', [{ ...sshProbe('ssh-ok'), port: await closedLoopbackPort() }]);
    await host('ssh-not-ssh', [{ ...sshProbe('ssh-ok'), port: silentTcp.port }]);
    await host('snmp-v2c', [snmpProbe('v2c')]);
    await host('snmp-echo', [snmpProbe('v2c', { oids: [ECHO_OID + '.0'] })]);
    await host('snmp-v2c-wrong', [snmpProbe('v2c-wrong')]);
    await host('snmp-v3', [snmpProbe('v3', { version: '3' })]);
    await host('snmp-v3-wrong-auth', [snmpProbe('v3-wrong-auth', { version: '3' })]);
    await host('snmp-v3-wrong-priv', [snmpProbe('v3-wrong-priv', { version: '3' })]);
    await host('snmp-v3-unknown-user', [snmpProbe('v3-unknown-user', { version: '3' })]);
    await host('snmp-down', [{ ...snmpProbe('v2c'), port: refused.port }]);
    await host('snmp-table-echo', [{ type: 'snmp-table', port: snmp.port, credential_id: creds.v2c, columns: { name: `${COMMUNITY_TABLE}.2`, uses: `${COMMUNITY_TABLE}.3` }, row_conditions: [{ kind: 'every_row', column: 'name', matches: '.' }] }]);
    await host('http-basic', [{ type: 'http', url: `${target.url}/basic`, credential_id: creds.basic }]);
    await host('http-bearer-refused', [{ type: 'http', url: `${target.url}/bearer-refused`, credential_id: creds.bearer }]);
    await host('http-bearer-echo', [{ type: 'http', url: `${target.url}/echo`, credential_id: creds.bearer, follow_redirects: true }]);
    await host('http-bearer-away', [{ type: 'http', url: `${target.url}/away`, credential_id: creds.bearer, follow_redirects: true }]);
    await host('http-down', [{ type: 'http', url: `${refused.url}/basic`, credential_id: creds.basic }]);
    await host('http-digest', [{ type: 'http', url: `${target.url}/digest`, credential_id: creds.digest, body_contains: 'seen Digest' }]);
    await host('chain', [{ type: 'tcp', port: silentTcp.port }, sshProbe('ssh-wrong'), snmpProbe('v2c')]);
    await host('http-secret', [{ type: 'http', url: `${target.url}/api-key`, credential_id: creds['api-key'], secret_placement: { in: 'header', name: 'X-Api-Key' } }]);
    await host('http-secret-echo', [{ type: 'http', url: `${target.url}/api-key-echo?x=1`, credential_id: creds['api-key'], secret_placement: { in: 'query', name: 'api_key' }, follow_redirects: true }]);

    // Values: an SSH item whose command echoes the password (a careless motd) into a capture, an HTTP item written to the TSDB.
    const template = (name: string, items: unknown[]) => create('/api/value-templates', { name, items });
    const echoed = await template('secrets-ssh', [{ source: 'ssh', name: 'echoed', command: 'cat /etc/motd', parser: { kind: 'regex', pattern: 'password is (.+)' } }]);
    const timing = await template('secrets-http', [{ source: 'http', name: 'response_time', unit: 'seconds', scale: 0.001, measure: 'response_time' }]);
    expect((await api('post', `/api/hosts/${hosts['ssh-echo']}/value-templates`, { body: { template_ids: [echoed] } })).status).toBe(200);
    for (const h of ['http-basic', 'http-secret']) expect((await api('post', `/api/hosts/${hosts[h]}/value-templates`, { body: { template_ids: [timing] } })).status).toBe(200);
    const uses = await template('secrets-snmp', [{ source: 'snmp', name: 'community_uses', kind: 'counter', column: `${COMMUNITY_TABLE}.3`, label_column: `${COMMUNITY_TABLE}.2` }]);
    expect((await api('post', `/api/hosts/${hosts['snmp-v2c']}/value-templates`, { body: { template_ids: [uses] } })).status).toBe(200);

    // Notification channels of every type, a dead one among them, and a rule sending every event to all of them.
    const channel = (name: string, type: string, config: Record<string, unknown>) => create('/api/notification-channels', { name, type, config });
    const channelIds = [
      await channel('mail', 'email', { smtp_host: '127.0.0.1', smtp_port: smtp.port, security: 'none', username: 'mailer', password: SECRETS.smtpPassword, from: 'vigil@example.test', to: ['ops@example.test'] }),
      await channel('slack', 'slack', { url: `${channels.url}/services/${SECRETS.slackPath}` }),
      await channel('teams', 'teams', { url: `${channels.url}/teams/${SECRETS.teamsPath}` }),
      await channel('pagerduty', 'pagerduty', { routing_key: SECRETS.routingKey, events_url: `${channels.url}/pagerduty/v2/enqueue` }),
      await channel('hook', 'webhook', { url: `${channels.url}/channel-hook`, secret: SECRETS.channelSecret }),
      await channel('dead slack', 'slack', { url: `${refused.url}/services/${SECRETS.deadSlackPath}` }),
    ];
    await create('/api/notification-rules', { name: 'everything', channel_ids: channelIds });
    for (const id of channelIds) await api('post', `/api/notification-channels/${id}/test`);
  });

  it('checks them on schedule until the failing ones are DOWN with incidents, delivered to the webhooks', async () => {
    const failing = ['ssh-wrong', 'ssh-key-wrong-phrase', 'ssh-pinned', 'ssh-moved', 'ssh-down', 'snmp-v2c-wrong', 'snmp-v3-wrong-auth', 'snmp-v3-unknown-user', 'http-bearer-refused', 'http-down', 'chain'];
    await waitFor('incidents for the failing hosts, delivered', async () => {
      const { rows } = await ctx.pool.query<{ n: number }>(`SELECT count(DISTINCT host_id)::int AS n FROM incidents WHERE host_id = ANY($1)`, [failing.map((h) => hosts[h])]);
      const delivered = receiver.requests.filter((r) => r.url === '/hook?only=incidents').length;
      return rows[0]!.n === failing.length && delivered >= failing.length;
    }, 45_000, 200);
    const { rows } = await ctx.pool.query<{ name: string; success: boolean; error_type: string | null }>(
      `SELECT DISTINCT ON (h.name) h.name, m.success, m.error_type FROM host_monitoring_history m JOIN hosts h ON h.id = m.host_id WHERE m.checked_by = 'scheduler' ORDER BY h.name, m.id DESC`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.name, r.error_type ?? 'ok']))).toEqual({
      'ssh-ok': 'ok', 'ssh-echo': 'ok', 'ssh-wrong': 'auth_failed', 'ssh-key': 'ok', 'ssh-key-encrypted': 'ok', 'ssh-key-wrong-phrase': 'config_error',
      'ssh-pinned': 'host_key_mismatch', 'ssh-moved': 'host_key_mismatch', 'ssh-down': 'connection_refused', 'ssh-not-ssh': 'timeout',
      'snmp-v2c': 'ok', 'snmp-echo': 'ok', 'snmp-v2c-wrong': 'timeout', 'snmp-v3': 'ok', 'snmp-v3-wrong-auth': 'snmp_auth_failed',
      'snmp-v3-wrong-priv': 'snmp_auth_failed', 'snmp-v3-unknown-user': 'snmp_auth_failed', 'snmp-down': 'timeout',
      'http-basic': 'ok', 'http-bearer-refused': 'unexpected_status', 'http-bearer-echo': 'ok', 'http-bearer-away': 'ok', 'http-down': 'connection_refused',
      'http-digest': 'ok', chain: 'auth_failed', 'http-secret': 'ok', 'http-secret-echo': 'ok', 'snmp-table-echo': 'ok',
    });
  }, 60_000);

  it('answers JIT checks, check tasks and every read of state, history, incidents, webhooks and credentials', async () => {
    const jit = await Promise.all(Object.values(hosts).map((id) => api('post', `/api/monitoring/hosts/${id}/check-connectivity?wait=true&timeout=10`, { token: tokens.checker })));
    expect(jit.map((r) => r.status)).toEqual(jit.map(() => 200));
    const task = await api('post', `/api/monitoring/hosts/${hosts['ssh-echo']}/check-connectivity`, { token: tokens.checker });
    expect((await api('get', `/api/monitoring/checks/${task.body.task_id}`, { token: tokens.checker })).status).toBe(200);
    for (const id of Object.values(hosts)) {
      await api('get', `/api/hosts/${id}`, { token: tokens.reader });
      await api('get', `/api/monitoring/hosts/${id}/state`, { token: tokens.checker });
      const page = await api('get', `/api/monitoring/hosts/${id}/history?limit=3`, { token: tokens.reader });
      await api('get', `/api/monitoring/hosts/${id}/history?limit=50&cursor=${encodeURIComponent(page.body.next_cursor)}`, { token: tokens.reader });
      await api('get', `/api/monitoring/hosts/${id}/transitions`, { token: tokens.reader });
      await api('get', `/api/monitoring/hosts/${id}/trend`, { token: tokens.reader });
    }
    for (const p of ['/api/hosts?limit=500', '/api/monitoring/summary', '/api/monitoring/changes', '/api/monitoring/queue', '/api/monitoring/workers', '/api/monitoring/stats']) {
      expect((await api('get', p, { token: tokens.reader })).status).toBe(200);
    }
    const incidents = await api('get', '/api/incidents?status=open', { token: tokens.reader });
    expect(incidents.body.incidents.length).toBeGreaterThanOrEqual(11);
    for (const incident of incidents.body.incidents) await api('get', `/api/incidents/${incident.id}`, { token: tokens.reader });
    expect((await api('post', `/api/incidents/${incidents.body.incidents[0].id}/acknowledge`)).status).toBe(200);
    for (const [name, id] of Object.entries(hooks)) {
      await api('get', `/api/webhooks/${id}`);
      const log = await api('get', `/api/webhooks/${id}/deliveries`);
      if (name === 'dead') expect(log.body.deliveries.some((d: { last_error: string | null }) => /ECONNREFUSED/.test(d.last_error ?? ''))).toBe(true);
    }
    await api('get', '/api/webhooks');
    await api('get', '/api/credentials');
    for (const id of Object.values(creds)) expect((await api('get', `/api/credentials/${id}`)).body).not.toHaveProperty('password');
    await api('get', '/api/tokens');
    await api('get', '/api/value-templates');
    await api('get', '/api/notification-rules');
    const channelList = await api('get', '/api/notification-channels');
    for (const c of channelList.body.channels) {
      await api('get', `/api/notification-channels/${c.id}`);
      await api('get', `/api/notification-channels/${c.id}/deliveries`);
    }
    for (const format of ['ndjson', 'csv', 'json']) {
      const exported = await api('get', `/api/monitoring/history/export?format=${format}`, { token: tokens.reader });
      expect(exported.status).toBe(200);
      expect(exported.text).toContain('host_key_mismatch');
    }
    for (const p of ['/healthz', '/readyz']) expect((await api('get', p)).status).toBe(200);
    const metrics = await fetch(`${apiUrl}/metrics`, { headers: { authorization: `Bearer ${SECRETS.metricsToken}` } });
    const metricsText = await metrics.text();
    answers.push({ method: 'GET', path: '/metrics', status: metrics.status, headers: Object.fromEntries(metrics.headers), text: metricsText, body: undefined });
    expect(metricsText).toMatch(/^vigil_checks_total\{.*error_type="host_key_mismatch".*\} \d+/m);
  }, 60_000);

  it('never sent the credential of a host whose SSH host key did not match, and the others were really used', async () => {
    const mismatches = await ctx.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM host_monitoring_history WHERE error_type = 'host_key_mismatch' AND host_id = ANY($1) GROUP BY host_id`,
      [[hosts['ssh-pinned'], hosts['ssh-moved']]],
    );
    expect(mismatches.rows.map((r) => r.n >= 3)).toEqual([true, true]);
    // No auth request of any method (not even 'none') under their user names, no password anywhere.
    expect(ssh.authAttempts.filter((a) => a.username === 'pinned' || a.username === 'moved')).toEqual([]);
    expect(ssh.authAttempts.filter((a) => a.password === SECRETS.sshPinnedPassword || a.password === SECRETS.sshMovedPassword)).toEqual([]);
    // The secrets searched for below were in play: sent to the servers that should get them.
    expect(ssh.authAttempts.some((a) => a.password === SECRETS.sshPassword)).toBe(true);
    expect(ssh.authAttempts.some((a) => a.password === SECRETS.sshWrongPassword)).toBe(true);
    expect(ssh.authAttempts.some((a) => a.method === 'publickey' && `ssh-ed25519 ${a.publicKey}` === encryptedKey.publicKey.trim())).toBe(true);
    expect(target.requests.some((r) => r.url === '/bearer-refused' && r.headers.authorization === `Bearer ${SECRETS.bearerToken}`)).toBe(true);
    // The token never followed a redirect to another origin.
    expect(otherOrigin.requests.length).toBeGreaterThan(0);
    expect(otherOrigin.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('redacted the secrets that targets echoed back: command output, an SNMP value, a redirect', async () => {
    const last = async (name: string) => (await api('get', `/api/monitoring/hosts/${hosts[name]}/state`, { token: tokens.reader })).body.last_result;
    expect((await last('ssh-echo')).detail.output).toBe('motd: your password is [redacted]\n');
    expect((await last('snmp-echo')).detail.values[`${ECHO_OID}.0`]).toEqual({ type: 'OctetString', value: '***' });
    const echo = await last('http-bearer-echo');
    expect(echo.detail.redirects[0].location).toMatch(/\/landing\?seen=Bearer%20\[redacted\]$/);
    expect(target.requests.some((r) => r.url === `/landing?seen=${encodeURIComponent(`Bearer ${SECRETS.bearerToken}`)}`)).toBe(true);
  });

  it('delivered notifications on every channel and wrote values to the TSDB, each with its own credential', async () => {
    await waitFor('a message on every channel and values written after the TSDB came back', async () => {
      const to = (path: string) => channels.requests.filter((r) => r.url.startsWith(path)).length;
      return smtp.mails.length > 1 && to('/services/') > 1 && to('/teams/') > 1 && to('/pagerduty/') > 1 && to('/channel-hook') > 1 && tsdb.requests.length > 2;
    }, 30_000, 200);
    expect(smtp.logins).toContain(SECRETS.smtpPassword);
    const pagerduty = channels.requests.filter((r) => r.url.startsWith('/pagerduty/'));
    expect(pagerduty.every((r) => JSON.parse(r.body).routing_key === SECRETS.routingKey)).toBe(true);
    const hook = channels.requests.filter((r) => r.url === '/channel-hook');
    expect(hook.every((r) => signedWith(r, SECRETS.channelSecret))).toBe(true);
    const basic = `Basic ${Buffer.from(`vigil:${SECRETS.tsdbPassword}`).toString('base64')}`;
    expect(tsdb.requests.every((r) => r.headers.authorization === basic)).toBe(true);
    // The placed API key reached its target in the header, and in the query of the echoing one.
    expect(target.requests.some((r) => r.url === '/api-key' && r.headers['x-api-key'] === SECRETS.apiKey)).toBe(true);
    expect(target.requests.some((r) => r.url === `/landing?seen=${encodeURIComponent(SECRETS.apiKey)}`)).toBe(true);
    const echoed = (await api('get', `/api/monitoring/hosts/${hosts['http-secret-echo']}/state`, { token: tokens.reader })).body.last_result;
    expect(echoed.detail.redirects[0].location).toMatch(/\/landing\?seen=\[redacted\]$/);
    const { rows } = await ctx.pool.query<{ values: unknown }>(`SELECT latest_values AS values FROM hosts WHERE id = $1`, [hosts['ssh-echo']]);
    expect(JSON.stringify(rows[0]!.values)).toMatch(/"samples":\[\]/);
  }, 40_000);

  it('signed webhooks with the current secret, not the rotated-away one', () => {
    const all = receiver.requests.filter((r) => r.url === '/hook');
    const incidents = receiver.requests.filter((r) => r.url === '/hook?only=incidents');
    expect(all.length).toBeGreaterThan(20);
    expect(all.every((r) => signedWith(r, SECRETS.webhookSecret))).toBe(true);
    expect(incidents.every((r) => signedWith(r, SECRETS.webhookRotatedSecret) && !signedWith(r, SECRETS.webhookOldSecret))).toBe(true);
    // Events carry the checks' error messages: the webhook bodies are a real surface.
    expect(all.some((r) => /authentication \(password\) rejected/.test(r.body))).toBe(true);
  });
});

describe('after the run, no secret anywhere', () => {
  let surfaces: [string, string][] = [];

  beforeAll(async () => {
    await waitFor('the event stream to carry the incidents', async () => sseText.includes('event: incident_opened'));
    sseRequest?.destroy();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const tables = await ctx.pool.query<{ name: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'pgboss') AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
    );
    const dump: [string, string][] = [];
    for (const { name } of tables.rows) {
      const { rows } = await ctx.pool.query<{ t: string }>(`SELECT row_to_json(t)::text AS t FROM ${name} t`);
      dump.push(...rows.map((r, i): [string, string] => [`table ${name} row ${i}`, r.t]));
    }
    // What the channels carried: their messages, without the one field PagerDuty is meant to get.
    const carried = channels.requests.map((r): [string, string] => {
      const body = r.url.startsWith('/pagerduty/') ? JSON.stringify({ ...JSON.parse(r.body), routing_key: undefined }) : r.body;
      return [`channel request ${r.url.startsWith('/pagerduty/') ? r.url : r.url.slice(0, 10)}`, JSON.stringify(r.headers) + body];
    });
    surfaces = [
      ...answers.filter((a) => !allowed.has(a)).map((a): [string, string] => [`answer ${a.method} ${a.path} ${a.status}`, JSON.stringify(a.headers) + a.text]),
      ['SSE stream', sseText],
      ...receiver.requests.map((r): [string, string] => [`webhook request ${r.url}`, JSON.stringify(r.headers) + r.body]),
      ...carried,
      ...smtp.mails.map((m, i): [string, string] => [`mail ${i}`, m.raw]),
      ['stdout', stdout],
      ['stderr', stderr],
      ...dump,
    ];
  }, 30_000);

  it('covered every surface: answers, stream, webhooks, notifications, debug logs, history, events, incidents, deliveries and pg-boss jobs', async () => {
    const count = async (sql: string) => (await ctx.pool.query<{ n: number }>(sql)).rows[0]!.n;
    expect(answers.length).toBeGreaterThan(150);
    expect(sseText).toMatch(/event: state_changed[\s\S]*event: incident_opened/);
    const logLines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string; message: string });
    const messages = new Set(logLines.map((l) => l.message));
    for (const m of ['request', 'check recorded', 'enqueued due checks', 'webhook delivered', 'webhook delivery failed; will retry', 'shutting down']) expect(messages).toContain(m);
    expect(logLines.some((l) => l.level === 'debug')).toBe(true);
    expect(await count(`SELECT count(DISTINCT error_type)::int AS n FROM host_monitoring_history WHERE error_message IS NOT NULL`)).toBeGreaterThanOrEqual(7);
    expect(await count(`SELECT count(*)::int AS n FROM host_events WHERE reason LIKE '%rejected%'`)).toBeGreaterThan(0);
    expect(await count(`SELECT count(*)::int AS n FROM incidents WHERE last_error_message IS NOT NULL`)).toBeGreaterThanOrEqual(11);
    expect(await count(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE last_error IS NOT NULL`)).toBeGreaterThan(0);
    expect(await count(`SELECT count(*)::int AS n FROM pgboss.job WHERE name LIKE 'vigil-checks%'`)).toBeGreaterThan(50);
    expect(await count(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'vigil-webhooks' AND state = 'failed'`)).toBeGreaterThan(0);
    expect(await count(`SELECT count(DISTINCT channel_id)::int AS n FROM notification_deliveries WHERE status = 'delivered'`)).toBe(5);
    expect(await count(`SELECT count(*)::int AS n FROM notification_deliveries WHERE last_error IS NOT NULL`)).toBeGreaterThan(0);
    expect(messages).toContain('remote write: time-series database answered 503; retrying with backoff');
    // The search itself works: the one answer that shows a new token holds it.
    const [creation, name] = [...allowed.entries()][0]!;
    expect(leaksIn('creation', creation.text)).toContain(`creation: ${name} API token (raw)`);
  });

  it('finds no secret, in any encoding, on any of them', () => {
    const leaks = surfaces.flatMap(([surface, text]) => leaksIn(surface, text));
    expect(leaks).toEqual([]);
  });
});
