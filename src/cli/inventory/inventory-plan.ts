import { bodyOf, type ApiClient, type HostCreateBody, type Schemas } from '../api-client.ts';
import { allHosts } from '../host-ref.ts';
import { entryError, type Inventory, type InventoryGroup, type InventoryHost } from './inventory-file.ts';
import type { Section } from './inventory-sections-names.ts';
import { planSections, applySections, pruneSections, type SectionPlans, type Lookups } from './inventory-sections.ts';

/** What `vigil apply` would do, by name. The hosts' part comes from the bulk API's own dry run. */
export interface InventoryPlan {
  hosts: { create: string[]; update: string[]; unchanged: string[]; delete: { id: string; name: string }[] };
  groups: { create: string[]; update: string[]; unchanged: string[] };
  /** Policies, maintenance windows, notification channels and rules: only the sections the file declares. */
  sections: SectionPlans;
  /** The bodies to send for created and updated hosts, credential names resolved (policy names at apply). */
  writes: PendingHost[];
  groupWrites: InventoryGroup[];
  /** Names and ids, filled as the apply goes on (new policies, hosts and channels). */
  lookups: Lookups;
}

interface PendingHost {
  body: HostCreateBody;
  policy: string | null | undefined;
  line: number;
  index: number;
}

/** Hosts per bulk request: the API's maximum. */
export const BULK_BATCH = 5000;

export async function planInventory(client: ApiClient, inv: Inventory, prune: boolean, opts: { updateSecrets?: boolean } = {}): Promise<InventoryPlan> {
  const lookups = await loadLookups(client, inv, prune);
  const bodies = await resolveCredentials(client, inv);
  // Policies to be created have no id yet: their hosts are planned without one, and are changes anyway.
  const planned = bodies.map((b, i) => ({ ...b, policy_id: policyIdForPlan(inv, inv.hosts[i]!, lookups) }));
  const hosts: InventoryPlan['hosts'] = { create: [], update: [], unchanged: [], delete: [] };
  for (let i = 0; i < planned.length; i += BULK_BATCH) {
    const batch = planned.slice(i, i + BULK_BATCH);
    const answer = await client.POST('/api/hosts/bulk', { params: { query: { upsert: 'true', dry_run: 'true' } }, body: { hosts: batch } });
    const result = bodyOf(`check hosts ${i + 1}-${i + batch.length} of ${inv.file}`, answer);
    hosts.create.push(...result.created);
    hosts.update.push(...result.changed);
    hosts.unchanged.push(...result.unchanged);
  }
  // The bulk API compares configuration, not parents or a policy that does not exist yet: those are ours to see.
  const differs = new Set(inv.hosts.filter((h) => hostDiffersBeyondConfig(h, lookups)).map((h) => h.body.name));
  if (differs.size > 0) {
    hosts.update.push(...hosts.unchanged.filter((n) => differs.has(n)));
    hosts.unchanged = hosts.unchanged.filter((n) => !differs.has(n));
  }
  if (prune) {
    const declared = new Set(bodies.map((b) => b.name));
    for (const h of lookups.hosts!.values()) if (!declared.has(h.name)) hosts.delete.push({ id: h.id, name: h.name });
  }
  const toWrite = new Set([...hosts.create, ...hosts.update]);
  const { groups, groupWrites } = await planGroups(client, inv, lookups);
  const sections = planSections(inv, lookups, prune, opts.updateSecrets ?? false);
  const writes = bodies.flatMap((body, index) => (toWrite.has(body.name) ? [{ body, policy: inv.hosts[index]!.policy, line: inv.hosts[index]!.line, index }] : []));
  return { hosts, groups, sections, writes, groupWrites, lookups };
}

