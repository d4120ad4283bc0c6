import { stringify } from 'yaml';
import { bodyOf, type ApiClient } from '../api-client.ts';
import { allHosts } from '../host-ref.ts';

const MASK = '********';

/**
 * Today's fleet in the inventory format (inventory-file.ts): configured groups with their
 * settings, every host with the fields that differ from the defaults, credentials by name.
 * Returns the document and warnings (header values the API masked, which can't be exported).
 */
export async function exportInventory(client: ApiClient): Promise<{ document: Record<string, unknown>; warnings: string[] }> {
  const credentialNames = new Map<string, string>();
  let after: string | undefined;
  do {
    const page = bodyOf('list credentials', await client.GET('/api/credentials', { params: { query: { limit: 1000, ...(after ? { after } : {}) } } }));
    for (const c of page.credentials) credentialNames.set(c.id, c.name);
    after = page.next_cursor ?? undefined;
  } while (after);

  const groups = bodyOf('list groups', await client.GET('/api/groups'))
    .groups.filter((g) => g.configured)
    .map((g) => ({ name: g.name, max_concurrent_checks: g.max_concurrent_checks, maintenance: g.maintenance }));
  const warnings: string[] = [];
  const hosts: Record<string, unknown>[] = [];
  for await (const h of allHosts(client)) {
    const probes = h.probes.map((p) => {
      const { credential_id, ...rest } = p as Record<string, unknown>;
      const headers = rest.headers as Record<string, string> | undefined;
      for (const [k, v] of Object.entries(headers ?? {})) if (v === MASK) warnings.push(`${h.name}: header ${k} is masked by the API; the file holds the mask, not the value`);
      return credential_id ? { ...rest, credential: credentialNames.get(String(credential_id)) ?? String(credential_id) } : rest;
    });
    hosts.push({
      name: h.name,
      address: h.address,
      ...(h.group ? { group: h.group } : {}),
      ...(h.tags.length ? { tags: h.tags } : {}),
      ...(h.enabled ? {} : { enabled: false }),
      ...(h.maintenance ? { maintenance: true } : {}),
      probes,
    });
  }
  return { document: { version: 1, ...(groups.length ? { groups } : {}), hosts }, warnings };
}

export function inventoryYaml(document: Record<string, unknown>): string {
  return `# Vigil inventory: vigil apply -f this-file\n${stringify(document, { lineWidth: 0 })}`;
}
