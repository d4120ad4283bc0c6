/**
 * Issue 13: no regular expression from configuration may stall a worker. Every pattern field any
 * API caller can set (probes, HTTP and SNMP-table conditions, value items) is length-capped, refuses
 * what RE2 cannot run in linear time (lookaround, backreferences) naming the field, and matches a
 * catastrophic pattern against large target text without backtracking. The evaluations below would
 * not finish on a backtracking engine: `(a+)+$` against a MiB of `a` followed by `b`.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { evaluateConditions } from '../../src/probes/http-conditions.ts';
import { httpProbeSchema } from '../../src/probes/http.ts';
import { sshProbeSchema } from '../../src/probes/ssh.ts';
import { snmpTableProbeSchema } from '../../src/probes/snmp-table.ts';
import { parseOutput } from '../../src/values/parse-output.ts';
import { sshItemSchema } from '../../src/values/items.ts';

const CREDENTIAL = '6f0c1a8e-3b1f-4d7e-9a55-0c2f4b8d1e77';
const COLUMN = '1.3.6.1.2.1.2.2.1.2';

/** Each pattern field: the schema, a config holding the pattern, and the path zod names. */
const FIELDS: [string, z.ZodType, (pattern: string) => unknown, string][] = [
  ['http body_regex', httpProbeSchema, (p) => ({ type: 'http', url: 'http://target.example/', body_regex: p }), 'body_regex'],
  ['ssh expect_output_regex', sshProbeSchema, (p) => ({ type: 'ssh', credential_id: CREDENTIAL, command: 'uptime', expect_output_regex: p }), 'expect_output_regex'],
  ['http header condition', httpProbeSchema, (p) => ({ type: 'http', url: 'http://target.example/', conditions: [{ kind: 'header', name: 'server', matches: p }] }), 'conditions.0.matches'],
  ['http json matches condition', httpProbeSchema, (p) => ({ type: 'http', url: 'http://target.example/', conditions: [{ kind: 'json', path: '$.status', op: 'matches', value: p }] }), 'conditions.0.value'],
  [
    'snmp-table row filter',
    snmpTableProbeSchema,
    (p) => ({ type: 'snmp-table', credential_id: CREDENTIAL, columns: { descr: COLUMN }, row_conditions: [{ kind: 'every_row', column: 'descr', equals: 'x', where: { column: 'descr', matches: p } }] }),
    'row_conditions.0.where.matches',
  ],
  [
    'snmp-table every_row matches',
    snmpTableProbeSchema,
    (p) => ({ type: 'snmp-table', credential_id: CREDENTIAL, columns: { descr: COLUMN }, row_conditions: [{ kind: 'every_row', column: 'descr', matches: p }] }),
    'row_conditions.0.matches',
  ],
  ['value item regex parser', sshItemSchema, (p) => ({ source: 'ssh', name: 'load', command: 'cat /proc/loadavg', parser: { kind: 'regex', pattern: p } }), 'parser.pattern'],
];

function issuesAt(schema: z.ZodType, config: unknown, path: string): string[] {
  const parsed = schema.safeParse(config);
  return parsed.success ? [] : parsed.error.issues.filter((i) => i.path.join('.') === path).map((i) => i.message);
}

describe.each(FIELDS)('%s', (_name, schema, configWith, path) => {
  it('accepts an RE2 pattern', () => {
    expect(schema.safeParse(configWith('^(up|ok)\\b')).success).toBe(true);
  });

  it.each([
    ['a pattern over 1024 characters', 'a'.repeat(1025), /1024/],
    ['a lookahead', 'ok(?=!)', /not a valid RE2 regular expression/],
    ['a backreference', '(a)\\1', /not a valid RE2 regular expression/],
  ])('refuses %s, naming the field', (_case, pattern, message) => {
    const issues = issuesAt(schema, configWith(pattern), path);
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) expect(issue).toMatch(message);
  });
});

describe('matching a catastrophic pattern against a MiB of target text', () => {
  const text = `${'a'.repeat(1 << 20)}b`;

  it.each([
    ['a header condition', { kind: 'header', name: 'x-big', matches: '^(a+)+$' }, { headers: { 'x-big': text } }],
    ['a JSON matches condition', { kind: 'json', path: '$.v', op: 'matches', value: '^(a+)+$' }, { headers: {}, body: JSON.stringify({ v: text }) }],
  ])('%s fails plainly', (_case, condition, seen) => {
    const conditions = httpProbeSchema.parse({ type: 'http', url: 'http://target.example/', conditions: [condition] }).conditions;
    expect(evaluateConditions(conditions, { responseTimeMs: 1, ...seen })).toMatch(/failed: observed/);
  });

  it('a value item regex finds no match', () => {
    expect(parseOutput(text, { kind: 'regex', pattern: '^(a+)+$' })).toBe('no match for /^(a+)+$/');
  });
});
