import { styleText } from 'node:util';

/** How results are printed: aligned tables and words for people, JSON for scripts. */
export const OUTPUTS = ['table', 'json'] as const;
export type Output = (typeof OUTPUTS)[number];

type Style = Parameters<typeof styleText>[0];

/** State colours; the state is always printed as a word too, so colour is never the only signal. */
const STATE_STYLE: Record<string, Style> = { HEALTHY: 'green', DEGRADED: 'yellow', CRITICAL: 'red', DOWN: ['red', 'bold'], UNREACHABLE: 'gray' };

/**
 * Colours only where a terminal shows them: styleText checks that stdout is a TTY and honours
 * NO_COLOR / FORCE_COLOR, so pipes and files get plain text.
 */
export function paint(style: Style, text: string): string {
  return styleText(style, text, { stream: process.stdout });
}

export const paintState = (state: string) => (STATE_STYLE[state] ? paint(STATE_STYLE[state], state) : state);

/** Visible width: ANSI colour codes take no room. */
const width = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;

/** Rows under a header, columns padded to their widest cell. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c)))).join('  ').trimEnd();
  return [line(header.map((h) => paint('bold', h))), ...rows.map(line)].join('\n');
}

/** `key: value` lines, keys aligned. */
export function formatFields(fields: [string, string][]): string {
  const w = Math.max(...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints `value` as JSON or, for people, as `human(value)`. */
export function print<T>(output: Output, value: T, human: (v: T) => string): void {
  if (output === 'json') printJson(value);
  else process.stdout.write(`${human(value)}\n`);
}

export const dash = (v: string | number | null | undefined) => (v === null || v === undefined || v === '' ? '-' : String(v));
export const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${Math.round(v * 10) / 10} ms`);
