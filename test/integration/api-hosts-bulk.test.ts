import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestVigil } from '../helpers/vigil.ts';

const ctx = useTestVigil({ roles: ['api'], env: { VIGIL_SECRET_KEY: randomBytes(32).toString('base64') } });
const { call } = ctx;

const bulk = (hosts: object[], query = '') => call('post', `/api/hosts/bulk${query}`, { hosts });
const tcpHost = (name: string, extra: Record<string, unknown> = {}) => ({ name, address: '10.0.0.1', probes: [{ type: 'tcp', port: 22 }], ...extra });

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await ctx.vigil.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params);
  return rows[0]!.n;
}

let sshCredential: string;
let otherSshCredential: string;
let snmpCredential: string;

beforeAll(async () => {
  const credential = async (name: string, kind: string, fields: object) => (await call('post', '/api/credentials', { name, kind, ...fields })).body.id as string;
  sshCredential = await credential('bulk-ssh', 'ssh-password', { username: 'ops', password: 's3cret-pass' });
  otherSshCredential = await credential('bulk-ssh-2', 'ssh-password', { username: 'ops2', password: 's3cret-pass' });
  snmpCredential = await credential('bulk-snmp', 'snmp-community', { community: 'public-ish' });
});


describe('POST /api/hosts/bulk', () => {
  it('creates 5,000 hosts in one request larger than the default 1 MB body limit, with their credential references', async () => {
    const web = (i: number) => [{ type: 'http', url: `https://web-${i}.example.internal/health/ready`, headers: { 'X-Probe': `vigil-${i}`, 'X-Inventory-Source': 'cmdb-export-2026-05' }, body_contains: 'status: ok', follow_redirects: true }];
    const hosts = Array.from({ length: 5000 }, (_, i) =>
      i % 2 === 0
        ? tcpHost(`fleet-${String(i).padStart(4, '0')}`, { group: `rack-${i % 10}`, probes: web(i) })
        : tcpHost(`fleet-${String(i).padStart(4, '0')}`, { probes: [{ type: 'tcp', port: 22 }, { type: 'ssh', credential_id: sshCredential }], tags: ['ssh'] }),
    );
    expect(JSON.stringify({ hosts }).length).toBeGreaterThan(1024 * 1024);
    const res = await bulk(hosts);
    expect(res.status).toBe(200);
    expect(res.body.dry_run).toBe(false);
    expect(res.body.created).toHaveLength(5000);
    expect(res.body.changed).toEqual([]);
    expect(await count(`hosts WHERE name LIKE 'fleet-%'`)).toBe(5000);
    expect(await count(`host_credentials WHERE credential_id = $1`, [sshCredential])).toBe(2500);
    // New hosts start like single creates: HEALTHY, due within the first-check spread.
    const { rows } = await ctx.vigil.pool.query(`SELECT DISTINCT monitoring_state, check_priority FROM hosts WHERE name LIKE 'fleet-%'`);
    expect(rows).toEqual([{ monitoring_state: 'HEALTHY', check_priority: 3 }]);
    // Written once: hosts on the fleet's defaults need no rescheduling by policy, and rewriting
    // every row just inserted (every index again) halved the import's speed.
    expect(await count(`hosts WHERE name LIKE 'fleet-%' AND state_version <> 1`)).toBe(0);
    const single = await call('get', '/api/hosts?q=fleet-0001');
    expect(single.body.hosts[0]).toMatchObject({ name: 'fleet-0001', tags: ['ssh'], probes: [{ type: 'tcp', port: 22 }, { type: 'ssh', credential_id: sshCredential }] });
  }, 60_000);

  it('refuses a batch with one bad item as a whole, naming its index and field', async () => {
    const hosts = Array.from({ length: 5000 }, (_, i) => tcpHost(`bad-batch-${i}`));
    hosts[12] = tcpHost('bad-batch-12', { probes: [{ type: 'tcp', port: 70000 }] });
    const res = await bulk(hosts);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'body.hosts.12.probes.0.port', message: expect.any(String) }]);
    expect(await count(`hosts WHERE name LIKE 'bad-batch-%'`)).toBe(0);
  }, 60_000);

  it.each([
    { what: 'a duplicate name', hosts: [tcpHost('dup-a'), tcpHost('dup-b'), tcpHost('dup-a')], field: 'body.hosts.2.name' },
    { what: 'more than 5,000 hosts', hosts: Array.from({ length: 5001 }, (_, i) => tcpHost(`many-${i}`)), field: 'body.hosts' },
    { what: 'no hosts', hosts: [], field: 'body.hosts' },
    {
      what: 'an unknown credential',
      hosts: [tcpHost('cred-a'), tcpHost('cred-b', { probes: [{ type: 'tcp', port: 22 }, { type: 'ssh', credential_id: '00000000-0000-4000-8000-000000000000' }] })],
      field: 'body.hosts.1.probes.1.credential_id',
    },
  ])('refuses $what with 400 naming $field', async ({ hosts, field }) => {
    const before = await count('hosts');
    const res = await bulk(hosts);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await count('hosts')).toBe(before);
  });

  it('refuses a credential of the wrong kind like a single create does', async () => {
    const res = await bulk([tcpHost('kind-a', { probes: [{ type: 'ssh', credential_id: snmpCredential }] })]);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'body.hosts.0.probes.0.credential_id', message: expect.stringMatching(/needs a credential of kind ssh-password or ssh-key, not snmp-community/) }]);
  });

  it('refuses existing names without upsert (409 naming them) and writes nothing', async () => {
    await bulk([tcpHost('exists-1')]);
    const res = await bulk([tcpHost('new-1'), tcpHost('exists-1')]);
    expect(res.status).toBe(409);
    expect(res.body.errors).toEqual([{ field: 'body.hosts.1.name', message: 'a host named "exists-1" already exists' }]);
    expect(await count(`hosts WHERE name = 'new-1'`)).toBe(0);
  });

  it('upserts by name: changes only configuration, keeps id and machine state; the same batch again is unchanged', async () => {
    const first = [tcpHost('up-1'), tcpHost('up-2', { probes: [{ type: 'ssh', credential_id: sshCredential }] }), tcpHost('up-3')];
    expect((await bulk(first, '?upsert=true')).body.created).toEqual(['up-1', 'up-2', 'up-3']);
    const { rows: [before] } = await ctx.vigil.pool.query(`UPDATE hosts SET monitoring_state = 'DOWN', consecutive_failures = 3 WHERE name = 'up-2' RETURNING id, machine_snapshot`);

    const second = [tcpHost('up-1'), tcpHost('up-2', { address: '10.0.0.2', probes: [{ type: 'ssh', credential_id: otherSshCredential }], tags: ['moved'] }), tcpHost('up-3'), tcpHost('up-4')];
    const res = await bulk(second, '?upsert=true');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ dry_run: false, created: ['up-4'], changed: ['up-2'], unchanged: ['up-1', 'up-3'] });
    const { rows: [after] } = await ctx.vigil.pool.query(`SELECT id, address, tags, monitoring_state, consecutive_failures, machine_snapshot FROM hosts WHERE name = 'up-2'`);
    expect(after).toMatchObject({ id: before.id, address: '10.0.0.2', tags: ['moved'], monitoring_state: 'DOWN', consecutive_failures: 3, machine_snapshot: before.machine_snapshot });
    const { rows: refs } = await ctx.vigil.pool.query(`SELECT credential_id FROM host_credentials WHERE host_id = $1`, [before.id]);
    expect(refs).toEqual([{ credential_id: otherSshCredential }]);

    const again = await bulk(second, '?upsert=true');
    expect(again.body).toEqual({ dry_run: false, created: [], changed: [], unchanged: ['up-1', 'up-2', 'up-3', 'up-4'] });
  });

  it('answers a dry run like the real request and writes nothing', async () => {
    const before = await ctx.vigil.pool.query(`SELECT name, address, updated_at FROM hosts ORDER BY name`);
    const hosts = [tcpHost('dry-new'), tcpHost('up-1', { address: '10.9.9.9' }), tcpHost('up-3')];
    const res = await bulk(hosts, '?upsert=true&dry_run=true');
    expect(res.body).toEqual({ dry_run: true, created: ['dry-new'], changed: ['up-1'], unchanged: ['up-3'] });
    const refused = await bulk(hosts, '?dry_run=true');
    expect(refused.status).toBe(409);
    expect(refused.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.hosts.1.name', 'body.hosts.2.name']);
    const after = await ctx.vigil.pool.query(`SELECT name, address, updated_at FROM hosts ORDER BY name`);
    expect(after.rows).toEqual(before.rows);
  });
});

