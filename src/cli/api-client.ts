/**
 * The CLI's HTTP client: openapi-fetch over the types openapi-typescript generates from
 * openapi.yaml (src/api/openapi-types.d.ts, rewritten by `npm run openapi`; a test fails when it is stale).
 * Nothing here is hand-typed, so the CLI compiles only while the API has the fields it uses.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from '../api/openapi-types.d.ts';
import { CliError } from './errors.ts';

type JsonMedia = 'application/json' | 'application/problem+json';
export type ApiClient = Client<paths, JsonMedia>;
export type Schemas = components['schemas'];

/** Where Vigil is and who we are. */
export interface Connection {
  url: string;
  token?: string | undefined;
}

export function createApiClient(conn: Connection): ApiClient {
  const client = createClient<paths, JsonMedia>({
    baseUrl: conn.url.replace(/\/+$/, ''),
    headers: conn.token ? { authorization: `Bearer ${conn.token}` } : {},
  });
  // A refused connection reaches us as a bare "fetch failed": say where we tried and what to check.
  client.use({
    onError: ({ error }) => {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return new CliError(`cannot reach Vigil at ${conn.url}: ${cause?.code ?? cause?.message ?? String(error)} (set VIGIL_URL or --url)`);
    },
  });
  return client;
}

/** The body of a successful answer; otherwise a CliError with the status, the problem's detail and its field errors. */
export function bodyOf<T>(what: string, answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.data !== undefined) return answer.data;
  throw problemError(what, answer.response.status, answer.error);
}

export function problemError(what: string, status: number, error: unknown): CliError {
  const problem = error as Partial<Schemas['Problem']> | undefined;
  const fields = (problem?.errors ?? []).map((e) => `\n  ${e.field}: ${e.message}`).join('');
  const hint = status === 401 ? ' (set VIGIL_TOKEN or --token)' : status === 403 ? ' (this token lacks the scope)' : '';
  return new CliError(`${what}: HTTP ${status}${problem?.detail ? `: ${problem.detail}` : ''}${hint}${fields}`);
}

type JsonBody<R> = R extends { content: { 'application/json': infer B } } ? B : never;
/** Request bodies (the generator inlines them rather than naming them). */
export type HostCreateBody = JsonBody<paths['/api/hosts']['post']['requestBody']>;
export type HostPatchBody = JsonBody<paths['/api/hosts/{host_id}']['patch']['requestBody']>;
export type GroupUpdateBody = JsonBody<paths['/api/groups/{group}']['patch']['requestBody']>;