/** Everything the plan compares against, fetched once; hosts only when names must become ids or --prune. */
async function loadLookups(client: ApiClient, inv: Inventory, prune: boolean): Promise<Lookups> {
  const needHosts =
    prune ||
    inv.hosts.some((h) => h.body.depends_on !== undefined) ||
    inv.groups.some((g) => g.gateway) ||
    inv.windows.some((w) => w.hosts.length > 0) ||
    inv.rules.some((r) => r.hosts.length > 0) ||
    inv.declared.has('maintenance_windows') ||
    inv.declared.has('notification_rules');
  const hosts = needHosts ? new Map<string, { id: string; name: string; depends_on: string[] }>() : undefined;
  if (hosts) for await (const h of allHosts(client)) hosts.set(h.name, { id: h.id, name: h.name, depends_on: h.depends_on });
  const policyNeeded = inv.declared.has('policies') || inv.hosts.some((h) => h.policy) || inv.groups.some((g) => g.policy);
  const policies = policyNeeded ? bodyOf('list policies', await client.GET('/api/policies')).policies : [];
  const needChannels = inv.declared.has('notification_channels') || inv.declared.has('notification_rules');
  const channels = needChannels ? bodyOf('list notification channels', await client.GET('/api/notification-channels')).channels : [];
  const rules = inv.declared.has('notification_rules') ? bodyOf('list notification rules', await client.GET('/api/notification-rules')).rules : [];
  const windows = inv.declared.has('maintenance_windows') ? bodyOf('list maintenance windows', await client.GET('/api/maintenance-windows')).windows : [];
  return {
    hosts,
    hostNames: new Map([...(hosts?.values() ?? [])].map((h) => [h.id, h.name])),
    policies: new Map(policies.map((p) => [p.name, p])),
    channels: new Map(channels.map((c) => [c.name, c])),
    rules,
    windows,
  };
}

/** The policy id to plan a host with: the existing policy's, or null (none, or one the file creates). */
function policyIdForPlan(inv: Inventory, h: InventoryHost, lookups: Lookups): string | null {
  if (!h.policy) return null;
  const existing = lookups.policies.get(h.policy);
  if (existing) return existing.id;
  if (inv.policies.some((p) => p.body.name === h.policy)) return null;
  throw entryError(inv, ['hosts', inv.hosts.indexOf(h), 'policy'], `no policy named ${JSON.stringify(h.policy)} (declare it under policies: or create it with POST /api/policies)`);
}

