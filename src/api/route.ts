import type { Request, Response } from 'express';
import type { z } from 'zod';

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
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  handler: (input: { params: z.output<P>; query: z.output<Q>; body: z.output<B> }, http: { req: Request; res: Response }) => Promise<Reply>;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Keeps the handler's input types tied to the route's schemas. */
export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(spec: RouteSpec<P, Q, B>): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** `/api/hosts/{host_id}` -> `/api/hosts/:host_id` */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}
