import type { HostState } from '../machine/states.ts';

/** Badge colours (white text passes WCAG AA on each) and the word shown: state is never colour alone. */
const LOOK: Record<HostState, { colour: string; word: string }> = {
  HEALTHY: { colour: '#1f7a3a', word: 'healthy' },
  DEGRADED: { colour: '#8a4b00', word: 'degraded' },
  CRITICAL: { colour: '#b3390a', word: 'critical' },
  DOWN: { colour: '#b91c1c', word: 'down' },
  UNREACHABLE: { colour: '#4b5563', word: 'unreachable' },
};
const LABEL_COLOUR = '#444d56';
/** Average advance of an 11 px Verdana character, in px: close enough to size the boxes. */
const CHAR_WIDTH = 7;
const MAX_LABEL_CHARS = 40;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A shields.io-style badge: the host's name on the left, its state (word and colour) on the right. */
export function renderBadge(name: string, state: HostState): string {
  const label = name.length > MAX_LABEL_CHARS ? `${name.slice(0, MAX_LABEL_CHARS - 1)}…` : name;
  const { colour, word } = LOOK[state];
  const left = label.length * CHAR_WIDTH + 12;
  const right = word.length * CHAR_WIDTH + 12;
  const width = left + right;
  const title = escapeXml(`${label}: ${word}`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="20" role="img" aria-label="${title}"><title>${title}</title>` +
    `<rect width="${left}" height="20" fill="${LABEL_COLOUR}"/><rect x="${left}" width="${right}" height="20" fill="${colour}"/>` +
    `<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">` +
    `<text x="${left / 2}" y="14">${escapeXml(label)}</text><text x="${left + right / 2}" y="14">${word}</text></g></svg>`;
}
