import { stringify } from 'yaml';
import { bodyOf, type ApiClient } from '../api-client.ts';
import { allHosts } from '../host-ref.ts';

const MASK = '********';

/** The environment variable an exported channel secret is read from: VIGIL_CHANNEL_<NAME>_<FIELD>. */
export const secretEnvName = (channel: string, field: string) => `VIGIL_CHANNEL_${channel}_${field}`.toUpperCase().replace(/[^A-Z0-9_]+/g, '_');

/**
 * Today's Vigil in the inventory format (inventory-file.ts): policies, configured groups with their
 * settings, every host with the fields that differ from the defaults, maintenance windows,
 * notification channels and rules, all references by name (credentials, policies, parents,
 * gateways, hosts, channels). Channel secrets are written as the environment variables to put them
 * in; Vigil never shows them. Returns the document and warnings (what the file can't carry).
 */
export async function exportInventory(client: ApiClient): Promise<{ document: Record<string, unknown>; warnings: string[] }> {
  const credentialNames = new Map<string, string>();
  let after: string | undefined;
  do {
    const page = bodyOf('list credentials', await client.GET('/api/credentials', { params: { query: { limit: 1000, ...(after ? { after } : {}) } } }));
    for (const c of page.credentials) credentialNames.set(c.id, c.name);
    after = page.next_cursor ?? undefined;
  } while (after);
  const warnings: string[] = [];
  const policyList = bodyOf('list policies', await client.GET('/api/policies')).policies;
  const policyNames = new Map(policyList.map((p) => [p.id, p.name]));

  const hostList = [];
  for await (const h of allHosts(client)) hostList.push(h);
  const hostNames = new Map(hostList.map((h) => [h.id, h.name]));
  const nameOfHost = (id: string) => hostNames.get(id) ?? id;

  const groups = bodyOf('list groups', await client.GET('/api/groups'))
    .groups.filter((g) => g.configured)
    .map((g) => ({
      name: g.name,
      max_concurrent_checks: g.max_concurrent_checks,
      maintenance: g.maintenance,
      ...(g.policy_id ? { policy: policyNames.get(g.policy_id) ?? g.policy_id } : {}),
      ...(g.gateway_host_id ? { gateway: nameOfHost(g.gateway_host_id) } : {}),
    }));
  const hosts = hostList.map((h) => {
    const probes = h.probes.map((p) => {
      const { credential_id, ...rest } = p as Record<string, unknown>;
      const headers = rest.headers as Record<string, string> | undefined;
      for (const [k, v] of Object.entries(headers ?? {})) if (v === MASK) warnings.push(`${h.name}: header ${k} is masked by the API; the file holds the mask, not the value`);
      return credential_id ? { ...rest, credential: credentialNames.get(String(credential_id)) ?? String(credential_id) } : rest;
    });
    return {
      name: h.name,
      address: h.address,
      ...(h.group ? { group: h.group } : {}),
      ...(h.tags.length ? { tags: h.tags } : {}),
      ...(h.enabled ? {} : { enabled: false }),
      ...(h.maintenance ? { maintenance: true } : {}),
      ...(h.policy_id ? { policy: policyNames.get(h.policy_id) ?? h.policy_id } : {}),
      ...(Object.keys(h.policy_overrides).length ? { policy_overrides: h.policy_overrides } : {}),
      ...(h.depends_on.length ? { depends_on: h.depends_on.map(nameOfHost) } : {}),
      probes,
    };
  });

  const policies = policyList.map((p) => ({ name: p.name, ...(p.description ? { description: p.description } : {}), settings: p.settings }));
  const windows = bodyOf('list maintenance windows', await client.GET('/api/maintenance-windows')).windows.map((w) => ({
    label: w.label,
    ...(w.reason ? { reason: w.reason } : {}),
    time_zone: w.time_zone,
    ...(w.kind === 'one_off' ? { starts_at: w.starts_at, ends_at: w.ends_at } : { cron: w.cron, duration_seconds: w.duration_seconds }),
    ...(w.active_from ? { active_from: w.active_from } : {}),
    ...(w.active_until ? { active_until: w.active_until } : {}),
    ...(w.hosts.length ? { hosts: w.hosts.map(nameOfHost) } : {}),
    ...(w.groups.length ? { groups: w.groups } : {}),
    ...(w.tags.length ? { tags: w.tags } : {}),
  }));
  const channelList = bodyOf('list notification channels', await client.GET('/api/notification-channels')).channels;
  const channelNames = new Map(channelList.map((c) => [c.id, c.name]));
  const channels = channelList.map((c) => {
    const secrets = Object.fromEntries(c.secrets_set.map((f) => [f, { env: secretEnvName(c.name, f) }]));
    if (c.secrets_set.length) warnings.push(`channel ${c.name}: its secrets are not exported; set ${c.secrets_set.map((f) => secretEnvName(c.name, f)).join(', ')} to create it elsewhere`);
    return { name: c.name, type: c.type, config: { ...c.config, ...secrets }, enabled: c.enabled, rate_limit_per_minute: c.rate_limit_per_minute };
  });
  const rules = bodyOf('list notification rules', await client.GET('/api/notification-rules')).rules.map((r) => ({
    name: r.name,
    channels: r.channel_ids.map((id) => channelNames.get(id) ?? id),
    ...(r.event_types.length ? { event_types: r.event_types } : {}),
    ...(r.states.length ? { states: r.states } : {}),
    ...(r.groups.length ? { groups: r.groups } : {}),
    ...(r.tags.length ? { tags: r.tags } : {}),
    ...(r.host_ids.length ? { hosts: r.host_ids.map(nameOfHost) } : {}),
    cooldown_seconds: r.cooldown_seconds,
    ...(r.renotify_seconds !== null ? { renotify_seconds: r.renotify_seconds } : {}),
    ...(r.enabled ? {} : { enabled: false }),
  }));

  const document = {
    version: 1,
    ...(policies.length ? { policies } : {}),
    ...(groups.length ? { groups } : {}),
    hosts,
    ...(windows.length ? { maintenance_windows: windows } : {}),
    ...(channels.length ? { notification_channels: channels } : {}),
    ...(rules.length ? { notification_rules: rules } : {}),
  };
  return { document, warnings };
}

export function inventoryYaml(document: Record<string, unknown>): string {
  return `# Vigil inventory: vigil apply -f this-file\n${stringify(document, { lineWidth: 0 })}`;
}
