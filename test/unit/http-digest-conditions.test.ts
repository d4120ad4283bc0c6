import { describe, expect, it } from 'vitest';
import { digestAuthorization, parseChallenges, pickDigestChallenge } from '../../src/probes/http-digest.ts';
import { evaluateConditions, httpConditionSchema } from '../../src/probes/http-conditions.ts';
import type { ObservedExchange } from '../../src/probes/http-conditions.ts';

// RFC 7616 §3.9.1: the worked example, with its published responses for SHA-256 and MD5.
const RFC_CHALLENGE = (algorithm: string) =>
  `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, ` +
  'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
const RFC_REQUEST = { method: 'GET', uri: '/dir/index.html', username: 'Mufasa', password: 'Circle of Life' };
const RFC_CNONCE = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';

describe('digest authorization (RFC 7616)', () => {
  it.each([
    ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
    ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
  ])('answers the RFC example challenge with algorithm %s as the RFC does', (algorithm, response) => {
    const challenge = pickDigestChallenge([RFC_CHALLENGE(algorithm)])!;
    const header = digestAuthorization(challenge, RFC_REQUEST, RFC_CNONCE);
    expect(header).toContain(`response="${response}"`);
    expect(header).toContain('qop=auth, ');
    expect(header).toContain('opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"');
    expect(header).not.toContain('Circle of Life');
  });

  it('prefers SHA-256 when a server offers it beside MD5, in one header or two', () => {
    expect(pickDigestChallenge([`${RFC_CHALLENGE('MD5')}, ${RFC_CHALLENGE('SHA-256')}`])?.algorithm).toBe('SHA-256');
    expect(pickDigestChallenge([RFC_CHALLENGE('MD5'), RFC_CHALLENGE('SHA-256')])?.algorithm).toBe('SHA-256');
  });

  it.each([
    ['Basic realm="x"'],
    ['Digest realm="x", nonce="n", algorithm=SHA-512-256, qop="auth"'],
    ['Digest realm="x", nonce="n", qop="auth-int"'],
    ['Digest realm="x"'],
  ])('finds no challenge it can answer in %s', (header) => {
    expect(pickDigestChallenge([header])).toBeUndefined();
  });

  it('parses quoted strings with escapes and commas', () => {
    expect(parseChallenges(['Digest realm="a, \\"b\\"", nonce=abc, Basic realm="r"'])).toEqual([
      { scheme: 'digest', params: { realm: 'a, "b"', nonce: 'abc' } },
      { scheme: 'basic', params: { realm: 'r' } },
    ]);
  });
});

const seen: ObservedExchange = {
  responseTimeMs: 120,
  certDaysRemaining: 20.5,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify({ status: 'UP', load: 0.4, checks: [{ name: 'db', ok: true }] }),
};

describe('HTTP conditions', () => {
  it.each<[Record<string, unknown>, string | null]>([
    [{ kind: 'response_time', max_ms: 300 }, null],
    [{ kind: 'response_time', max_ms: 100 }, 'condition response_time < 100 ms failed: observed 120 ms'],
    [{ kind: 'cert_days_remaining', min_days: 3 }, null],
    [{ kind: 'cert_days_remaining', min_days: 30 }, 'condition cert_days_remaining >= 30 failed: observed 20.5 days'],
    [{ kind: 'json', path: '$.status', op: 'equals', value: 'UP' }, null],
    [{ kind: 'json', path: '$.status', op: 'equals', value: 'DOWN' }, 'condition json $.status equals "DOWN" failed: observed "UP"'],
    [{ kind: 'json', path: '$.load', op: 'lt', value: 0.5 }, null],
    [{ kind: 'json', path: '$.load', op: 'gte', value: 1 }, 'condition json $.load gte 1 failed: observed 0.4'],
    [{ kind: 'json', path: "$.checks[0]['name']", op: 'matches', value: '^d' }, null],
    [{ kind: 'json', path: '$..ok', op: 'equals', value: true }, null],
    [{ kind: 'json', path: '$.missing', op: 'exists' }, 'condition json $.missing exists failed: observed nothing at that path'],
    [{ kind: 'header', name: 'Content-Type', matches: 'json' }, null],
    [{ kind: 'header', name: 'x-version' }, 'condition header x-version present failed: observed no such header'],
  ])('%j -> %s', (condition, expected) => {
    expect(evaluateConditions([httpConditionSchema.parse(condition)], seen)).toBe(expected);
  });

  it('reports a body that is not JSON', () => {
    const condition = httpConditionSchema.parse({ kind: 'json', path: '$.status', op: 'exists' });
    expect(evaluateConditions([condition], { ...seen, body: '<html>' })).toBe('condition json $.status exists failed: observed a body that is not JSON (starts "<html>")');
  });

  it.each([
    [{ kind: 'json', path: '$[?(@.x)]', op: 'exists' }, 'path'],
    [{ kind: 'json', path: 'status', op: 'exists' }, 'path'],
    [{ kind: 'json', path: '$.a', op: 'lt', value: 'x' }, 'value'],
    [{ kind: 'json', path: '$.a', op: 'equals' }, 'value'],
    [{ kind: 'json', path: '$.a', op: 'matches', value: '(?=x)' }, 'value'],
    [{ kind: 'header', name: 'bad header' }, 'name'],
  ])('rejects %j naming %s', (condition, field) => {
    const result = httpConditionSchema.safeParse(condition);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
  });
});
