import { linkOf, messageFacts, type NotificationMessage } from './message.ts';

/**
 * Slack and Microsoft Teams messages. Both are JSON POSTed to a webhook URL, in each service's
 * documented layout: Slack's Block Kit (https://docs.slack.dev/block-kit/) with a `text` fallback
 * for notifications, and an Adaptive Card (https://adaptivecards.io, schema 1.4, what Teams
 * workflows render) wrapped in a message attachment.
 */

/** Slack limits: header text 150 characters, section text 3000, at most 10 fields of 2000. */
const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);
/** Slack mrkdwn treats &, < and > as control characters. */
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderSlack(m: NotificationMessage) {
  const facts = messageFacts(m).slice(0, 10);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(m.title, 150), emoji: false } },
    { type: 'section', fields: facts.map(([label, value]) => ({ type: 'mrkdwn', text: clip(`*${label}*\n${slackEscape(value)}`, 2000) })) },
  ];
  if (m.digest && m.digest.hosts.length > 0) {
    const lines = m.digest.hosts.map((h) => `• <${h.url}|${slackEscape(h.name)}> ${h.state ?? ''}${h.group ? ` (${slackEscape(h.group)})` : ''}`);
    const more = m.digest.count > m.digest.hosts.length ? `\n…and ${m.digest.count - m.digest.hosts.length} more` : '';
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n') + more, 3000) } });
  }
  blocks.push({
    type: 'actions',
    elements: [{ type: 'button', text: { type: 'plain_text', text: m.host ? 'Open host in Vigil' : 'Open Vigil' }, url: linkOf(m) }],
  });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: contextLine(m) }] });
  return { text: clip(m.title, 3000), blocks };
}

export function renderTeams(m: NotificationMessage) {
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', text: m.title, weight: 'Bolder', size: 'Medium', wrap: true, style: 'heading' },
    { type: 'FactSet', facts: messageFacts(m).map(([title, value]) => ({ title, value })) },
  ];
  if (m.digest && m.digest.hosts.length > 0) {
    const more = m.digest.count > m.digest.hosts.length ? ` …and ${m.digest.count - m.digest.hosts.length} more` : '';
    body.push({ type: 'TextBlock', text: m.digest.hosts.map((h) => `- [${h.name}](${h.url}) ${h.state ?? ''}`).join('\n') + more, wrap: true });
  }
  body.push({ type: 'TextBlock', text: contextLine(m), isSubtle: true, size: 'Small', wrap: true });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body,
          actions: [{ type: 'Action.OpenUrl', title: m.host ? 'Open host in Vigil' : 'Open Vigil', url: linkOf(m) }],
        },
      },
    ],
  };
}

function contextLine(m: NotificationMessage): string {
  if (m.kind === 'test') return 'Vigil test message';
  if (m.kind === 'digest') return 'Vigil: this channel is over its rate limit; the notifications above were summed up';
  if (m.kind === 'renotify') return 'Vigil reminder: the incident is still open and not acknowledged';
  return `Vigil event ${m.event?.id ?? ''} (${m.event?.type ?? ''}) at ${m.event?.occurred_at ?? ''}`;
}
