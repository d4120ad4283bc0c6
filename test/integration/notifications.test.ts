import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { appendEvents, type NewEvent } from '../../src/db/queries/events.ts';
import { withTransaction } from '../../src/db/transaction.ts';
import { pruneBoundedTables } from '../../src/retention/bounded-tables.ts';
import { SMTPServer } from 'smtp-server';
import { startSmtpTarget, type SmtpTarget } from '../helpers/smtp.ts';
import { generateSelfSignedCert, reserveRefusedPort, startHttpTarget, startTcpTarget, type HttpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { FAST_ENV, useTestVigil, waitFor } from '../helpers/vigil.ts';

const SMTP_USER = 'vigil-mailer';
const SMTP_PASSWORD = 'smtp-pass-7f3a9c1e5b';
const SLACK_TOKEN = 'T0SLACKSECRET/B0SECRET/xoxSecretPath9d8c7b6a';
const TEAMS_SIG = 'teams-sig-secret-4e5f6a7b8c';
const ROUTING_KEY = 'R0UTINGKEYSECRET0123456789ABCDEF';
const SIGNING_SECRET = 'whsec_notify_0123456789abcdef';
const SECRETS = [SMTP_PASSWORD, SLACK_TOKEN, 'xoxSecretPath9d8c7b6a', TEAMS_SIG, ROUTING_KEY, SIGNING_SECRET];
const PUBLIC_URL = 'https://vigil.example.test';

const ENV = {
  ...FAST_ENV,
  VIGIL_SECRET_KEY: randomBytes(32).toString('base64'),
  VIGIL_WORKER_CONCURRENCY: '4',
  VIGIL_NOTIFY_CONCURRENCY: '4',
  VIGIL_NOTIFY_TIMEOUT_MS: '1000',
  VIGIL_NOTIFY_RETRY_LIMIT: '2',
  VIGIL_NOTIFY_RETRY_DELAY_SECONDS: '1',
  VIGIL_NOTIFY_RETRY_DELAY_MAX_SECONDS: '1',
  VIGIL_NOTIFY_DIGEST_SECONDS: '2',
  VIGIL_PUBLIC_URL: PUBLIC_URL,
  // The receivers here are on loopback, which channels may not reach unless named.
  VIGIL_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8',
};


let receiver: HttpTarget;
let smtp: SmtpTarget;
let smtpPort: number;
let dead: LoopbackTarget;
/** Accepts connections and never answers, counting how many it holds at once. */
let silent: LoopbackTarget & { open: number; maxOpen: number };
let alive: LoopbackTarget;
const flakyAnswers: number[] = [];

beforeAll(async () => {
  const ok = (status: number) => (_req: unknown, res: { writeHead(s: number): { end(b?: string): void } }) => void res.writeHead(status).end('ok');
  receiver = await startHttpTarget({
    [`/slack/services/${SLACK_TOKEN}`]: ok(200),
    '/teams/workflows/invoke': ok(202),
    '/pagerduty/v2/enqueue': (_req, res) => void res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"success","message":"Event processed"}'),
    '/flaky': (_req, res) => void res.writeHead(flakyAnswers.shift() ?? 200).end(),
    '/fast': ok(200),
    '/storm': ok(200),
    '/maintenance': ok(200),
    '/cooldown': ok(200),
    '/hook': ok(204),
  });
  smtp = await startSmtpTarget(SMTP_USER, SMTP_PASSWORD);
  smtpPort = smtp.port;
  dead = await reserveRefusedPort();
  silent = await startCountingSilentTarget();
  alive = await startTcpTarget();
});
afterAll(async () => {
  await receiver?.close();
  await silent?.close();
  await alive?.close();
  await smtp?.close();
});

const ctx = useTestVigil({
  roles: ['api', 'scheduler', 'worker'],
  env: ENV,
  resetSql: `DELETE FROM notification_rules; DELETE FROM notification_channels; DELETE FROM hosts; DELETE FROM host_groups`,
});
const { call } = ctx;

