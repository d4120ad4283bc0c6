import { describe, expect, it } from 'vitest';
import { messageKeyOf, planNotifications, suppressionReason, type Candidate } from '../../src/notifications/plan.ts';

const candidate = (over: Partial<Candidate> = {}): Candidate => ({
  ruleId: 'r1',
  channelId: 'c1',
  rateLimitPerMinute: 2,
  cooldownSeconds: 60,
  messageKey: 'k1',
  suppression: { inMaintenance: false, state: 'DOWN', flapping: false, eventType: 'incident_opened' },
  ...over,
});

describe('suppressionReason', () => {
  it.each([
    [{ inMaintenance: true, state: 'DOWN', flapping: false, eventType: 'incident_opened' }, 'host in maintenance'],
    [{ inMaintenance: false, state: 'UNREACHABLE', flapping: false, eventType: 'state_changed' }, 'host unreachable behind a failed parent'],
    [{ inMaintenance: false, state: 'DOWN', flapping: false, eventType: 'incident_opened' }, null],
    [{ inMaintenance: false, state: null, flapping: false, eventType: null }, null],
    [{ inMaintenance: false, state: 'DOWN', flapping: true, eventType: 'incident_opened' }, 'host flapping (flapping_started was sent instead)'],
    [{ inMaintenance: false, state: 'DOWN', flapping: true, eventType: null }, 'host flapping (flapping_started was sent instead)'],
    [{ inMaintenance: false, state: 'DEGRADED', flapping: true, eventType: 'flapping_started' }, null],
    [{ inMaintenance: false, state: 'HEALTHY', flapping: true, eventType: 'flapping_stopped' }, null],
    [{ inMaintenance: true, state: 'DEGRADED', flapping: true, eventType: 'flapping_started' }, 'host in maintenance'],
  ])('%o -> %s', (facts, reason) => expect(suppressionReason(facts)).toBe(reason));
});

describe('planNotifications', () => {
  const none = { cooling: new Set<string>(), sentLastMinute: new Map<string, number>() };
  it.each<[string, Candidate[], typeof none, string[]]>([
    ['sends up to the rate limit, then holds', [candidate({ messageKey: 'a' }), candidate({ messageKey: 'b' }), candidate({ messageKey: 'c' })], none, ['pending', 'pending', 'held']],
    ['counts what the channel sent in the last minute', [candidate({ messageKey: 'a' }), candidate({ messageKey: 'b' })], { ...none, sentLastMinute: new Map([['c1', 1]]) }, ['pending', 'held']],
    ['limits each channel on its own', [candidate({ messageKey: 'a' }), candidate({ messageKey: 'b' }), candidate({ channelId: 'c2' })], { ...none, sentLastMinute: new Map([['c1', 1]]) }, ['pending', 'held', 'pending']],
    ['suppresses a repeat within the batch', [candidate(), candidate()], none, ['pending', 'suppressed']],
    ['suppresses a message still cooling down', [candidate()], { ...none, cooling: new Set(['r1|c1|k1']) }, ['suppressed']],
    ['a zero cooldown never suppresses', [candidate({ cooldownSeconds: 0 }), candidate({ cooldownSeconds: 0 })], none, ['pending', 'pending']],
    ['another rule is another message', [candidate(), candidate({ ruleId: 'r2' })], none, ['pending', 'pending']],
    ['maintenance goes before the rate limit and does not use it up', [candidate({ suppression: { inMaintenance: true, state: 'DOWN', flapping: false, eventType: 'incident_opened' } }), candidate({ messageKey: 'a' }), candidate({ messageKey: 'b' })], none, ['suppressed', 'pending', 'pending']],
  ])('%s', (_name, candidates, facts, statuses) => {
    expect(planNotifications(candidates, facts).map((d) => d.status)).toEqual(statuses);
  });
});

describe('messageKeyOf', () => {
  type Args = Parameters<typeof messageKeyOf>;
  it.each<[Args, string]>([
    [['event', 'state_changed', null, 'h1', 'DOWN'], 'state_changed:h1:DOWN'],
    [['event', 'incident_opened', 'i1', 'h1', 'DOWN'], 'incident_opened:i1:DOWN'],
    [['renotify', 'incident_opened', 'i1', 'h1', 'DOWN'], 'renotify:i1'],
  ])('%o -> %s', (args, key) => expect(messageKeyOf(...args)).toBe(key));
});