describe('GET /api/hosts filters and sorts', () => {
  beforeAll(async () => {
    await bulk([
      tcpHost('q-web_1', { group: 'sorting' }),
      tcpHost('q-webx1', { group: 'sorting', probes: [{ type: 'http', url: 'https://10.0.0.1/' }] }),
      tcpHost('Q-WEB-100%', { group: 'sorting', probes: [{ type: 'tcp', port: 22 }, { type: 'ssh', credential_id: sshCredential }] }),
      tcpHost('q-db-1', { group: 'sorting' }),
      tcpHost('q-db-2', { group: 'sorting' }),
      tcpHost('q-cache', { group: 'sorting' }),
      tcpHost('q-queue', { group: 'sorting' }),
    ]);
    const set = (name: string, state: string, lastCheck: string | null) =>
      ctx.vigil.pool.query(`UPDATE hosts SET monitoring_state = $2, last_check = $3 WHERE name = $1`, [name, state, lastCheck]);
    await set('q-web_1', 'DOWN', '2026-05-01 10:00:00.000001+00');
    await set('q-webx1', 'DEGRADED', '2026-05-01 10:00:00.000002+00');
    await set('Q-WEB-100%', 'HEALTHY', '2026-05-01 09:00:00+00');
    await set('q-db-1', 'DOWN', null);
    await set('q-db-2', 'CRITICAL', '2026-05-01 10:00:00.000001+00');
    await set('q-cache', 'HEALTHY', '2026-05-01 11:00:00+00');
    await set('q-queue', 'HEALTHY', null);
  });

  const names = (res: { body: { hosts: { name: string }[] } }) => res.body.hosts.map((h) => h.name);

  it('filters by probe type through jsonb containment', async () => {
    expect(names(await call('get', '/api/hosts?group=sorting&probe=ssh'))).toEqual(['Q-WEB-100%']);
    expect(names(await call('get', '/api/hosts?group=sorting&probe=http'))).toEqual(['q-webx1']);
    expect(names(await call('get', '/api/hosts?group=sorting&probe=snmp'))).toEqual([]);
    expect((await call('get', '/api/hosts?probe=gopher')).body.errors[0].field).toBe('query.probe');
  });

  it('searches names case-insensitively, with % and _ as literal characters', async () => {
    expect(names(await call('get', '/api/hosts?group=sorting&q=WEB')).sort()).toEqual(['Q-WEB-100%', 'q-web_1', 'q-webx1']);
    expect(names(await call('get', `/api/hosts?group=sorting&q=${encodeURIComponent('web_')}`))).toEqual(['q-web_1']);
    expect(names(await call('get', `/api/hosts?group=sorting&q=${encodeURIComponent('100%')}`))).toEqual(['Q-WEB-100%']);
    expect(names(await call('get', `/api/hosts?group=sorting&q=${encodeURIComponent('%')}`))).toEqual(['Q-WEB-100%']);
  });

  it('searches addresses too, so an operator can paste an IP', async () => {
    await ctx.vigil.pool.query(`UPDATE hosts SET address = '10.20.30.40' WHERE name = 'q-cache'`);
    expect(names(await call('get', '/api/hosts?group=sorting&q=10.20.30'))).toEqual(['q-cache']);
    expect(names(await call('get', '/api/hosts?group=sorting&q=0.30.4'))).toEqual(['q-cache']);
  });

  it('finds a host by what it is now after an edit, through the API or the bulk upsert', async () => {
    // Search reads host_search, kept by triggers on hosts: a stale copy would find the old values.
    const created = await call('post', '/api/hosts', tcpHost('q-renamed-from', { group: 'searching', tags: ['rack:a'] }));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(names(await call('get', '/api/hosts?group=searching&tag=rack:a&probe=tcp&q=renamed-from'))).toEqual(['q-renamed-from']);
    expect((await call('patch', `/api/hosts/${id}`, { name: 'q-renamed-to', tags: ['rack:b'], probes: [{ type: 'ssh', credential_id: sshCredential }] })).status).toBe(200);
    expect(names(await call('get', '/api/hosts?group=searching&q=renamed-from'))).toEqual([]);
    expect(names(await call('get', '/api/hosts?group=searching&q=renamed-to'))).toEqual(['q-renamed-to']);
    expect(names(await call('get', '/api/hosts?group=searching&tag=rack:a'))).toEqual([]);
    expect(names(await call('get', '/api/hosts?group=searching&tag=rack:b'))).toEqual(['q-renamed-to']);
    expect(names(await call('get', '/api/hosts?group=searching&probe=tcp'))).toEqual([]);
    expect(names(await call('get', '/api/hosts?group=searching&probe=ssh'))).toEqual(['q-renamed-to']);
    // The bulk upsert changes an existing host's tags and address in place.
    expect((await bulk([tcpHost('q-renamed-to', { group: 'searching', address: '10.99.0.7', tags: ['rack:c'] })], '?upsert=true')).status).toBe(200);
    expect(names(await call('get', '/api/hosts?group=searching&tag=rack:c&q=10.99.0'))).toEqual(['q-renamed-to']);
    expect(names(await call('get', '/api/hosts?group=searching&probe=tcp'))).toEqual(['q-renamed-to']);
    await call('delete', `/api/hosts/${id}`);
    expect(await count(`host_search WHERE host_id = $1`, [id])).toBe(0);
  });

  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const hosts = [
    { name: 'q-web_1', rank: 0, last: '2026-05-01T10:00:00.000001Z' },
    { name: 'q-db-1', rank: 0, last: null },
    { name: 'q-db-2', rank: 1, last: '2026-05-01T10:00:00.000001Z' },
    { name: 'q-webx1', rank: 2, last: '2026-05-01T10:00:00.000002Z' },
    { name: 'Q-WEB-100%', rank: 3, last: '2026-05-01T09:00:00Z' },
    { name: 'q-cache', rank: 3, last: '2026-05-01T11:00:00Z' },
    { name: 'q-queue', rank: 3, last: null },
  ];
  // Expected orders, computed here independently of SQL; names break ties. Microsecond-distinct
  // last_check values make a millisecond cursor visibly wrong.
  const lastKey = (h: (typeof hosts)[number]) => (h.last === null ? '' : h.last.padEnd(27, '0'));
  const orders: Record<string, string[]> = {
    name: hosts.map((h) => h.name).sort(byName),
    state: [...hosts].sort((a, b) => a.rank - b.rank || byName(a.name, b.name)).map((h) => h.name),
    last_check: [...hosts].sort((a, b) => byName(lastKey(a), lastKey(b)) || byName(a.name, b.name)).map((h) => h.name),
  };

  it.each(['name', '-name', 'state', '-state', 'last_check', '-last_check'])('pages through sort=%s two at a time, each host once, in order', async (sort) => {
    const expected = sort.startsWith('-') ? [...orders[sort.slice(1)]!].reverse() : orders[sort]!;
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const res = await call('get', `/api/hosts?group=sorting&sort=${sort}&limit=2${after ? `&after=${after}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...names(res));
      after = res.body.next_cursor;
    } while (after && seen.length < 20);
    expect(seen).toEqual(expected);
  });

  it("refuses another sort's cursor and a cursor it did not make", async () => {
    const page = await call('get', '/api/hosts?group=sorting&sort=state&limit=2');
    const mixed = await call('get', `/api/hosts?group=sorting&sort=name&after=${page.body.next_cursor}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.errors[0]).toMatchObject({ field: 'query.after', message: 'this cursor belongs to sort=state' });
    expect((await call('get', '/api/hosts?after=q-db-1')).body.errors[0].field).toBe('query.after');
  });
});
