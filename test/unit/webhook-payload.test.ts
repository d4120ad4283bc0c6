import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { EventRow } from '../../src/db/queries/events.ts';
import type { DeliveryTarget } from '../../src/db/queries/webhooks.ts';
import { serializeEvent } from '../../src/events/serialize.ts';
import { deliveryHeaders, isSendable, signatureHeader } from '../../src/webhooks/payload.ts';
import { expectMatchesComponent } from '../helpers/openapi.ts';

const event: EventRow = {
  id: '42',
  type: 'state_changed',
  occurred_at: new Date('2026-05-04T10:00:00.412Z'),
  host_id: '06909604-8df5-4680-bb1c-e7dc7f17dcbf',
  host_name: 'web-1',
  host_group: 'dc1',
  from_state: 'HEALTHY',
  to_state: 'DEGRADED',
  reason: 'connect ECONNREFUSED 10.0.0.5:443',
  incident_id: null,
  check_id: '1042',
  job_id: '20cedcf6-7bad-4630-aaa1-beb9ff9656d4',
};

const target: DeliveryTarget = {
  id: '117',
  status: 'pending',
  webhook_id: '3f0c8a52-9d7e-4b1a-8c6f-2e5d4a7b9c10',
  url: 'https://alerts.example.com/vigil',
  secret: null,
  enabled: true,
  event_id: '42',
  event,
};

describe('webhook signature', () => {
  it('is t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>"> (vector from `openssl dgst -sha256 -hmac`)', () => {
    expect(signatureHeader('whsec_unit_test_secret_0123', '{"id":"42"}', 1_700_000_000)).toBe(
      't=1700000000,v1=94667a21a7328fd83a2e7908260fbda599b89826b10af644926c2e2f2c3b9505',
    );
  });

  it.each([
    ['with a secret', 'whsec_unit_test_secret_0123', true],
    ['without one', null, false],
  ])('headers %s', (_name, secret, signed) => {
    const headers = deliveryHeaders({ eventId: '42', deliveryId: '117', body: '{}', secret, now: new Date(1_700_000_000_500) });
    expect(headers).toMatchObject({ 'Content-Type': 'application/json', 'User-Agent': 'Vigil-Webhooks', 'Vigil-Event-Id': '42', 'Vigil-Delivery-Id': '117' });
    expect('Vigil-Signature' in headers).toBe(signed);
    if (signed) expect(headers['Vigil-Signature']).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
  });
});

describe('webhook payload', () => {
  it('is the event as the stream serializes it: the event, its host, what caused it (check and job)', () => {
    const payload = serializeEvent(event);
    expect(payload).toEqual({
      id: '42',
      type: 'state_changed',
      occurred_at: '2026-05-04T10:00:00.412Z',
      host: { id: '06909604-8df5-4680-bb1c-e7dc7f17dcbf', name: 'web-1', group: 'dc1' },
      from_state: 'HEALTHY',
      to_state: 'DEGRADED',
      reason: 'connect ECONNREFUSED 10.0.0.5:443',
      incident_id: null,
      check_id: '1042',
      job_id: '20cedcf6-7bad-4630-aaa1-beb9ff9656d4',
    });
    expectMatchesComponent('Event', payload);
  });

  it('is documented in openapi.yaml as the Event, the same schema the event stream names', () => {
    const spec = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8'));
    expect(spec.webhooks.event.post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Event' });
    expect(spec.paths['/api/events'].get.description).toContain('the Event as JSON');
  });

  it('is not built for a delivery whose event was pruned', () => {
    expect(isSendable(target)).toBe(true);
    expect(isSendable({ ...target, event: undefined })).toBe(false);
    expect(isSendable(undefined)).toBe(false);
  });
});
