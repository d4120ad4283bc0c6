/**
 * A Vigil client as an API consumer would write one: openapi-fetch over the types openapi-typescript
 * generates from openapi.yaml (src/api/openapi-types.d.ts, rewritten by `npm run openapi`). Nothing here is
 * hand-typed, so it compiles only while the document describes the fields it uses;
 * test/integration/openapi-client.test.ts type-checks it and runs it against a live Vigil.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from '../../src/api/openapi-types.d.ts';

/** This client speaks JSON: answers in application/json, problems in application/problem+json. */
type JsonMedia = 'application/json' | 'application/problem+json';
export type VigilClient = Client<paths, JsonMedia>;
type Schemas = components['schemas'];

export function createVigilClient(baseUrl: string, token?: string): VigilClient {
  return createClient<paths, JsonMedia>({ baseUrl, headers: token ? { authorization: `Bearer ${token}` } : {} });
}

/** The body of a successful answer; otherwise throws with the status and the problem's detail. */
function bodyOf<T>(what: string, answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.data !== undefined) return answer.data;
  const detail = (answer.error as Schemas['Problem'] | undefined)?.detail;
  throw new Error(`${what}: HTTP ${answer.response.status}${detail ? `: ${detail}` : ''}`);
}

export interface CheckedHost {
  host: Schemas['Host'];
  check: Schemas['JitCheck'];
  state: Schemas['HostMonitoringState'];
}

/** The README's three steps: add a host with an HTTP probe, check it now and wait, read its state. */
export async function addAndCheckHost(client: VigilClient, name: string, url: string): Promise<CheckedHost> {
  const created = await client.POST('/api/hosts', {
    body: { name, address: new URL(url).hostname, tags: ['client'], probes: [{ type: 'http', url, expect_status: [200] }] },
  });
  const host = bodyOf('create host', created);
  const path = { host_id: host.id };
  const checked = await client.POST('/api/monitoring/hosts/{host_id}/check-connectivity', {
    params: { path, query: { wait: 'true', timeout: 10 } },
  });
  const check = bodyOf('check host', checked);
  if (check.result === null) throw new Error(`check of ${host.name} not finished: ${check.message}`);
  const state = bodyOf('read state', await client.GET('/api/monitoring/hosts/{host_id}/state', { params: { path } }));
  return { host, check, state };
}

/** One line per recent check, newest first: `2026-05-04T10:00:00.412Z jit HEALTHY ok 12.4 ms`. */
export function describeHistory(state: Schemas['HostMonitoringState']): string[] {
  return state.recent_history.map(
    (c) => `${c.check_time} ${c.checked_by} ${c.state} ${c.success ? 'ok' : (c.error_type ?? 'failed')} ${c.response_time_ms ?? '-'} ms`,
  );
}

/** A host's checks, oldest first, as the history export's json format has them. */
export async function exportHostHistory(client: VigilClient, hostId: string): Promise<Schemas['HistoryExport']> {
  const exported = await client.GET('/api/monitoring/history/export', { params: { query: { format: 'json', host_id: hostId } } });
  return bodyOf('export history', exported);
}
