import { bodyOf, type ApiClient, type Schemas } from './api-client.ts';
import { CliError } from './errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A host named on the command line by id or by name. Names are found with the list's
 * case-insensitive substring search, then matched exactly (the API has no lookup by name).
 */
export async function resolveHost(client: ApiClient, ref: string): Promise<Schemas['Host']> {
  if (UUID.test(ref)) {
    const answer = await client.GET('/api/hosts/{host_id}', { params: { path: { host_id: ref } } });
    if (answer.response.status !== 404) return bodyOf(`host ${ref}`, answer);
  }
  const found = await findHostByName(client, ref);
  if (!found) throw new CliError(`no host named ${JSON.stringify(ref)} (give a host name or id; \`vigil hosts list\` shows them)`);
  return found;
}

export async function findHostByName(client: ApiClient, name: string): Promise<Schemas['Host'] | undefined> {
  let after: string | undefined;
  do {
    const page = bodyOf('find host', await client.GET('/api/hosts', { params: { query: { q: name, limit: 1000, ...(after ? { after } : {}) } } }));
    const exact = page.hosts.find((h) => h.name === name);
    if (exact) return exact;
    after = page.next_cursor ?? undefined;
  } while (after);
  return undefined;
}

/** Every host, page by page (1,000 a page), for export-inventory and apply. */
export async function* allHosts(client: ApiClient): AsyncGenerator<Schemas['Host']> {
  let after: string | undefined;
  do {
    const page = bodyOf('list hosts', await client.GET('/api/hosts', { params: { query: { limit: 1000, ...(after ? { after } : {}) } } }));
    yield* page.hosts;
    after = page.next_cursor ?? undefined;
  } while (after);
}
