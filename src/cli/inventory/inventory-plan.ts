import { bodyOf, type ApiClient, type HostCreateBody, type Schemas } from '../api-client.ts';
import { usageError } from '../errors.ts';
import { allHosts } from '../host-ref.ts';
import type { Inventory, InventoryGroup } from './inventory-file.ts';

/** What `vigil apply` would do, by name. The hosts' part comes from the bulk API's own dry run. */
export interface InventoryPlan {
  hosts: { create: string[]; update: string[]; unchanged: string[]; delete: { id: string; name: string }[] };
  groups: { create: string[]; update: string[]; unchanged: string[] };
  /** The bodies to send for created and updated hosts, credential names resolved. */
  writes: HostCreateBody[];
  groupWrites: InventoryGroup[];
}

/** Hosts per bulk request: the API's maximum. */
export const BULK_BATCH = 5000;

export async function planInventory(client: ApiClient, inv: Inventory, prune: boolean): Promise<InventoryPlan> {
  const bodies = await resolveCredentials(client, inv);
  const hosts: InventoryPlan['hosts'] = { create: [], update: [], unchanged: [], delete: [] };
  for (let i = 0; i < bodies.length; i += BULK_BATCH) {
    const batch = bodies.slice(i, i + BULK_BATCH);
    const answer = await client.POST('/api/hosts/bulk', { params: { query: { upsert: 'true', dry_run: 'true' } }, body: { hosts: batch } });
    const result = bodyOf(`check hosts ${i + 1}-${i + batch.length} of ${inv.file}`, answer);
    hosts.create.push(...result.created);
    hosts.update.push(...result.changed);
    hosts.unchanged.push(...result.unchanged);
  }
  if (prune) {
    const declared = new Set(bodies.map((b) => b.name));
    for await (const h of allHosts(client)) if (!declared.has(h.name)) hosts.delete.push({ id: h.id, name: h.name });
  }
  const toWrite = new Set([...hosts.create, ...hosts.update]);
  const { groups, groupWrites } = await planGroups(client, inv.groups);
  return { hosts, groups, writes: bodies.filter((b) => toWrite.has(b.name)), groupWrites };
}

/** Group settings given in the file against the server's; settings left out are not compared. */
async function planGroups(client: ApiClient, declared: InventoryGroup[]) {
  const current = new Map(bodyOf('list groups', await client.GET('/api/groups')).groups.map((g) => [g.name, g]));
  const groups: InventoryPlan['groups'] = { create: [], update: [], unchanged: [] };
  const groupWrites: InventoryGroup[] = [];
  for (const g of declared) {
    const now = current.get(g.name);
    const differs = (Object.keys(g.settings) as (keyof InventoryGroup['settings'])[]).some((k) => !now || now[k] !== g.settings[k]);
    if (!differs) groups.unchanged.push(g.name);
    else {
      (now?.configured ? groups.update : groups.create).push(g.name);
      groupWrites.push(g);
    }
  }
  return { groups, groupWrites };
}

async function resolveCredentials(client: ApiClient, inv: Inventory): Promise<HostCreateBody[]> {
  const wanted = new Set(inv.hosts.flatMap((h) => [...h.credentialNames.values()]));
  const ids = new Map<string, string>();
  if (wanted.size > 0) {
    let after: string | undefined;
    do {
      const page = bodyOf('list credentials', await client.GET('/api/credentials', { params: { query: { limit: 1000, ...(after ? { after } : {}) } } }));
      for (const c of page.credentials) ids.set(c.name, c.id);
      after = page.next_cursor ?? undefined;
    } while (after);
  }
  return inv.hosts.map((h) => {
    const probes = h.body.probes.map((p, j) => {
      const name = h.credentialNames.get(j);
      if (name === undefined) return p;
      const id = ids.get(name);
      if (!id) throw usageError(`${inv.file}:${h.line}: hosts.${h.body.name}.probes.${j}.credential: no credential named ${JSON.stringify(name)} (create it with POST /api/credentials)`);
      return { ...p, credential_id: id };
    });
    return { ...h.body, probes } as HostCreateBody;
  });
}

export interface ApplyProgress {
  (done: number, total: number): void;
}

/** Writes the plan: group settings, then hosts in bulk batches, then (pruning) deletions. */
export async function applyPlan(client: ApiClient, plan: InventoryPlan, progress: ApplyProgress = () => {}): Promise<void> {
  for (const g of plan.groupWrites) {
    bodyOf(`set group ${g.name}`, await client.PATCH('/api/groups/{group}', { params: { path: { group: g.name } }, body: g.settings }));
  }
  const total = plan.writes.length + plan.hosts.delete.length;
  let done = 0;
  for (let i = 0; i < plan.writes.length; i += BULK_BATCH) {
    const batch = plan.writes.slice(i, i + BULK_BATCH);
    bodyOf(`write hosts ${i + 1}-${i + batch.length}`, await client.POST('/api/hosts/bulk', { params: { query: { upsert: 'true' } }, body: { hosts: batch } }));
    progress((done += batch.length), total);
  }
  // One DELETE per host (the API has no bulk delete); a few at a time.
  const queue = [...plan.hosts.delete];
  const worker = async () => {
    for (let h = queue.shift(); h; h = queue.shift()) {
      const answer = await client.DELETE('/api/hosts/{host_id}', { params: { path: { host_id: h.id } } });
      if (!answer.response.ok && answer.response.status !== 404) bodyOf(`delete host ${h.name}`, { ...answer, data: undefined });
      progress(++done, total);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

export type { Schemas };
