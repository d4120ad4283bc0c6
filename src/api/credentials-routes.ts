import { deleteCredential, getCredential, listCredentials } from '../db/queries/credentials.ts';
import { notFound } from '../lib/errors.ts';
import { changeCredential, createCredential } from '../credentials/store.ts';
import type { ApiDeps } from './deps.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import {
  credentialCreateSchema,
  credentialIdParams,
  credentialListQuery,
  credentialListSchema,
  credentialPatchSchema,
  credentialSchema,
  problemSchema,
} from './schemas.ts';
import { serializeCredential } from './serialize.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const TAGS = ['credentials'];

/** Shared credentials. Secret fields are write-only: no route ever returns them. */
export function credentialRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool } = deps;
  const byId = { params: credentialIdParams };
  return [
    defineRoute({
      method: 'post',
      path: '/api/credentials',
      operationId: 'createCredential',
      summary: 'Store a credential (encrypted) for hosts to share',
      tags: TAGS,
      body: credentialCreateSchema,
      responses: {
        201: { description: 'Created; secrets are not echoed', schema: credentialSchema },
        400: problem('Invalid body'),
        409: problem('Name taken'),
        503: problem('No secret key configured'),
      },
      handler: async ({ body }) => {
        const row = await createCredential(pool, deps.secretKey, body as never);
        return { status: 201, body: serializeCredential(row), headers: { Location: `/api/credentials/${row.id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/credentials',
      operationId: 'listCredentials',
      summary: 'List credentials by name',
      tags: TAGS,
      scope: 'admin', // credentials describe access to the fleet, even without their secrets
      query: credentialListQuery,
      responses: { 200: { description: 'A page of credentials', schema: credentialListSchema }, 400: problem('Invalid query') },
      handler: async ({ query }) => {
        const rows = await listCredentials(pool, { kind: query.kind, afterName: query.after, limit: query.limit });
        const next = rows.length === query.limit ? rows[rows.length - 1]!.name : null;
        return { status: 200, body: { credentials: rows.map(serializeCredential), next_cursor: next } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/credentials/{credential_id}',
      operationId: 'getCredential',
      summary: 'Get one credential (without its secrets)',
      tags: TAGS,
      scope: 'admin',
      ...byId,
      responses: { 200: { description: 'The credential', schema: credentialSchema }, 400: problem('Malformed id'), 404: problem('No such credential') },
      handler: async ({ params }) => {
        const row = await getCredential(pool, params.credential_id);
        if (!row) throw notFound('credential');
        return { status: 200, body: serializeCredential(row) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/credentials/{credential_id}',
      operationId: 'updateCredential',
      summary: 'Change a credential; secrets given replace the stored ones',
      tags: TAGS,
      ...byId,
      body: credentialPatchSchema,
      responses: {
        200: { description: 'The updated credential', schema: credentialSchema },
        400: problem('Invalid body, or a field of another kind'),
        404: problem('No such credential'),
        409: problem('Name taken'),
        503: problem('No secret key configured'),
      },
      handler: async ({ params, body }) => {
        const row = await changeCredential(pool, deps.secretKey, params.credential_id, body);
        if (!row) throw notFound('credential');
        return { status: 200, body: serializeCredential(row) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/credentials/{credential_id}',
      operationId: 'deleteCredential',
      summary: 'Delete a credential no host uses',
      tags: TAGS,
      ...byId,
      responses: { 204: { description: 'Deleted' }, 400: problem('Malformed id'), 404: problem('No such credential'), 409: problem('Used by hosts (named)') },
      handler: async ({ params }) => {
        if (!(await deleteCredential(pool, params.credential_id))) throw notFound('credential');
        return { status: 204 };
      },
    }),
  ];
}
