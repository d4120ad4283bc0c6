import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { expectConforms } from '../helpers/openapi.ts';
import { openSse } from '../helpers/sse.ts';
import { reserveRefusedPort, startSilentTarget, startTcpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { authHeader, FAST_ENV, useTestVigil, waitFor } from '../helpers/vigil.ts';

let tcp: LoopbackTarget;
let silent: LoopbackTarget;
let refusedPort: number;
const streams: { close(): void }[] = [];
const sse = (query = '', headers: Record<string, string> = {}) => {
  const s = openSse(`${ctx.vigil.apiUrl}/api/events${query}`, { ...authHeader(), ...headers });
  streams.push(s);
  return s;
};

beforeAll(async () => {
  tcp = await startTcpTarget();
  silent = await startSilentTarget();
  const refused = await reserveRefusedPort();
  refusedPort = refused.port;
});
afterAll(async () => {
  await tcp?.close();
  await silent?.close();
});
const ctx = useTestVigil({ roles: ['api', 'scheduler', 'worker'], env: { ...FAST_ENV, VIGIL_SSE_HEARTBEAT_SECONDS: '0.2' } });
afterAll(() => {
  for (const s of streams) s.close();
});


describe('state-change events and incidents', () => {
  let hostId: string;

  it('streams every transition and the incident it opens, each event matching its check in the history', async () => {
    const stream = sse();
    await waitFor('the stream to open', async () => stream.status() === 200 && stream.comments.includes('connected'));
    const created = await ctx.vigil.http().post('/api/hosts').send({ name: 'falling', address: '127.0.0.1', probes: [{ type: 'tcp', port: refusedPort }] });
    hostId = created.body.id;
    await waitFor('the incident to open', async () => stream.events.some((e) => e.event === 'incident_opened'));
    // Further failures of the same kind are counted on the incident, not announced one by one.
    const failureCount = async () => (await ctx.vigil.pool.query(`SELECT failure_count FROM incidents WHERE host_id = $1`, [hostId])).rows[0]?.failure_count ?? 0;
    await waitFor('repeated failures on the incident', async () => (await failureCount()) >= 3);
    expect(stream.events.filter((e) => e.event === 'incident_updated')).toEqual([]);
    // A different failure (a timeout instead of a refusal) is news: one incident_updated event.
    await ctx.vigil.http().patch(`/api/hosts/${hostId}`).send({ probes: [{ type: 'http', url: `http://127.0.0.1:${silent.port}/` }] });
    await waitFor('an incident update', async () => stream.events.some((e) => e.event === 'incident_updated'));
    expect(stream.events.find((e) => e.event === 'incident_updated')!.data).toMatchObject({ to_state: 'DOWN', host: { id: hostId } });
    const changes = stream.events.filter((e) => e.event === 'state_changed').map((e) => `${e.data.from_state}->${e.data.to_state}`);
    expect(changes).toEqual(['HEALTHY->DEGRADED', 'DEGRADED->CRITICAL', 'CRITICAL->DOWN']);
    const opened = stream.events.find((e) => e.event === 'incident_opened')!;
    expect(opened.data).toMatchObject({ host: { id: hostId, name: 'falling' }, to_state: 'DOWN' });
    // The outbox: exactly one state_changed event per transition in the history, pointing at that check.
    const { rows } = await ctx.vigil.pool.query(
      `SELECT h.id::text AS check_id, e.id AS event_id FROM host_monitoring_history h
         LEFT JOIN host_events e ON e.check_id = h.id AND e.type = 'state_changed'
        WHERE h.host_id = $1 AND h.monitoring_state <> h.previous_state`,
      [hostId],
    );
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.event_id !== null)).toBe(true);
    // Ids increase along the stream, and heartbeats keep it alive.
    const ids = stream.events.map((e) => BigInt(e.id));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
    await waitFor('a heartbeat', async () => stream.comments.includes('heartbeat'));
  });

  it('keeps one open incident per host, acknowledges it, and resolves it when the host is HEALTHY again', async () => {
    const open = await ctx.vigil.http().get(`/api/incidents?status=open&host_id=${hostId}`);
    expectConforms(open);
    expect(open.body.incidents).toHaveLength(1);
    const incident = open.body.incidents[0];
    expect(incident.failure_count).toBeGreaterThanOrEqual(2);
    const acked = await ctx.vigil.http().post(`/api/incidents/${incident.id}/acknowledge`);
    expectConforms(acked);
    expect(acked.body).toMatchObject({ acknowledged_by: 'VIGIL_ADMIN_TOKEN', status: 'open' });
    await ctx.vigil.http().patch(`/api/hosts/${hostId}`).send({ probes: [{ type: 'tcp', port: tcp.port }] });
    await waitFor('the incident to resolve', async () => (await ctx.vigil.http().get(`/api/incidents/${incident.id}`)).body.status === 'resolved', 20_000);
    const detail = await ctx.vigil.http().get(`/api/incidents/${incident.id}`);
    expectConforms(detail);
    const types = detail.body.timeline.map((t: { type: string }) => t.type);
    expect(types[0]).toBe('incident_opened');
    expect(types).toContain('incident_acknowledged');
    expect(types[types.length - 1]).toBe('incident_resolved');
    expect((await ctx.vigil.pool.query(`SELECT count(*)::int AS n FROM incidents WHERE host_id = $1`, [hostId])).rows[0].n).toBe(1);
  });

  it('replays what a reconnecting client missed after Last-Event-ID, none twice', async () => {
    const { rows } = await ctx.vigil.pool.query(`SELECT id::text FROM host_events ORDER BY id`);
    const all = rows.map((r) => r.id as string);
    expect(all.length).toBeGreaterThan(5);
    const resumed = sse('', { 'last-event-id': all[2]! });
    await waitFor('the replay', async () => resumed.events.length >= all.length - 3);
    expect(resumed.events.slice(0, all.length - 3).map((e) => e.id)).toEqual(all.slice(3));
  });

  it('filters by type, host and group', async () => {
    const incidentsOnly = sse('?type=incident_opened,incident_resolved&last_event_id=0');
    const otherHost = sse(`?host_id=00000000-0000-4000-8000-000000000000&last_event_id=0`);
    await waitFor('incident events', async () => incidentsOnly.events.length >= 2);
    expect(new Set(incidentsOnly.events.map((e) => e.event))).toEqual(new Set(['incident_opened', 'incident_resolved']));
    await waitFor('a heartbeat on the other stream', async () => otherHost.comments.includes('heartbeat'));
    expect(otherHost.events).toEqual([]);
    const bad = await ctx.vigil.http().get('/api/events?type=exploded');
    expectConforms(bad);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toMatch(/^query\.type/);
  });
});
