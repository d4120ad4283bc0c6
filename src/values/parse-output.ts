/**
 * Pure parsers: a command's output or a JSON body to numbers. Regular expressions go through RE2
 * (linear time: a target's output cannot stall the worker), JSON paths are walked step by step
 * (no evaluation of any kind).
 */
import { RE2JS } from 're2js';
import type { SshItem } from './items.ts';
import { toNumber } from './samples.ts';

export interface ParsedValue {
  row: string | null;
  value: number;
}

/** The numbers `parser` reads from `text`, or why there is none. */
export function parseOutput(text: string, parser: SshItem['parser']): ParsedValue[] | string {
  switch (parser.kind) {
    case 'regex':
      return parseRegex(text, parser.pattern);
    case 'key_value':
      return parseKeyValue(text, parser.key);
    case 'json':
      return parseJsonAt(text, parser.path);
  }
}

function parseRegex(text: string, pattern: string): ParsedValue[] | string {
  const matcher = RE2JS.compile(pattern, RE2JS.MULTILINE).matcher(text);
  if (!matcher.find()) return `no match for /${pattern}/`;
  const captured = matcher.groupCount() >= 1 ? matcher.group(1) : matcher.group(0);
  const value = toNumber(captured);
  return value === null ? `/${pattern}/ captured ${JSON.stringify(String(captured).slice(0, 40))}, not a number` : [{ row: null, value }];
}

/** `key value` lines; a key may end with a colon (/proc/meminfo) and a value with a unit or % (kB, 42%). */
function parseKeyValue(text: string, key: string | undefined): ParsedValue[] | string {
  const values: ParsedValue[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(\S+?):?\s+([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)%?(?:\s+\S+)?\s*$/.exec(line);
    if (!match) continue;
    if (key === undefined) values.push({ row: match[1]!, value: Number(match[2]) });
    else if (match[1] === key) return [{ row: null, value: Number(match[2]) }];
  }
  if (key !== undefined) return `no line "${key} <number>" in the output`;
  return values.length > 0 ? values : 'no "key value" line in the output';
}

/** The number at `path` ($.a.b[0]['c']) in a JSON text. */
export function parseJsonAt(text: string, path: string): ParsedValue[] | string {
  let node: unknown;
  try {
    node = JSON.parse(text);
  } catch {
    return 'output is not JSON';
  }
  for (const step of pathSteps(path)) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, step)) return `nothing at ${path}`;
    node = (node as Record<string, unknown>)[step];
  }
  const value = toNumber(node);
  return value === null ? `${path} is not a number` : [{ row: null, value }];
}

function pathSteps(path: string): string[] {
  return [...path.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_-]*)|\['([^']*)'\]|\[(\d+)\]/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}
