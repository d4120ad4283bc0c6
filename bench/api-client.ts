import type { FleetCredentialIds, PlannedHost } from './fleet-plan.ts';

/** The few API calls the benchmark makes, with the admin token (VIGIL_ADMIN_TOKEN). */
export interface Api {
  url: string;
  token: string;
}

export const MAX_BULK = 5000;

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function apiCall<T>(api: Api, method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<{ status: number; body: T }> {
  const res = await fetch(api.url + path, {
    method,
    headers: { authorization: `Bearer ${api.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (res.status >= 400) throw new ApiError(res.status, `${method} ${path} answered ${res.status}: ${text.slice(0, 2000)}`);
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** The SSH password and SNMP community the fleet accepts. */
export const FLEET_SECRETS = { ssh: { username: 'bench', password: 'bench-password' }, snmpCommunity: 'bench-community' };

/** Creates the credentials the SSH and SNMP hosts use (names suffixed, so a re-run on one database cannot collide). */
export async function createFleetCredentials(api: Api, suffix: string): Promise<FleetCredentialIds> {
  const ssh = await apiCall<{ id: string }>(api, 'POST', '/api/credentials', { name: `bench-ssh-${suffix}`, kind: 'ssh-password', ...FLEET_SECRETS.ssh });
  const snmp = await apiCall<{ id: string }>(api, 'POST', '/api/credentials', {
    name: `bench-snmp-${suffix}`,
    kind: 'snmp-community',
    community: FLEET_SECRETS.snmpCommunity,
  });
  return { ssh: ssh.body.id, snmp: snmp.body.id };
}

export interface Registration {
  hosts: number;
  requests: number;
  seconds: number;
  hostsPerSecond: number;
}

/** POST /api/hosts/bulk in batches of 5,000 (the API's limit), one after the other. */
export async function registerHosts(api: Api, hosts: Pick<PlannedHost, 'name' | 'probe'>[]): Promise<Registration> {
  const started = performance.now();
  let requests = 0;
  for (let i = 0; i < hosts.length; i += MAX_BULK) {
    const batch = hosts.slice(i, i + MAX_BULK).map((h) => ({ name: h.name, address: '127.0.0.1', probes: [h.probe] }));
    const { body } = await apiCall<{ created: string[] }>(api, 'POST', '/api/hosts/bulk', { hosts: batch });
    if (body.created.length !== batch.length) throw new Error(`bulk registration created ${body.created.length} of ${batch.length} hosts`);
    requests++;
  }
  const seconds = (performance.now() - started) / 1000;
  return { hosts: hosts.length, requests, seconds, hostsPerSecond: hosts.length / Math.max(seconds, 1e-3) };
}

/** Polls GET /readyz until 200 (no token needed), or throws after `timeoutMs`. */
export async function waitUntilReady(url: string, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error('the API process exited while starting');
    const ok = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the API at ${url} was not ready within ${timeoutMs} ms`);
}
