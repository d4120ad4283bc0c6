import { createToken } from '../auth/token-service.ts';
import { listTokens, revokeToken, type TokenRow } from '../db/queries/tokens.ts';
import { notFound } from '../lib/errors.ts';
import type { ApiDeps } from './deps.ts';
import { defineRoute, type RouteSpec } from './route.ts';
import { problemSchema, tokenCreatedSchema, tokenCreateSchema, tokenIdParams, tokenListSchema, tokenSchema } from './schemas.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const TAGS = ['tokens'];
const iso = (d: Date | null) => (d ? d.toISOString() : null);

function serializeToken(t: TokenRow) {
  return {
    id: t.id,
    name: t.name,
    scopes: t.scopes,
    prefix: t.prefix,
    created_at: t.created_at.toISOString(),
    expires_at: iso(t.expires_at),
    revoked_at: iso(t.revoked_at),
    last_used_at: iso(t.last_used_at),
  };
}

/** API tokens (admin only). A token is shown once, when created; afterwards only its prefix. */
export function tokenRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool } = deps;
  return [
    defineRoute({
      method: 'post',
      path: '/api/tokens',
      operationId: 'createToken',
      summary: 'Create an API token (shown once)',
      tags: TAGS,
      scope: 'admin',
      body: tokenCreateSchema,
      responses: { 201: { description: 'Created: the token is in this response only', schema: tokenCreatedSchema }, 400: problem('Invalid body') },
      handler: async ({ body }) => {
        const { row, token } = await createToken(pool, { name: body.name, scopes: body.scopes, expiresInDays: body.expires_in_days });
        return { status: 201, body: { ...serializeToken(row), token }, headers: { 'Cache-Control': 'no-store' } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/tokens',
      operationId: 'listTokens',
      summary: 'List API tokens (never the tokens themselves)',
      tags: TAGS,
      scope: 'admin',
      responses: { 200: { description: 'All tokens, revoked ones included', schema: tokenListSchema }, 400: problem('Unexpected query') },
      handler: async () => ({ status: 200, body: { tokens: (await listTokens(pool)).map(serializeToken) } }),
    }),
    defineRoute({
      method: 'delete',
      path: '/api/tokens/{token_id}',
      operationId: 'revokeToken',
      summary: 'Revoke an API token',
      tags: TAGS,
      scope: 'admin',
      params: tokenIdParams,
      responses: { 200: { description: 'The revoked token', schema: tokenSchema }, 400: problem('Malformed id'), 404: problem('No such token') },
      handler: async ({ params }) => {
        const row = await revokeToken(pool, params.token_id);
        if (!row) throw notFound('token');
        return { status: 200, body: serializeToken(row) };
      },
    }),
  ];
}
