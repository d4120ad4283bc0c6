import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectConforms } from '../helpers/openapi.ts';
import { FAST_ENV, useTestVigil, waitFor } from '../helpers/vigil.ts';

/** A health endpoint that can be stopped and started again on the same port. */
class HealthServer {
  private server: http.Server | undefined;
  port = 0;
  async start(): Promise<void> {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

interface Row {
  monitoring_state: string;
  previous_state: string;
  success: boolean;
  error_type: string | null;
  checked_by: string;
  job_id: string;
}

const target = new HealthServer();

beforeAll(() => target.start());
afterAll(() => target.stop());
const ctx = useTestVigil({ roles: ['api', 'scheduler', 'worker'], env: FAST_ENV });


const history = async (hostId: string) =>
  (await ctx.vigil.pool.query<Row>('SELECT * FROM host_monitoring_history WHERE host_id = $1 ORDER BY check_time, id', [hostId])).rows;
const stateOf = async (hostId: string) =>
  (await ctx.vigil.pool.query('SELECT monitoring_state, consecutive_failures, consecutive_successes FROM hosts WHERE id = $1', [hostId])).rows[0];

describe('end to end: a host walks through every state and back', () => {
  it('goes HEALTHY -> DEGRADED -> CRITICAL -> DOWN when its server stops, and HEALTHY only after 3 successes', async () => {
    const created = await ctx.vigil.http()
      .post('/api/hosts')
      .send({ name: 'walker', address: '127.0.0.1', probes: [{ type: 'http', url: `http://127.0.0.1:${target.port}/health` }] });
    expect(created.status).toBe(201);
    const id: string = created.body.id;

    await waitFor('two successful checks', async () => (await stateOf(id)).consecutive_successes >= 2);
    await target.stop();
    await waitFor('DOWN', async () => (await stateOf(id)).monitoring_state === 'DOWN');
    await target.start();
    await waitFor('HEALTHY again', async () => {
      const rows = await history(id);
      return rows.some((r, i) => i > 0 && r.monitoring_state === 'HEALTHY' && rows[i - 1]!.monitoring_state === 'DOWN');
    });

    const rows = await history(id);
    // Every check is in the history, each row's previous_state is the row before's state.
    rows.forEach((row, i) => expect(row.previous_state).toBe(i === 0 ? 'HEALTHY' : rows[i - 1]!.monitoring_state));
    expect(new Set(rows.map((r) => r.job_id)).size).toBe(rows.length);
    expect(rows.every((r) => r.checked_by === 'scheduler')).toBe(true);
    // Failures are the server being gone, and say so.
    for (const r of rows.filter((r) => !r.success)) expect(r.error_type).toBe('connection_refused');
    // The transitions, in order, are exactly the walk down and the one step back up.
    const transitions = rows.filter((r) => r.monitoring_state !== r.previous_state).map((r) => `${r.previous_state}->${r.monitoring_state}`);
    expect(transitions).toEqual(['HEALTHY->DEGRADED', 'DEGRADED->CRITICAL', 'CRITICAL->DOWN', 'DOWN->HEALTHY']);
    // The step back up came on the third success in a row after the last failure.
    const back = rows.findIndex((r) => r.previous_state === 'DOWN' && r.monitoring_state === 'HEALTHY');
    expect(rows.slice(back - 3, back + 1).map((r) => r.success)).toEqual([false, true, true, true]);
    // Three or more failures in a row preceded DOWN, and DOWN was held through the first successes.
    const down = rows.findIndex((r) => r.monitoring_state === 'DOWN');
    expect(rows.slice(down - 2, down + 1).every((r) => !r.success)).toBe(true);
    expect(rows.slice(back - 2, back).map((r) => r.monitoring_state)).toEqual(['DOWN', 'DOWN']);

    // The host row agrees with its history.
    const last = rows[rows.length - 1]!;
    const host = await stateOf(id);
    expect(host.monitoring_state).toBe(last.monitoring_state);

    const state = await ctx.vigil.http().get(`/api/monitoring/hosts/${id}/state`);
    expectConforms(state);
    expect(state.body.current_state).toBe(host.monitoring_state);
    expect(state.body.recent_history.length).toBe(Math.min(10, (await history(id)).length));
    expect(state.body.check_interval_info).toEqual({ minutes: 0.005, description: expect.stringMatching(/300 ms checks/) });
  });

  it('logs every check as a JSON line with host_id and job id', () => {
    const checkLines = ctx.vigil.transport.entries.filter((e) => e.message === 'check recorded');
    expect(checkLines.length).toBeGreaterThan(5);
    for (const line of checkLines) {
      expect(line.host_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(line.job_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(line).toHaveProperty('response_time_ms');
    }
  });
});