async function createChannel(body: Record<string, unknown>): Promise<string> {
  const res = await call('post', '/api/notification-channels', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function createRule(body: Record<string, unknown>): Promise<string> {
  const res = await call('post', '/api/notification-rules', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

type Delivery = {
  id: string; created_at: string; delivered_at: string | null; kind: string; status: string; attempts: number; last_status_code: number | null; last_error: string | null;
  latency_ms: number | null; title: string; event_type: string | null; digest_id: string | null; incident_id: string | null;
};
async function deliveries(channelId: string, query = ''): Promise<Delivery[]> {
  const res = await call('get', `/api/notification-channels/${channelId}/deliveries${query}`);
  expect(res.status).toBe(200);
  return res.body.deliveries;
}

const requestsTo = (path: string) => receiver.requests.filter((r) => r.url === path);

/** Appends events the way workers do (one transaction, announced on commit). */
async function emit(events: Partial<NewEvent>[]): Promise<void> {
  await withTransaction(ctx.pool, (tx) =>
    appendEvents(tx, events.map((e) => ({ type: 'state_changed', hostId: crypto.randomUUID(), hostName: 'h', hostGroup: null, ...e }))),
  );
}

/**
 * The decoded subject and the text parts of a MIME message as a mail client reads them: the
 * multipart/alternative split at its boundary, each part decoded by its transfer encoding.
 */
function parseMail(raw: string): { subject: string; parts: Record<string, string> } {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const subjectLine = /^Subject: (.*)$/m.exec(unfolded)?.[1] ?? '';
  const subject = subjectLine.replace(/=\?UTF-8\?([QB])\?([^?]*)\?=\s*/gi, (_m, enc: string, text: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQp(text.replace(/_/g, ' ')),
  );
  const boundary = /boundary="?([^";\r\n]+)"?/.exec(unfolded)?.[1];
  const parts: Record<string, string> = {};
  if (!boundary) return { subject, parts };
  for (const section of rest.join('\r\n\r\n').split(`--${boundary}`)) {
    const [partHead = '', ...body] = section.replace(/^\r?\n/, '').split(/\r?\n\r?\n/);
    const type = /Content-Type: ([^;\r\n]+)/i.exec(partHead)?.[1];
    if (!type) continue;
    const encoding = /Content-Transfer-Encoding: (\S+)/i.exec(partHead)?.[1]?.toLowerCase();
    const content = body.join('\r\n\r\n');
    const decoded = encoding === 'base64' ? Buffer.from(content.replace(/\s+/g, ''), 'base64').toString('utf8') : encoding === 'quoted-printable' ? decodeQp(content) : content;
    parts[type] = decoded.replace(/\r\n/g, '\n');
  }
  return { subject, parts };
}

function decodeQp(s: string): string {
  const bytes = s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

async function startCountingSilentTarget(): Promise<LoopbackTarget & { open: number; maxOpen: number }> {
  const sockets = new Set<net.Socket>();
  const state = { open: 0, maxOpen: 0 };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    state.open++;
    state.maxOpen = Math.max(state.maxOpen, state.open);
    socket.resume();
    socket.on('error', () => {});
    socket.once('close', () => {
      sockets.delete(socket);
      state.open--;
    });
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  return Object.assign(state, { port, url: `http://127.0.0.1:${port}`, close });
}

function failingHost(name: string, group: string, extra: Record<string, unknown> = {}) {
  return call('post', '/api/hosts', { name, address: '127.0.0.1', group, probes: [{ type: 'tcp', port: dead.port }], ...extra });
}

describe('channels and their messages, from real checks', () => {
  it('e-mails an incident over SMTP with a plain-text and an HTML part, logged with the SMTP reply', async () => {
    const channel = await createChannel({
      name: 'ops mail',
      type: 'email',
      config: { smtp_host: '127.0.0.1', smtp_port: smtpPort, security: 'none', username: SMTP_USER, password: SMTP_PASSWORD, from: 'vigil@example.test', to: ['oncall@example.test', 'lead@example.test'] },
    });
    await createRule({ name: 'mail incidents', channel_ids: [channel], event_types: ['incident_opened'], groups: ['mail'] });
    const host = await failingHost('mail-web-1', 'mail', { tags: ['prod'] });
    const mail = await waitFor('the e-mail', async () => smtp.mails.find((m) => m.raw.includes('mail-web-1')));
    expect(mail).toMatchObject({ from: 'vigil@example.test', to: ['oncall@example.test', 'lead@example.test'], user: SMTP_USER });
    const { subject, parts } = parseMail(mail.raw);
    expect(subject).toBe('[Vigil] DOWN: mail-web-1 (127.0.0.1) — incident opened');
    expect(Object.keys(parts).sort()).toEqual(['text/html', 'text/plain']);
    const text = parts['text/plain']!;
    const html = parts['text/html']!;
    expect(text).toMatch(/^DOWN: mail-web-1 \(127\.0\.0\.1\) — incident opened\n\nHost: mail-web-1\nAddress: 127\.0\.0\.1\nState: DOWN since \d{4}-/);
    for (const part of [text, html]) {
      expect(part).toContain('mail-web-1');
      expect(part).toContain('127.0.0.1');
      expect(part).toContain('DOWN since');
      expect(part).toContain('connection_refused');
      expect(part).toContain('mail');
      expect(part).toContain(`${PUBLIC_URL}/hosts/${host.body.id}`);
    }
    expect(html).toMatch(/<a href="https:\/\/vigil\.example\.test\/hosts\/[0-9a-f-]{36}">Open host in Vigil<\/a>/);
    const [logged] = await waitFor('the delivery logged', async () => {
      const list = await deliveries(channel);
      return list.length === 1 && list[0]!.status === 'delivered' && list;
    });
    expect(logged).toMatchObject({ kind: 'event', event_type: 'incident_opened', attempts: 1, last_status_code: 250, last_error: null });
    expect(logged!.latency_ms).toBeGreaterThan(0);
  });

  it('upgrades to TLS with STARTTLS when the channel asks for it, and refuses a server that cannot', async () => {
    const secureMails: { secure: boolean; raw: string }[] = [];
    const tlsSmtp = new SMTPServer({
      ...generateSelfSignedCert(),
      authOptional: true,
      logger: false,
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          secureMails.push({ secure: session.secure, raw: Buffer.concat(chunks).toString('utf8') });
          cb();
        });
      },
    });
    const port = await new Promise<number>((resolve) => tlsSmtp.listen(0, '127.0.0.1', () => resolve((tlsSmtp.server.address() as { port: number }).port)));
    try {
      const config = { smtp_host: '127.0.0.1', security: 'starttls', tls_verify: false, from: 'vigil@example.test', to: ['oncall@example.test'] };
      const tls = await createChannel({ name: 'tls mail', type: 'email', config: { ...config, smtp_port: port } });
      expect((await call('post', `/api/notification-channels/${tls}/test`)).body).toMatchObject({ delivered: true, status_code: 250 });
      expect(secureMails).toHaveLength(1);
      expect(secureMails[0]!.secure).toBe(true);
      expect(parseMail(secureMails[0]!.raw).subject).toBe('[Vigil] Test message from Vigil to channel "tls mail": delivery works');
      // The plain-text server of this file offers no STARTTLS: the channel refuses to send in clear.
      const plain = await createChannel({ name: 'no tls mail', type: 'email', config: { ...config, smtp_port: smtpPort } });
      const refused = await call('post', `/api/notification-channels/${plain}/test`);
      expect(refused.body).toMatchObject({ delivered: false, error: expect.stringMatching(/STARTTLS/i) });
    } finally {
      await new Promise<void>((resolve) => tlsSmtp.close(() => resolve()));
    }
  });

  it('posts Slack Block Kit, a Teams Adaptive Card and a signed webhook for the same state changes', async () => {
    const slack = await createChannel({ name: 'slack', type: 'slack', config: { url: `${receiver.url}/slack/services/${SLACK_TOKEN}` } });
    const teams = await createChannel({ name: 'teams', type: 'teams', config: { url: `${receiver.url}/teams/workflows/invoke?sig=${TEAMS_SIG}` } });
    const hook = await createChannel({ name: 'hook', type: 'webhook', config: { url: `${receiver.url}/hook`, secret: SIGNING_SECRET } });
    await createRule({ name: 'chat', channel_ids: [slack, teams, hook], event_types: ['state_changed'], states: ['CRITICAL'], groups: ['chat'] });
    const host = await failingHost('chat-db-1', 'chat');
    await waitFor('three channels delivered', async () => {
      const all = await Promise.all([slack, teams, hook].map((c) => deliveries(c)));
      return all.every((l) => l.length === 1 && l[0]!.status === 'delivered');
    });

    // Slack: https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks — text fallback and blocks.
    const [slackReq] = requestsTo(`/slack/services/${SLACK_TOKEN}`);
    expect(slackReq!.headers['content-type']).toBe('application/json');
    const s = JSON.parse(slackReq!.body);
    expect(s.text).toBe('chat-db-1 (127.0.0.1): DEGRADED → CRITICAL');
    expect(s.blocks.map((b: { type: string }) => b.type)).toEqual(['header', 'section', 'actions', 'context']);
    expect(s.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: s.text, emoji: false } });
    const fields = s.blocks[1].fields.map((f: { type: string; text: string }) => (expect(f.type).toBe('mrkdwn'), f.text));
    expect(fields).toEqual(expect.arrayContaining(['*Host*\nchat-db-1', '*Address*\n127.0.0.1', '*Group*\nchat', expect.stringMatching(/^\*State\*\nCRITICAL since \d{4}-/), expect.stringMatching(/^\*Last error\*\nconnection_refused: /)]));
    expect(s.blocks[1].fields.length).toBeLessThanOrEqual(10);
    expect(s.blocks[2].elements[0]).toMatchObject({ type: 'button', text: { type: 'plain_text' }, url: `${PUBLIC_URL}/hosts/${host.body.id}` });

    // Teams: a message with one Adaptive Card attachment (https://adaptivecards.io/explorer/).
    const t = JSON.parse(requestsTo(`/teams/workflows/invoke?sig=${TEAMS_SIG}`)[0]!.body);
    expect(t.type).toBe('message');
    expect(t.attachments).toHaveLength(1);
    expect(t.attachments[0]).toMatchObject({ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null });
    const card = t.attachments[0].content;
    expect(card).toMatchObject({ $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4' });
    expect(card.body[0]).toMatchObject({ type: 'TextBlock', text: 'chat-db-1 (127.0.0.1): DEGRADED → CRITICAL', wrap: true });
    expect(card.body[1].type).toBe('FactSet');
    expect(card.body[1].facts).toEqual(expect.arrayContaining([{ title: 'Host', value: 'chat-db-1' }, { title: 'Group', value: 'chat' }]));
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open host in Vigil', url: `${PUBLIC_URL}/hosts/${host.body.id}` }]);

    // The webhook channel: the event JSON every client gets, signed like /api/webhooks.
    const h = requestsTo('/hook')[0]!;
    const event = JSON.parse(h.body);
    expect(event).toMatchObject({ type: 'state_changed', from_state: 'DEGRADED', to_state: 'CRITICAL', host: { id: host.body.id, name: 'chat-db-1', group: 'chat' } });
    expect(h.headers['vigil-event-id']).toBe(event.id);
    expect(h.headers['vigil-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  });

  it('pages PagerDuty: trigger, acknowledge, resolve with the incident fingerprint as one dedup_key', async () => {
    const pd = await createChannel({ name: 'pd', type: 'pagerduty', config: { routing_key: ROUTING_KEY, events_url: `${receiver.url}/pagerduty/v2/enqueue` } });
    await createRule({ name: 'page', channel_ids: [pd], groups: ['pd'] });
    const host = await failingHost('pd-app-1', 'pd');
    const incident = await waitFor('the incident', async () => (await call('get', `/api/incidents?host_id=${host.body.id}`)).body.incidents?.[0]);
    await waitFor('the trigger', async () => requestsTo('/pagerduty/v2/enqueue').length >= 1);
    expect((await call('post', `/api/incidents/${incident.id}/acknowledge`)).status).toBe(200);
    await waitFor('the acknowledge', async () => requestsTo('/pagerduty/v2/enqueue').length >= 2);
    // The host comes back: three successes make it HEALTHY and resolve the incident.
    expect((await call('patch', `/api/hosts/${host.body.id}`, { probes: [{ type: 'tcp', port: alive.port }] })).status).toBe(200);
    await waitFor('the resolve', async () => requestsTo('/pagerduty/v2/enqueue').length >= 3, 20_000);

    const sent = requestsTo('/pagerduty/v2/enqueue').map((r) => JSON.parse(r.body));
    const { rows } = await ctx.pool.query<{ fingerprint: string }>(`SELECT fingerprint FROM incidents WHERE id = $1`, [incident.id]);
    expect(sent.map((e) => e.event_action)).toEqual(['trigger', 'acknowledge', 'resolve']);
    for (const e of sent) expect(e).toMatchObject({ routing_key: ROUTING_KEY, dedup_key: rows[0]!.fingerprint });
    // https://developer.pagerduty.com/docs/events-api-v2/trigger-events/: payload.summary, source and severity are required.
    expect(sent[0].payload).toMatchObject({
      summary: 'DOWN: pd-app-1 (127.0.0.1) — incident opened',
      source: '127.0.0.1',
      severity: 'critical',
      component: 'pd-app-1',
      group: 'pd',
      class: 'connection_refused',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(sent[0].links).toEqual([{ href: `${PUBLIC_URL}/hosts/${host.body.id}`, text: 'pd-app-1 in Vigil' }]);
    expect(Object.keys(sent[1]).sort()).toEqual(['dedup_key', 'event_action', 'routing_key']);
    expect(Object.keys(sent[2]).sort()).toEqual(['dedup_key', 'event_action', 'routing_key']);
  });
});

describe('rules', () => {
  it('keeps quiet for a host in maintenance and logs why', async () => {
    const channel = await createChannel({ name: 'maint', type: 'slack', config: { url: `${receiver.url}/maintenance` } });
    await createRule({ name: 'maint', channel_ids: [channel], groups: ['maint'] });
    const own = await failingHost('maint-own', 'maint', { maintenance: true });
    const viaGroup = await call('post', '/api/hosts', { name: 'maint-group', address: '10.9.9.9', group: 'maint', probes: [{ type: 'tcp', port: dead.port }], enabled: false });
    await ctx.pool.query(`INSERT INTO host_groups (name, maintenance) VALUES ('maint', true) ON CONFLICT (name) DO UPDATE SET maintenance = true`);
    await emit([
      { type: 'incident_opened', hostId: own.body.id, hostName: 'maint-own', hostGroup: 'maint', fromState: 'CRITICAL', toState: 'DOWN' },
      { type: 'state_changed', hostId: viaGroup.body.id, hostName: 'maint-group', hostGroup: 'maint', fromState: 'HEALTHY', toState: 'DEGRADED' },
    ]);
    const log = await waitFor('both logged', async () => {
      const list = await deliveries(channel);
      return list.length === 2 && list;
    });
    expect(log.map((d) => [d.status, d.last_error])).toEqual([
      ['suppressed', 'host in maintenance'],
      ['suppressed', 'host in maintenance'],
    ]);
    // Out of maintenance, the next event is sent.
    await ctx.pool.query(`UPDATE host_groups SET maintenance = false WHERE name = 'maint'`);
    await emit([{ type: 'state_changed', hostId: viaGroup.body.id, hostName: 'maint-group', hostGroup: 'maint', fromState: 'DEGRADED', toState: 'CRITICAL' }]);
    await waitFor('the third delivered', async () => (await deliveries(channel))[0]?.status === 'delivered');
    expect(requestsTo('/maintenance')).toHaveLength(1);
    expect(JSON.parse(requestsTo('/maintenance')[0]!.body).text).toContain('maint-group');
  });

  it('does not send the same message twice within the cooldown, and re-notifies an open incident until it is acknowledged', async () => {
    const channel = await createChannel({ name: 'cool', type: 'slack', config: { url: `${receiver.url}/cooldown` } });
    await createRule({ name: 'cool', channel_ids: [channel], groups: ['cool'], event_types: ['state_changed', 'incident_opened'], cooldown_seconds: 600, renotify_seconds: 2 });
    const host = await failingHost('cool-1', 'cool', { enabled: false });
    const incidentId = crypto.randomUUID();
    await ctx.pool.query(
      `INSERT INTO incidents (id, host_id, fingerprint, status, trigger_state, current_state, opened_at, updated_at, last_error_type, last_error_message)
       VALUES ($1, $2, $3, 'open', 'DOWN', 'DOWN', now(), now(), 'timeout', 'no answer within 2000 ms')`,
      [incidentId, host.body.id, `host:${host.body.id}:down`],
    );
    const flap = { type: 'state_changed' as const, hostId: host.body.id, hostName: 'cool-1', hostGroup: 'cool' };
    await emit([
      { ...flap, fromState: 'HEALTHY', toState: 'DEGRADED' },
      { ...flap, fromState: 'DEGRADED', toState: 'HEALTHY' },
      { ...flap, fromState: 'HEALTHY', toState: 'DEGRADED' },
      { type: 'incident_opened', hostId: host.body.id, hostName: 'cool-1', hostGroup: 'cool', fromState: 'CRITICAL', toState: 'DOWN', incidentId },
    ]);
    const first = await waitFor('four logged', async () => {
      const list = await deliveries(channel);
      return list.length >= 4 && list;
    });
    expect(first.slice(-4).reverse().map((d) => [d.event_type, d.status, d.last_error])).toEqual([
      ['state_changed', expect.stringMatching(/pending|delivered/), null],
      ['state_changed', expect.stringMatching(/pending|delivered/), null],
      ['state_changed', 'suppressed', 'same message sent within the rule cooldown'],
      ['incident_opened', expect.stringMatching(/pending|delivered/), null],
    ]);
    // Every 2 s while open and unacknowledged: a reminder.
    const reminders = await waitFor('two reminders', async () => {
      const list = (await deliveries(channel)).filter((d) => d.kind === 'renotify');
      return list.length >= 2 && list;
    }, 20_000);
    expect(reminders[0]).toMatchObject({ incident_id: incidentId, title: expect.stringMatching(/^Still DOWN: cool-1 \(127\.0\.0\.1\), incident open since /) });
    const bodies = requestsTo('/cooldown').map((r) => JSON.parse(r.body).text as string);
    expect(bodies.filter((t) => t.startsWith('Still DOWN: cool-1')).length).toBeGreaterThanOrEqual(1);
    // Acknowledged: no more reminders.
    expect((await call('post', `/api/incidents/${incidentId}/acknowledge`)).status).toBe(200);
    const countAfterAck = (await deliveries(channel)).filter((d) => d.kind === 'renotify').length;
    const waitedUntil = Date.now() + 4000;
    await waitFor('4 s to pass', async () => Date.now() > waitedUntil, 10_000, 200);
    expect((await deliveries(channel)).filter((d) => d.kind === 'renotify').length).toBeLessThanOrEqual(countAfterAck + 1);
  });

  it('sums up a storm of hundreds of failing hosts in one digest instead of hundreds of messages', async () => {
    const channel = await createChannel({ name: 'storm', type: 'slack', config: { url: `${receiver.url}/storm` }, rate_limit_per_minute: 5 });
    await createRule({ name: 'storm', channel_ids: [channel], event_types: ['incident_opened'], groups: ['storm-a', 'storm-b'] });
    const events = Array.from({ length: 300 }, (_, i) => ({
      type: 'incident_opened' as const, hostName: `storm-${i}`, hostGroup: i % 3 === 0 ? 'storm-b' : 'storm-a', fromState: 'CRITICAL', toState: 'DOWN', incidentId: crypto.randomUUID(),
    }));
    await emit(events);
    const digest = await waitFor('the digest delivered', async () => (await deliveries(channel, '?limit=500')).find((d) => d.kind === 'digest' && d.status === 'delivered'), 20_000);
    const log = await deliveries(channel, '?limit=500');
    const count = (status: string) => log.filter((d) => d.kind === 'event' && d.status === status).length;
    expect(count('delivered') + count('pending')).toBe(5);
    expect(count('digested')).toBe(295);
    expect(log.filter((d) => d.kind === 'digest')).toHaveLength(1);
    expect(log.filter((d) => d.status === 'digested').every((d) => d.digest_id === digest.id)).toBe(true);
    expect(digest.title).toBe('Vigil summary: 295 notifications held by the rate limit (295 incident opened)');
    await waitFor('all sent', async () => requestsTo('/storm').length >= 6);
    expect(requestsTo('/storm')).toHaveLength(6);
    // The five go out one at a time and may still be going when the digest is sent: find it by its text.
    const summaries = requestsTo('/storm').map((r) => JSON.parse(r.body)).filter((b) => b.text.startsWith('Vigil summary'));
    expect(summaries).toHaveLength(1);
    const summary = summaries[0];
    expect(summary.text).toBe(digest.title);
    expect(JSON.stringify(summary.blocks)).toContain('*By group*\\nstorm-a: 197, storm-b: 98');
    expect(JSON.stringify(summary.blocks)).toContain('…and 275 more');
  });
});

describe('a real storm', () => {
  it('sends the first messages and then summaries when 200 checked hosts go DOWN together', async () => {
    const channel = await createChannel({ name: 'real storm', type: 'slack', config: { url: `${receiver.url}/storm` }, rate_limit_per_minute: 5 });
    await createRule({ name: 'real storm', channel_ids: [channel], event_types: ['incident_opened'], tags: ['core-switch-7'] });
    const before = requestsTo('/storm').length;
    // More check slots, so 200 hosts fail within seconds of each other, as behind a dead switch.
    await ctx.start(['worker'], { VIGIL_WORKER_CONCURRENCY: '100' });
    const hosts = Array.from({ length: 200 }, (_, i) => ({ name: `edge-${i}`, address: '127.0.0.1', tags: ['core-switch-7'], probes: [{ type: 'tcp', port: dead.port }] }));
    expect((await call('post', '/api/hosts/bulk', { hosts })).status).toBe(200);
    const log = await waitFor('every incident notified or summed up, and every digest sent', async () => {
      const list = await deliveries(channel, '?limit=500');
      const events = list.filter((d) => d.kind === 'event');
      const digests = list.filter((d) => d.kind === 'digest');
      return events.length === 200 && digests.length > 0 && digests.every((d) => d.status === 'delivered') && events.every((d) => d.status !== 'held') && list;
    }, 60_000);
    const sentAlone = log.filter((d) => d.kind === 'event' && (d.status === 'delivered' || d.status === 'pending'));
    const digests = log.filter((d) => d.kind === 'digest');
    expect(sentAlone).toHaveLength(5);
    expect(log.filter((d) => d.status === 'digested')).toHaveLength(195);
    // At most one summary per digest period (2 s here) while incidents keep opening.
    const times = log.filter((d) => d.kind === 'event').map((d) => Date.parse(d.created_at));
    const spanSeconds = (Math.max(...times) - Math.min(...times)) / 1000;
    expect(digests.length).toBeLessThanOrEqual(Math.ceil(spanSeconds / 2) + 1);
    expect(5 + digests.length).toBeLessThan(200 / 4);
    const summed = digests.map((d) => Number(/summary: (\d+) notifications/.exec(d.title)?.[1]));
    expect(summed.reduce((a, b) => a + b, 0)).toBe(195);
    await waitFor('every message received', async () => requestsTo('/storm').length - before >= 5 + digests.length);
    expect(requestsTo('/storm').length - before).toBe(5 + digests.length);
  }, 120_000);
});

describe('delivery', () => {
  it('retries a channel that answers 500 and delivers on the next attempt', async () => {
    flakyAnswers.push(500);
    const channel = await createChannel({ name: 'flaky', type: 'teams', config: { url: `${receiver.url}/flaky` } });
    await createRule({ name: 'flaky', channel_ids: [channel], groups: ['flaky'] });
    await emit([{ type: 'state_changed', hostName: 'flaky-1', hostGroup: 'flaky', fromState: 'HEALTHY', toState: 'DEGRADED' }]);
    const [d] = await waitFor('delivered on retry', async () => {
      const list = await deliveries(channel);
      return list[0]?.status === 'delivered' && list;
    });
    expect(d).toMatchObject({ attempts: 2, last_status_code: 200, last_error: null });
    expect(requestsTo('/flaky')).toHaveLength(2);
    const metrics = await ctx.vigil.http().get('/metrics');
    expect(metrics.text).toMatch(/vigil_notification_deliveries_total\{channel_type="teams",result="retrying"\} [1-9]/);
    expect(metrics.text).toMatch(/vigil_notification_deliveries_total\{channel_type="teams",result="delivered"\} [1-9]/);
    expect(ctx.vigil.transport.entries.some((e) => e.message === 'notification failed; will retry' && e.channel_id === channel)).toBe(true);
  });

  it('keeps checking on schedule and serving other channels while one channel hangs', async () => {
    const hanging = await createChannel({ name: 'hanging', type: 'slack', config: { url: `${silent.url!}/slack` } });
    const fast = await createChannel({ name: 'fast', type: 'slack', config: { url: `${receiver.url}/fast` } });
    await createRule({ name: 'hang', channel_ids: [hanging], groups: ['hang'] });
    await createRule({ name: 'fast', channel_ids: [fast], groups: ['fast'] });
    // Many messages for the hanging channel first, so a shared pool of slots would be full of them.
    await emit(Array.from({ length: 12 }, (_, i) => ({ type: 'state_changed' as const, hostName: `hang-${i}`, hostGroup: 'hang', fromState: 'HEALTHY', toState: 'DEGRADED' })));
    const since = new Date();
    const host = await failingHost('fast-1', 'fast');
    const served = await waitFor('the fast channel served', async () => {
      const list = (await deliveries(fast)).filter((d) => d.status === 'delivered');
      return list.length >= 3 && list;
    });
    // The fast channel may well be served before the hanging one's first attempt times out (1 s).
    await waitFor('the hanging channel timed out', async () => (await deliveries(hanging)).some((d) => d.last_error === 'no answer within 1000 ms'));
    // The hanging channel had one slot at a time; the fast one's messages did not queue behind its
    // 12 (with their retries, 36 s of waiting on 4 shared slots would have held them for up to 9 s).
    expect(silent.maxOpen).toBe(1);
    for (const d of served) expect(Date.parse(d.delivered_at!) - Date.parse(d.created_at)).toBeLessThan(4000);
    // The host was checked every interval (0.3 s) all along.
    const { rows } = await ctx.pool.query<{ lag: number | null }>(
      `SELECT schedule_lag_ms AS lag FROM host_monitoring_history WHERE host_id = $1 AND check_time > $2 AND checked_by = 'scheduler'`,
      [host.body.id, since],
    );
    const elapsedSeconds = (Date.now() - since.getTime()) / 1000;
    expect(rows.length).toBeGreaterThanOrEqual(Math.floor(elapsedSeconds / 1.2));
    expect(rows.every((r) => r.lag !== null && r.lag < 1000)).toBe(true);
  });
});

describe('retention', () => {
  it('prunes finished deliveries past VIGIL_NOTIFY_DELIVERY_RETENTION_DAYS and keeps pending and held ones', async () => {
    const channel = await createChannel({ name: 'old', type: 'slack', config: { url: `${receiver.url}/fast` } });
    await ctx.pool.query(
      `INSERT INTO notification_deliveries (channel_id, kind, message_key, message, status, created_at)
       SELECT $1, 'event', 'k', '{"title":"old"}', s, now() - interval '3 days'
         FROM unnest(ARRAY['delivered', 'failed', 'suppressed', 'digested', 'pending', 'held']) AS s`,
      [channel],
    );
    await ctx.pool.query(`INSERT INTO notification_deliveries (channel_id, kind, message_key, message, status) VALUES ($1, 'event', 'k', '{"title":"new"}', 'delivered')`, [channel]);
    const day = 24 * 3600 * 1000;
    const pruned = await pruneBoundedTables(ctx.pool, { ...ctx.vigil.config.retention, notificationDeliveriesMs: 2 * day }, new Date());
    expect(pruned.notification_deliveries).toBe(4);
    const left = await ctx.pool.query<{ status: string; title: string }>(`SELECT status, message->>'title' AS title FROM notification_deliveries WHERE channel_id = $1 ORDER BY id`, [channel]);
    expect(left.rows).toEqual([
      { status: 'pending', title: 'old' },
      { status: 'held', title: 'old' },
      { status: 'delivered', title: 'new' },
    ]);
  });
});

describe('the API', () => {
  it('tests a channel synchronously and reports failures plainly', async () => {
    const good = await createChannel({ name: 'good', type: 'slack', config: { url: `${receiver.url}/fast` } });
    const wrong = await createChannel({ name: 'wrong', type: 'slack', config: { url: `${receiver.url}/no-such-hook` } });
    const refused = await createChannel({ name: 'refused', type: 'teams', config: { url: dead.url! } });
    const ok = await call('post', `/api/notification-channels/${good}/test`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ delivered: true, status_code: 200, error: null });
    expect(JSON.parse(requestsTo('/fast').at(-1)!.body).text).toBe('Test message from Vigil to channel "good": delivery works');
    expect((await call('post', `/api/notification-channels/${wrong}/test`)).body).toMatchObject({ delivered: false, status_code: 404, error: 'HTTP 404' });
    expect((await call('post', `/api/notification-channels/${refused}/test`)).body).toMatchObject({ delivered: false, status_code: null, error: expect.stringMatching(/ECONNREFUSED/) });
    expect((await deliveries(good))[0]).toMatchObject({ kind: 'test', status: 'delivered', attempts: 1 });
  });

  it('never shows a secret: not in answers, logs, the delivery log or the stored settings', async () => {
    const email = await createChannel({
      name: 'secret mail',
      type: 'email',
      config: { smtp_host: '127.0.0.1', smtp_port: smtpPort, security: 'none', username: SMTP_USER, password: SMTP_PASSWORD, from: 'v@example.test', to: ['o@example.test'] },
    });
    const slack = await createChannel({ name: 'secret slack', type: 'slack', config: { url: `${receiver.url}/slack/services/${SLACK_TOKEN}` } });
    const pd = await createChannel({ name: 'secret pd', type: 'pagerduty', config: { routing_key: ROUTING_KEY, events_url: `${receiver.url}/pagerduty/v2/enqueue` } });
    const shown = (await call('get', `/api/notification-channels/${email}`)).body;
    expect(shown).toMatchObject({ type: 'email', secrets_set: ['password'], config: { username: SMTP_USER, smtp_port: smtpPort } });
    expect(shown.config.password).toBeUndefined();
    expect((await call('get', `/api/notification-channels/${slack}`)).body).toMatchObject({ secrets_set: ['url'], config: {} });
    // A wrong password: the SMTP server's refusal is logged, the password is not.
    expect((await call('patch', `/api/notification-channels/${email}`, { config: { password: 'wrong-password-0000' } })).status).toBe(200);
    const refusedLogin = await call('post', `/api/notification-channels/${email}/test`);
    expect(refusedLogin.body).toMatchObject({ delivered: false, error: expect.stringMatching(/Invalid/) });
    expect((await call('patch', `/api/notification-channels/${email}`, { config: { password: SMTP_PASSWORD } })).status).toBe(200);
    expect((await call('post', `/api/notification-channels/${email}/test`)).body).toMatchObject({ delivered: true, status_code: 250 });
    // A PATCH keeps secrets it does not name; a bad field is named.
    expect((await call('patch', `/api/notification-channels/${pd}`, { config: { severity: 'warning' } })).body).toMatchObject({ secrets_set: ['routing_key'], config: { severity: 'warning' } });
    const bad = await call('patch', `/api/notification-channels/${pd}`, { config: { severity: 'loud' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('body.config.severity');
    await createRule({ name: 'secrets', channel_ids: [email, slack, pd], groups: ['secrets'] });
    await emit([{ type: 'incident_opened', hostName: 'secret-host', hostGroup: 'secrets', fromState: 'CRITICAL', toState: 'DOWN', incidentId: crypto.randomUUID() }]);
    await waitFor('all three delivered', async () => {
      const all = await Promise.all([email, slack, pd].map((c) => deliveries(c)));
      return all.every((l) => l.some((d) => d.kind === 'event' && d.status === 'delivered'));
    });
    await call('get', '/api/notification-channels');
    for (const c of [email, slack, pd]) await deliveries(c);
    const answers = ctx.vigil.answers.join('\n');
    const logs = JSON.stringify(ctx.vigil.transport.entries);
    const stored = JSON.stringify((await ctx.pool.query(`SELECT settings, message, last_error FROM notification_channels c JOIN notification_deliveries d ON d.channel_id = c.id`)).rows);
    for (const secret of SECRETS) {
      expect(answers, secret).not.toContain(secret);
      expect(logs, secret).not.toContain(secret);
      expect(stored, secret).not.toContain(secret);
    }
  });

  it('refuses bad channels and rules with the field named', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'x', type: 'slack', config: { url: 'ftp://example.com' } }, 'body.config.url'],
      [{ name: 'x', type: 'email', config: { smtp_host: 'mail', from: 'nope', to: ['a@example.test'] } }, 'body.config.from'],
      [{ name: 'x', type: 'pagerduty', config: { routing_key: 'short' } }, 'body.config.routing_key'],
      [{ name: 'x', type: 'sms', config: {} }, 'body.type'],
    ];
    for (const [body, field] of cases) {
      const res = await call('post', '/api/notification-channels', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    const missing = await call('post', '/api/notification-rules', { name: 'r', channel_ids: [crypto.randomUUID()] });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].field).toBe('body.channel_ids');
    const channel = await createChannel({ name: 'dup', type: 'slack', config: { url: `${receiver.url}/fast` } });
    expect((await call('post', '/api/notification-channels', { name: 'dup', type: 'slack', config: { url: `${receiver.url}/fast` } })).status).toBe(409);
    const rule = await createRule({ name: 'r1', channel_ids: [channel], renotify_seconds: 60 });
    expect((await call('patch', `/api/notification-rules/${rule}`, { renotify_seconds: null, tags: ['prod'] })).body).toMatchObject({ renotify_seconds: null, tags: ['prod'], channel_ids: [channel] });
    expect((await call('delete', `/api/notification-channels/${channel}`)).status).toBe(204);
    expect((await call('get', `/api/notification-rules/${rule}`)).body.channel_ids).toEqual([]);
  });
});
