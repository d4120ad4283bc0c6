import { parseWindowTime } from '../../maintenance/occurrences.ts';
import { bodyOf, type ApiClient, type Schemas } from '../api-client.ts';
import { entryError, type Inventory } from './inventory-file.ts';
import type { Section } from './inventory-sections-names.ts';

/**
 * `vigil apply` for the sections besides hosts and groups: policies, maintenance windows,
 * notification channels and rules. Each is matched by name (windows by label), compared with
 * what Vigil has, and written with the API's own create and change operations. A section the file
 * leaves out is left alone; one it declares is the whole truth for --prune.
 */

/** Names and ids of what exists, fetched once by the plan and refreshed as the apply creates things. */
export interface Lookups {
  /** By name; loaded only when names must become ids (or --prune). */
  hosts: Map<string, { id: string; name: string; depends_on: string[] }> | undefined;
  /** Host id → name. */
  hostNames: Map<string, string>;
  policies: Map<string, Schemas['Policy']>;
  channels: Map<string, Schemas['NotificationChannel']>;
  rules: Schemas['NotificationRule'][];
  windows: Schemas['MaintenanceWindow'][];
}

export interface SectionWrite {
  /** Position of the entry in its section of the file. */
  index: number;
  name: string;
  /** The existing item's id (an update); none: a create. */
  id?: string;
  /** Channels: the secret fields to send. */
  secrets?: string[];
}

export interface SectionPlan {
  create: string[];
  update: string[];
  unchanged: string[];
  delete: { id: string; name: string }[];
  writes: SectionWrite[];
}

export type SectionPlans = Partial<Record<Section, SectionPlan>>;

const emptyPlan = (): SectionPlan => ({ create: [], update: [], unchanged: [], delete: [], writes: [] });

/** Sorted keys, undefined dropped: two values that mean the same compare equal. */
export function canonical(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([, x]) => x !== undefined)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, x]) => [k, sort(x)]),
          )
        : v;
  return JSON.stringify(sort(value));
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\0') === [...b].sort().join('\0');

/** Records the entry as created, changed or unchanged. */
function classify(plan: SectionPlan, index: number, name: string, id: string | undefined, differs: boolean, extra: Partial<SectionWrite> = {}) {
  if (id === undefined) {
    plan.create.push(name);
    plan.writes.push({ index, name, ...extra });
  } else if (differs) {
    plan.update.push(name);
    plan.writes.push({ index, name, id, ...extra });
  } else plan.unchanged.push(name);
}

