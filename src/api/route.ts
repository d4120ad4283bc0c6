import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { Scope } from '../auth/tokens.ts';

/**
 * One API operation: its contract (validated input, documented responses) and its handler. The
 * express router and openapi.yaml are both built from the list of these, so they cannot drift.
 */
export interface RouteSpec<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI-style path, e.g. `/api/hosts/{host_id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  params?: P;
  query?: Q;
  body?: B;
  /** Status -> response description and body schema (none for 204/304). */
  responses: Record<number, ResponseSpec>;
  /** Request body size limit when larger than the API's default (bulk writes), e.g. `16mb`. */
  bodyLimit?: string;
  /** Token scope the operation needs (`x-required-scope`); see {@link requiredScope} for the default. */
  scope?: Scope;
  /** Examples for openapi.yaml; without them the body's and responses' schemas' own (src/api/examples.ts) are used. */
  examples?: { request?: ApiExample[]; responses?: Partial<Record<number, ApiExample[]>> };
  handler: (input: { params: z.output<P>; query: z.output<Q>; body: z.output<B> }, http: { req: Request; res: Response }) => Promise<Reply>;
}

export { SCOPES, type Scope } from '../auth/tokens.ts';

/** The scope an operation needs: its own, else read for GET and admin for writes. */
export function requiredScope(route: Pick<RouteSpec, 'method' | 'scope'>): Scope {
  return route.scope ?? (route.method === 'get' ? 'read' : 'admin');
}

/**
 * Scopes whose tokens may call the operation. admin passes everything; a read token may also GET
 * what a check token may (host state, check tasks): reading state is what read is for.
 */
export function acceptedScopes(route: Pick<RouteSpec, 'method' | 'scope'>): Scope[] {
  const scope = requiredScope(route);
  if (scope === 'check' && route.method === 'get') return ['check', 'read', 'admin'];
  return scope === 'admin' ? ['admin'] : [scope, 'admin'];
}

/** A named example for openapi.yaml (components/examples); tests validate it against its schema. */
export interface ApiExample {
  /** Component name, e.g. `HostCreateHttp`. */
  name: string;
  summary: string;
  value: unknown;
  /** The media type it shows, for responses documented with several (`content`); default application/json. */
  mediaType?: string;
}

/** One documented response. `schema` is a JSON body; `content` documents other media types instead (streamed files). */
export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Media type -> body schema; a media type without one is documented as a string (text/csv). */
  content?: Record<string, z.ZodType | undefined>;
  /** Response headers worth documenting (ETag, Content-Disposition): name -> description. */
  headers?: Record<string, string>;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * Takes over the response after status and headers are set, instead of `body`: for bodies too
   * large to build in memory. It writes and ends `res` itself; headers are sent with its first write.
   */
  stream?: (res: Response) => Promise<void>;
}

/** Keeps the handler's input types tied to the route's schemas. */
export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(spec: RouteSpec<P, Q, B>): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** `/api/hosts/{host_id}` -> `/api/hosts/:host_id` */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}