function hostDiffersBeyondConfig(h: InventoryHost, lookups: Lookups): boolean {
  if (h.policy && !lookups.policies.has(h.policy)) return true;
  if (h.body.depends_on === undefined) return false;
  const now = lookups.hosts!.get(h.body.name);
  if (!now) return false;
  const want = h.body.depends_on.map((ref) => lookups.hostNames.get(ref) ?? ref);
  const have = now.depends_on.map((id) => lookups.hostNames.get(id) ?? id);
  return !sameSet(want, have);
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\0') === [...b].sort().join('\0');

/** Group settings given in the file against the server's; settings left out are not compared. */
async function planGroups(client: ApiClient, inv: Inventory, lookups: Lookups) {
  const current = new Map(bodyOf('list groups', await client.GET('/api/groups')).groups.map((g) => [g.name, g]));
  const groups: InventoryPlan['groups'] = { create: [], update: [], unchanged: [] };
  const groupWrites: InventoryGroup[] = [];
  const declaredHosts = new Set(inv.hosts.map((h) => h.body.name));
  inv.groups.forEach((g, i) => {
    const now = current.get(g.name);
    let differs = (Object.keys(g.settings) as (keyof InventoryGroup['settings'])[]).some((k) => !now || now[k] !== g.settings[k]);
    if (g.policy !== undefined) {
      const policy = g.policy === null ? null : lookups.policies.get(g.policy);
      if (policy === undefined && !inv.policies.some((p) => p.body.name === g.policy)) throw entryError(inv, ['groups', i, 'policy'], `no policy named ${JSON.stringify(g.policy)}`);
      if (!now || (now.policy_id ?? null) !== (policy?.id ?? (g.policy === null ? null : 'new'))) differs = true;
    }
    if (g.gateway !== undefined) {
      const host = g.gateway === null ? null : lookups.hosts!.get(g.gateway);
      if (host === undefined && !declaredHosts.has(g.gateway!)) throw entryError(inv, ['groups', i, 'gateway'], `no host named ${JSON.stringify(g.gateway)}, here or in Vigil`);
      if (!now || (now.gateway_host_id ?? null) !== (host?.id ?? (g.gateway === null ? null : 'new'))) differs = true;
    }
    if (!differs) groups.unchanged.push(g.name);
    else {
      (now?.configured ? groups.update : groups.create).push(g.name);
      groupWrites.push(g);
    }
  });
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
  return inv.hosts.map((h, i) => {
    const probes = h.body.probes.map((p, j) => {
      const name = h.credentialNames.get(j);
      if (name === undefined) return p;
      const id = ids.get(name);
      if (!id) throw entryError(inv, ['hosts', i, 'probes', j, 'credential'], `no credential named ${JSON.stringify(name)} (create it with POST /api/credentials)`);
      return { ...p, credential_id: id };
    });
    return { ...h.body, probes } as HostCreateBody;
  });
}

export interface ApplyProgress {
  (done: number, total: number): void;
}

/**
 * Writes the plan in dependency order: policies and channels (hosts, groups and rules name them),
 * hosts in bulk batches, group settings (a gateway is a host), windows and rules (they name hosts),
 * then with --prune the deletions, dependants first (rules, windows, channels, hosts, policies).
 */
export async function applyPlan(client: ApiClient, inv: Inventory, plan: InventoryPlan, progress: ApplyProgress = () => {}): Promise<void> {
  const { lookups } = plan;
  await applySections(client, inv, plan.sections, lookups, 'before-hosts');
  const total = plan.writes.length + plan.hosts.delete.length;
  let done = 0;
  for (let i = 0; i < plan.writes.length; i += BULK_BATCH) {
    const batch = plan.writes.slice(i, i + BULK_BATCH).map((w) => ({ ...w.body, policy_id: w.policy ? policyId(inv, lookups, w.policy, ['hosts', w.index, 'policy']) : null }));
    bodyOf(`write hosts ${i + 1}-${i + batch.length}`, await client.POST('/api/hosts/bulk', { params: { query: { upsert: 'true' } }, body: { hosts: batch } }));
    progress((done += batch.length), total);
  }
  const needIds = plan.groupWrites.some((g) => g.gateway) || plan.sections.maintenance_windows?.writes.length || plan.sections.notification_rules?.writes.length;
  if (needIds) await refreshHosts(client, lookups);
  for (const g of plan.groupWrites) {
    const i = inv.groups.indexOf(g);
    const body = {
      ...g.settings,
      ...(g.policy !== undefined ? { policy_id: g.policy === null ? null : policyId(inv, lookups, g.policy, ['groups', i, 'policy']) } : {}),
      ...(g.gateway !== undefined ? { gateway_host_id: g.gateway === null ? null : hostId(inv, lookups, g.gateway, ['groups', i, 'gateway']) } : {}),
    };
    if (Object.keys(body).length > 0) bodyOf(`set group ${g.name}`, await client.PATCH('/api/groups/{group}', { params: { path: { group: g.name } }, body }));
  }
  await applySections(client, inv, plan.sections, lookups, 'after-hosts');
  await pruneSections(client, plan.sections, 'before-hosts');
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
  await pruneSections(client, plan.sections, 'after-hosts');
}

function policyId(inv: Inventory, lookups: Lookups, name: string, path: (string | number)[]): string {
  const p = lookups.policies.get(name);
  if (!p) throw entryError(inv, path, `no policy named ${JSON.stringify(name)}`);
  return p.id;
}

export function hostId(inv: Inventory, lookups: Lookups, name: string, path: (string | number)[]): string {
  const h = lookups.hosts?.get(name);
  if (!h) throw entryError(inv, path, `no host named ${JSON.stringify(name)}, here or in Vigil`);
  return h.id;
}

async function refreshHosts(client: ApiClient, lookups: Lookups): Promise<void> {
  lookups.hosts ??= new Map();
  lookups.hosts.clear();
  for await (const h of allHosts(client)) {
    lookups.hosts.set(h.name, { id: h.id, name: h.name, depends_on: h.depends_on });
    lookups.hostNames.set(h.id, h.name);
  }
}

export type { Schemas, Section };
