import { describe, expect, it } from 'vitest';
import { parseOutput } from '../../src/values/parse-output.ts';
import { itemSchema } from '../../src/values/items.ts';

const MEMINFO = 'MemTotal:       16318748 kB\nMemFree:         1234567 kB\nMemAvailable:    8000000 kB\n';
const DF = 'Mounted on Use%\n/                42%\n/boot            7%\n';

describe('parseOutput', () => {
  it.each([
    ['regex: first capture group', '0.52 0.48 0.40 1/234 5678\n', { kind: 'regex', pattern: '^(\\S+)' }, [{ row: null, value: 0.52 }]],
    ['regex: no capture group takes the match', 'up 42\n', { kind: 'regex', pattern: '\\d+' }, [{ row: null, value: 42 }]],
    ['key_value with a key and a unit', MEMINFO, { kind: 'key_value', key: 'MemAvailable' }, [{ row: null, value: 8000000 }]],
    ['key_value without a key: one row per line, header skipped', DF, { kind: 'key_value' }, [{ row: '/', value: 42 }, { row: '/boot', value: 7 }]],
    ['json at a path', '{"a":{"b":[1,{"c":"2.5"}]}}', { kind: 'json', path: "$.a.b[1]['c']" }, [{ row: null, value: 2.5 }]],
  ] as const)('%s', (_name, text, parser, expected) => {
    expect(parseOutput(text, parser as never)).toEqual(expected);
  });

  it.each([
    ['regex without a match', 'nothing', { kind: 'regex', pattern: '^(\\d+)$' }, /no match/],
    ['regex capturing text', 'state: up', { kind: 'regex', pattern: 'state: (\\w+)' }, /not a number/],
    ['missing key', MEMINFO, { kind: 'key_value', key: 'SwapTotal' }, /no line "SwapTotal/],
    ['not JSON', '<html>', { kind: 'json', path: '$.a' }, /not JSON/],
    ['nothing at the path', '{"a":1}', { kind: 'json', path: '$.b' }, /nothing at \$\.b/],
    ['inherited property is not followed', '{}', { kind: 'json', path: '$.constructor' }, /nothing at/],
  ] as const)('says why: %s', (_name, text, parser, message) => {
    expect(parseOutput(text, parser as never)).toMatch(message);
  });
});

describe('item schema', () => {
  it.each([
    [{ source: 'snmp', name: 'x', oid: '1.3.6.1.2.1.1.3.0', column: '1.3.6.1.2.1.2.2.1.4' }, 'exactly one of oid and column'],
    [{ source: 'snmp', name: 'X', oid: '1.3.6.1.2.1.1.3.0' }, 'lower-case'],
    [{ source: 'ssh', name: 'x', command: 'true', parser: { kind: 'regex', pattern: '(?=a)' } }, ''],
    [{ source: 'http', name: 'x', measure: 'json' }, 'path is needed'],
    [{ source: 'http', name: 'x', measure: 'json', path: '$..a' }, 'JSONPath'],
    [{ source: 'snmp', name: 'x', oid: '1.3.6.1.2.1.1.3.0', threshold: {} }, 'give above, below or both'],
    [{ source: 'http', name: 'x', measure: 'json', path: '$.a', url: 'https://ops:Zsecret@status.example/health' }, 'must not contain user:password@'],
  ])('rejects %j', (item, message) => {
    const parsed = itemSchema.safeParse(item);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain(message);
  });
});
