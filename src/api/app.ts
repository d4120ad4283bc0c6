import express, { type Express, type Request, type RequestHandler } from 'express';
import type { z } from 'zod';
import { AppError, badRequest, type FieldError } from '../lib/errors.ts';
import type { ApiDeps } from './deps.ts';
import { credentialRoutes } from './credentials-routes.ts';
import { authenticateApi, authorize, principalOf } from './auth.ts';
import { serveDocs } from './docs.ts';
import { serveDashboard } from './dashboard.ts';
import { badgeRoutes, serveBadges } from './badge-routes.ts';
import { serveHealth } from './health.ts';
import { requestContext } from './request-context.ts';
import { serveMetrics } from '../observability/serve-metrics.ts';
import { groupRoutes } from './groups-routes.ts';
import { hostRoutes } from './hosts-routes.ts';
import { hostBulkRoutes } from './hosts-bulk-routes.ts';
import { historyRoutes } from './history-routes.ts';
import { inventoryViewRoutes } from './inventory-view-routes.ts';
import { operationsRoutes } from './operations-routes.ts';
import { tokenRoutes } from './tokens-routes.ts';
import { sessionRoutes } from './session-routes.ts';
import { eventRoutes } from './events-routes.ts';
import { webhookRoutes } from './webhooks-routes.ts';
import { notificationRoutes } from './notifications-routes.ts';
import { monitoringRoutes } from './monitoring-routes.ts';
import { policyRoutes } from './policies-routes.ts';
import { maintenanceWindowRoutes } from './maintenance-windows-routes.ts';
import { valueTemplateRoutes } from './value-templates-routes.ts';
import { buildOpenApiDocument, openApiYaml } from './openapi.ts';
import { errorHandler, fieldErrors, notFoundHandler } from './problem.ts';
import { expressPath, type RouteSpec } from './route.ts';

export const BODY_LIMIT = '1mb';

/** Every operation the API serves, in the order openapi.yaml lists them. */
export function apiRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    ...hostRoutes(deps), ...hostBulkRoutes(deps), ...credentialRoutes(deps), ...groupRoutes(deps), ...monitoringRoutes(deps),
    ...historyRoutes(deps), ...inventoryViewRoutes(deps), ...operationsRoutes(deps), ...eventRoutes(deps), ...webhookRoutes(deps), ...tokenRoutes(deps),
    ...notificationRoutes(deps),
    ...valueTemplateRoutes(deps),
    ...sessionRoutes(deps), ...badgeRoutes(deps),
    ...policyRoutes(deps), ...maintenanceWindowRoutes(deps),
  ];
}

export function createApi(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // No automatic weak ETags: routes that support conditional GETs set their own (src/api/etag.ts).
  app.set('etag', false);
  app.set('query parser', 'simple');
  const routes = apiRoutes(deps);
  app.use(requestContext(deps.logger));
  serveHealth(app, deps);
  if (deps.metrics) serveMetrics(app, deps.metrics, deps.config.metricsToken);
  serveBadges(app, deps.pool);
  app.use('/api', authenticateApi(deps.pool, deps.config));
  const spec = openApiYaml(buildOpenApiDocument(routes));
  app.get('/openapi.yaml', (_req, res) => void res.type('application/yaml').send(spec));
  serveDocs(app);
  // The scope is checked before the body is parsed: a read token cannot make us parse a 16 MB bulk body.
  for (const route of routes) {
    const parseBody = express.json({ limit: route.bodyLimit ?? BODY_LIMIT, strict: true });
    app[route.method](expressPath(route.path), (_req, res, next) => next(authorize(route, principalOf(res))), parseBody, serve(route));
  }
  serveDashboard(app);
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}

function serve(route: RouteSpec): RequestHandler {
  return async (req, res) => {
    // Conditional GETs only where documented (their handlers compare ETags): express's res.json
    // would otherwise answer any GET carrying `If-None-Match: *` with an undocumented 304.
    if (!route.responses[304]) delete req.headers['if-none-match'];
    const input = parseInput(route, req);
    const reply = await route.handler(input, { req, res });
    res.status(reply.status).set(reply.headers ?? {});
    if (reply.stream) await reply.stream(res);
    else if (reply.body === undefined) res.end();
    else res.json(reply.body);
  };
}

/** Validates path params, query and body together, so one 400 names every bad field. */
function parseInput(route: RouteSpec, req: Request) {
  // req.is() is false for a body of another type, null for no body at all.
  if (route.body && req.is('application/json') === false) {
    throw new AppError('unsupported_media_type', 415, 'send the body as application/json');
  }
  const errors: FieldError[] = [];
  const parse = (where: string, schema: z.ZodType | undefined, value: unknown) => {
    if (!schema) return undefined;
    const result = schema.safeParse(value);
    if (!result.success) {
      errors.push(...fieldErrors(where, result.error));
      return undefined;
    }
    errors.push(...unstorableTextErrors([where], result.data));
    return result.data;
  };
  const input = {
    params: parse('path', route.params, req.params),
    query: parse('query', route.query, { ...req.query }),
    body: parse('body', route.body, req.body ?? {}),
  };
  if (!route.query && Object.keys(req.query).length > 0) {
    errors.push(...Object.keys(req.query).map((k) => ({ field: `query.${k}`, message: 'unknown query parameter' })));
  }
  if (errors.length > 0) throw badRequest(`invalid request: ${errors.map((e) => e.field).join(', ')}`, errors);
  return input as { params: never; query: never; body: never };
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000, and jsonb refuses an unpaired surrogate (`"\udfff"` in JSON),
 * so such a string in a valid-looking value would fail its query (a 500): name it as a bad field
 * instead. Walks the parsed input, whose depth the schemas bound.
 */
function unstorableTextErrors(path: string[], value: unknown): FieldError[] {
  const field = path.join('.');
  if (typeof value === 'string') return unstorable(value) ? [{ field, message: 'must be Unicode text without NUL (U+0000) or unpaired surrogates' }] : [];
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => [
    ...(unstorable(key) ? [{ field: `${field}.${key}`, message: 'name must be Unicode text without NUL (U+0000) or unpaired surrogates' }] : []),
    ...unstorableTextErrors([...path, key], child),
  ]);
}

const unstorable = (text: string) => text.includes('\u0000') || !text.isWellFormed();