export function planSections(inv: Inventory, lookups: Lookups, prune: boolean, updateSecrets: boolean): SectionPlans {
  const plans: SectionPlans = {};
  const declaredHosts = new Set(inv.hosts.map((h) => h.body.name));
  const checkHost = (name: string, path: (string | number)[]) => {
    if (!declaredHosts.has(name) && !lookups.hosts?.has(name)) throw entryError(inv, path, `no host named ${JSON.stringify(name)}, here or in Vigil`);
  };

  if (inv.declared.has('policies')) {
    const plan = (plans.policies = emptyPlan());
    inv.policies.forEach((p, i) => {
      const now = lookups.policies.get(p.body.name);
      classify(plan, i, p.body.name, now?.id, !now || now.description !== p.body.description || canonical(now.settings) !== canonical(p.body.settings));
    });
    if (prune) for (const p of lookups.policies.values()) if (!inv.policies.some((d) => d.body.name === p.name)) plan.delete.push({ id: p.id, name: p.name });
  }

  if (inv.declared.has('notification_channels')) {
    const plan = (plans.notification_channels = emptyPlan());
    inv.channels.forEach((c, i) => {
      const now = lookups.channels.get(c.name);
      if (now && now.type !== c.type) {
        throw entryError(inv, ['notification_channels', i, 'type'], `the channel is of type ${now.type} in Vigil and a type cannot change: give it another name, or delete the channel first`);
      }
      const send = [...c.secrets.keys()].filter((f) => !now || updateSecrets || !now.secrets_set.includes(f));
      const differs = !now || canonical(now.config) !== canonical(c.config) || now.enabled !== c.enabled || now.rate_limit_per_minute !== c.rate_limit_per_minute || send.length > 0;
      classify(plan, i, c.name, now?.id, differs, { secrets: send });
    });
    if (prune) for (const c of lookups.channels.values()) if (!inv.channels.some((d) => d.name === c.name)) plan.delete.push({ id: c.id, name: c.name });
  }

  if (inv.declared.has('maintenance_windows')) {
    const plan = (plans.maintenance_windows = emptyPlan());
    inv.windows.forEach((w, i) => {
      w.hosts.forEach((h, j) => checkHost(h, ['maintenance_windows', i, 'hosts', j]));
      const same = lookups.windows.filter((x) => x.label === w.body.label);
      if (same.length > 1) throw entryError(inv, ['maintenance_windows', i, 'label'], `${same.length} windows in Vigil have this label: apply matches windows by label, so delete all but one`);
      const now = same[0];
      classify(plan, i, w.body.label, now?.id, !now || !sameWindow(w, now, lookups));
    });
    if (prune) for (const x of lookups.windows) if (!inv.windows.some((d) => d.body.label === x.label)) plan.delete.push({ id: x.id, name: x.label });
  }

  if (inv.declared.has('notification_rules')) {
    const plan = (plans.notification_rules = emptyPlan());
    const channelNames = new Map([...lookups.channels.values()].map((c) => [c.id, c.name]));
    inv.rules.forEach((r, i) => {
      r.channels.forEach((c, j) => {
        if (!lookups.channels.has(c) && !inv.channels.some((d) => d.name === c)) throw entryError(inv, ['notification_rules', i, 'channels', j], `no channel named ${JSON.stringify(c)}, here or in Vigil`);
      });
      r.hosts.forEach((h, j) => checkHost(h, ['notification_rules', i, 'hosts', j]));
      const now = lookups.rules.find((x) => x.name === r.body.name);
      const b = r.body;
      const differs =
        !now ||
        !sameSet(now.channel_ids.map((id) => channelNames.get(id) ?? id), r.channels) ||
        !sameSet(now.host_ids.map((id) => lookups.hostNames.get(id) ?? id), r.hosts) ||
        !sameSet(now.event_types, b.event_types) ||
        !sameSet(now.states, b.states) ||
        !sameSet(now.groups, b.groups) ||
        !sameSet(now.tags, b.tags) ||
        now.cooldown_seconds !== b.cooldown_seconds ||
        now.renotify_seconds !== b.renotify_seconds ||
        now.enabled !== b.enabled;
      classify(plan, i, b.name, now?.id, differs);
    });
    if (prune) for (const x of lookups.rules) if (!inv.rules.some((d) => d.body.name === x.name)) plan.delete.push({ id: x.id, name: x.name });
  }
  return plans;
}

/** Times compared as instants (the file may give a wall-clock time in the window's zone), lists as sets. */
function sameWindow(w: Inventory['windows'][number], now: Schemas['MaintenanceWindow'], lookups: Lookups): boolean {
  const b = w.body;
  const instant = (text: string | null) => (text === null ? null : (parseWindowTime(text, b.time_zone)?.getTime() ?? NaN));
  const stored = (text: string | null) => (text === null ? null : Date.parse(text));
  return (
    now.reason === b.reason &&
    now.time_zone === b.time_zone &&
    instant(b.starts_at) === stored(now.starts_at) &&
    instant(b.ends_at) === stored(now.ends_at) &&
    now.cron === b.cron &&
    now.duration_seconds === b.duration_seconds &&
    instant(b.active_from) === stored(now.active_from) &&
    instant(b.active_until) === stored(now.active_until) &&
    sameSet(now.hosts.map((id) => lookups.hostNames.get(id) ?? id), w.hosts) &&
    sameSet(now.groups, b.groups) &&
    sameSet(now.tags, b.tags)
  );
}

/** Channel secrets that must be sent but whose environment variable is not set: refused before anything changes. */
export function missingSecrets(inv: Inventory, plans: SectionPlans): string[] {
  return (plans.notification_channels?.writes ?? []).flatMap((w) => {
    const c = inv.channels[w.index]!;
    return (w.secrets ?? []).flatMap((f) => {
      const s = c.secrets.get(f)!;
      const path = ['notification_channels', w.index, 'config', f];
      return s.value === undefined ? [`${inv.file}:${inv.lineOf(path)}: ${path.join('.')}: environment variable ${s.env} is not set`] : [];
    });
  });
}

