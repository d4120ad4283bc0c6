import { linkOf, messageFacts, type NotificationMessage } from './message.ts';

/** An e-mail's subject and its two parts: plain text for every client, HTML for the rest. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** A subject is one line: no header injection from a host name or error message. */
const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ').slice(0, 200);

export function renderEmail(m: NotificationMessage): RenderedEmail {
  const facts = messageFacts(m);
  const link = linkOf(m);
  const hosts = m.digest?.hosts ?? [];
  const more = m.digest && m.digest.count > hosts.length ? m.digest.count - hosts.length : 0;
  const text = [
    m.title,
    '',
    ...facts.map(([label, value]) => `${label}: ${value}`),
    ...(hosts.length > 0 ? ['', 'Hosts:', ...hosts.map((h) => `- ${h.name} ${h.state ?? ''} ${h.url}`), ...(more > 0 ? [`...and ${more} more`] : [])] : []),
    '',
    `Open: ${link}`,
    '',
    '-- ',
    'Sent by Vigil',
  ].join('\n');
  const rows = facts.map(([label, value]) => `<tr><th align="left" style="padding:2px 12px 2px 0">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('');
  const hostList =
    hosts.length > 0
      ? `<ul>${hosts.map((h) => `<li><a href="${escapeHtml(h.url)}">${escapeHtml(h.name)}</a> ${escapeHtml(h.state ?? '')}</li>`).join('')}${more > 0 ? `<li>…and ${more} more</li>` : ''}</ul>`
      : '';
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<h2>${escapeHtml(m.title)}</h2>
<table>${rows}</table>${hostList}
<p><a href="${escapeHtml(link)}">${m.host ? 'Open host in Vigil' : 'Open Vigil'}</a></p>
<p style="color:#666;font-size:small">Sent by Vigil</p>
</body></html>`;
  return { subject: `[Vigil] ${oneLine(m.title)}`, text, html };
}
