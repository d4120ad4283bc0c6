import type { Request, Response } from 'express';
import { z } from 'zod';
import { CSRF_HEADER, SESSION_COOKIE, signIn, signOut } from '../auth/session-service.ts';
import { SCOPES } from '../auth/tokens.ts';
import type { ApiDeps } from './deps.ts';
import { principalOf, sessionOf } from './auth.ts';
import { defineRoute, type ApiExample, type Reply, type RouteSpec } from './route.ts';
import { apiRegistry, problemSchema } from './schemas.ts';

const problem = (description: string) => ({ description, schema: problemSchema });
const TAGS = ['session'];

export const sessionSchema = z.object({
  name: z.string().describe('Name of the token the caller acts as'),
  scopes: z.array(z.enum(SCOPES)).describe("The token's scopes: what the dashboard offers"),
  expires_at: z.iso.datetime({ offset: true }).nullable().describe('When the session ends (null for bearer-token calls)'),
  csrf_token: z.string().nullable().describe(`Send it as ${CSRF_HEADER} with every cookie-authenticated write (null for bearer-token calls)`),
});
apiRegistry.add(sessionSchema, { id: 'Session' });

const SESSION_EXAMPLE: ApiExample = {
  name: 'Session',
  summary: 'A dashboard session of a read token',
  value: { name: 'on-call dashboard', scopes: ['read'], expires_at: '2026-05-05T21:00:00.000Z', csrf_token: 'pT0d8s9V2kq3Zr1XyWm5nA7bC4eF6gH8iJ0lM2oQ4sU' },
};

/** Secure when the browser reached us over TLS, directly or through a proxy that says so. */
function overTls(req: Request): boolean {
  return req.secure || req.get('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';
}

function cookie(req: Request, value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${overTls(req) ? '; Secure' : ''}`;
}

function describeCaller(res: Response) {
  const session = sessionOf(res);
  const principal = principalOf(res);
  return { name: principal.name, scopes: principal.scopes, expires_at: session?.expiresAt.toISOString() ?? null, csrf_token: session?.csrfToken ?? null };
}

/**
 * The dashboard's sign-in: a browser exchanges an API token (sent once, as a bearer token) for an
 * HttpOnly session cookie, which EventSource can carry. Bearer clients never need these.
 */
export function sessionRoutes(deps: ApiDeps): RouteSpec[] {
  const { pool, config } = deps;
  return [
    defineRoute({
      method: 'post',
      path: '/api/session',
      operationId: 'createSession',
      summary: 'Sign in: exchange the bearer token for a session cookie (dashboard)',
      description:
        `Answers with Set-Cookie: ${SESSION_COOKIE} (HttpOnly, SameSite=Strict, Secure over TLS), valid for 12 hours or until the token ` +
        `expires or is revoked, whichever is first. Requests with the cookie act with the token's scopes; writes must also send ` +
        `the returned csrf_token in the ${CSRF_HEADER} header.`,
      tags: TAGS,
      scope: 'read',
      responses: { 201: { description: 'Signed in', schema: sessionSchema, headers: { 'Set-Cookie': 'The session cookie' } } },
      examples: { responses: { 201: [SESSION_EXAMPLE] } },
      handler: async (_input, { req, res }): Promise<Reply> => {
        const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
        // A cookie-authenticated call has no token to exchange: it already has a session.
        if (!presented) return { status: 201, body: describeCaller(res), headers: { 'Cache-Control': 'no-store' } };
        const session = await signIn(pool, config.adminToken, presented);
        return {
          status: 201,
          headers: { 'Set-Cookie': cookie(req, session.sessionId, session.maxAgeSeconds), 'Cache-Control': 'no-store' },
          body: { name: session.principal.name, scopes: session.principal.scopes, expires_at: session.expiresAt.toISOString(), csrf_token: session.csrfToken },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/session',
      operationId: 'getSession',
      summary: 'Who the caller is: token name, scopes and (for a session) its expiry and CSRF value',
      tags: TAGS,
      scope: 'read',
      responses: { 200: { description: 'The caller', schema: sessionSchema } },
      examples: { responses: { 200: [SESSION_EXAMPLE] } },
      handler: async (_input, { res }) => ({ status: 200, body: describeCaller(res), headers: { 'Cache-Control': 'no-store' } }),
    }),
    defineRoute({
      method: 'delete',
      path: '/api/session',
      operationId: 'deleteSession',
      summary: 'Sign out: end this session and clear its cookie',
      tags: TAGS,
      scope: 'read',
      responses: { 204: { description: 'Signed out (also when there was no session)' } },
      handler: async (_input, { req, res }) => {
        const session = sessionOf(res);
        if (session) await signOut(pool, session.id);
        return { status: 204, headers: { 'Set-Cookie': cookie(req, '', 0) } };
      },
    }),
  ];
}