/** Phase 'before-hosts': policies and channels (others name them); 'after-hosts': windows and rules (they name hosts). */
export async function applySections(client: ApiClient, inv: Inventory, plans: SectionPlans, lookups: Lookups, phase: 'before-hosts' | 'after-hosts'): Promise<void> {
  if (phase === 'before-hosts') {
    const policies = plans.policies?.writes ?? [];
    for (let i = 0; i < policies.length; i += 500) {
      const batch = policies.slice(i, i + 500).map((w) => inv.policies[w.index]!.body);
      bodyOf('write policies', await client.POST('/api/policies/bulk', { body: { policies: batch } }));
    }
    if (policies.length > 0) lookups.policies = new Map(bodyOf('list policies', await client.GET('/api/policies')).policies.map((p) => [p.name, p]));
    for (const w of plans.notification_channels?.writes ?? []) await writeChannel(client, inv, w, lookups);
    return;
  }
  const hostIds = (names: string[], path: (string | number)[]) =>
    names.map((n, j) => {
      const h = lookups.hosts?.get(n);
      if (!h) throw entryError(inv, [...path, j], `no host named ${JSON.stringify(n)}, here or in Vigil`);
      return h.id;
    });
  for (const w of plans.maintenance_windows?.writes ?? []) {
    const entry = inv.windows[w.index]!;
    const body = { ...entry.body, hosts: hostIds(entry.hosts, ['maintenance_windows', w.index, 'hosts']) };
    if (w.id) bodyOf(`change window ${w.name}`, await client.PATCH('/api/maintenance-windows/{window_id}', { params: { path: { window_id: w.id } }, body }));
    else bodyOf(`create window ${w.name}`, await client.POST('/api/maintenance-windows', { body }));
  }
  for (const w of plans.notification_rules?.writes ?? []) {
    const entry = inv.rules[w.index]!;
    const channel_ids = entry.channels.map((n) => lookups.channels.get(n)!.id);
    const body = { ...entry.body, channel_ids, host_ids: hostIds(entry.hosts, ['notification_rules', w.index, 'hosts']) };
    if (w.id) bodyOf(`change rule ${w.name}`, await client.PATCH('/api/notification-rules/{rule_id}', { params: { path: { rule_id: w.id } }, body }));
    else bodyOf(`create rule ${w.name}`, await client.POST('/api/notification-rules', { body }));
  }
}

async function writeChannel(client: ApiClient, inv: Inventory, w: SectionWrite, lookups: Lookups): Promise<void> {
  const c = inv.channels[w.index]!;
  const secrets = Object.fromEntries((w.secrets ?? []).map((f) => [f, c.secrets.get(f)!.value]));
  if (!w.id) {
    const body = { name: c.name, type: c.type, config: { ...c.config, ...secrets }, enabled: c.enabled, rate_limit_per_minute: c.rate_limit_per_minute };
    const created = bodyOf(`create channel ${c.name}`, await client.POST('/api/notification-channels', { body: body as never }));
    lookups.channels.set(c.name, created);
    return;
  }
  // The API merges config: settings Vigil has that the file leaves out are removed with null.
  const now = lookups.channels.get(c.name)!;
  const removed = Object.fromEntries(Object.keys(now.config).filter((k) => !(k in c.config)).map((k) => [k, null]));
  const body = { config: { ...removed, ...c.config, ...secrets }, enabled: c.enabled, rate_limit_per_minute: c.rate_limit_per_minute };
  const changed = bodyOf(`change channel ${c.name}`, await client.PATCH('/api/notification-channels/{channel_id}', { params: { path: { channel_id: w.id } }, body }));
  lookups.channels.set(c.name, changed);
}

/** --prune: rules, windows and channels before the hosts go (rules and windows name them); policies after (hosts use them). */
export async function pruneSections(client: ApiClient, plans: SectionPlans, phase: 'before-hosts' | 'after-hosts'): Promise<void> {
  const remove = async (what: string, items: { id: string; name: string }[], del: (id: string) => Promise<{ response: Response; error?: unknown }>) => {
    for (const item of items) {
      const answer = await del(item.id);
      if (!answer.response.ok && answer.response.status !== 404) bodyOf(`delete ${what} ${item.name}`, { ...answer, data: undefined });
    }
  };
  if (phase === 'before-hosts') {
    await remove('rule', plans.notification_rules?.delete ?? [], (id) => client.DELETE('/api/notification-rules/{rule_id}', { params: { path: { rule_id: id } } }));
    await remove('window', plans.maintenance_windows?.delete ?? [], (id) => client.DELETE('/api/maintenance-windows/{window_id}', { params: { path: { window_id: id } } }));
    await remove('channel', plans.notification_channels?.delete ?? [], (id) => client.DELETE('/api/notification-channels/{channel_id}', { params: { path: { channel_id: id } } }));
  } else {
    await remove('policy', plans.policies?.delete ?? [], (id) => client.DELETE('/api/policies/{policy_id}', { params: { path: { policy_id: id } } }));
  }
}
