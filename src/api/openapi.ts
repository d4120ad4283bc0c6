import { z } from 'zod';
import { stringify } from 'yaml';
import type { RouteSpec } from './route.ts';
import { apiRegistry } from './schemas.ts';

const COMPONENT_REF = (id: string) => `#/components/schemas/${id}`;
type Io = 'input' | 'output';

/**
 * Named schemas (registered in apiRegistry) are referenced as components; others are inlined.
 * Requests are documented as the client sends them (input), responses as sent (output).
 */
function toSchema(schema: z.ZodType, io: Io): Record<string, unknown> {
  const id = apiRegistry.get(schema)?.id;
  if (id) return { $ref: COMPONENT_REF(componentName(id, io)) };
  const json = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** Input and output shapes of one schema can differ (defaults), so inputs get their own names. */
function componentName(id: string, io: Io): string {
  return io === 'input' ? `${id}Input` : id;
}

function components(): Record<string, unknown> {
  const all: Record<string, unknown> = {};
  for (const io of ['output', 'input'] as const) {
    const { schemas } = z.toJSONSchema(apiRegistry, {
      io,
      target: 'draft-2020-12',
      unrepresentable: 'any',
      uri: (id) => COMPONENT_REF(componentName(id, io)),
    }) as { schemas: Record<string, Record<string, unknown>> };
    for (const [id, schema] of Object.entries(schemas)) {
      delete schema.$schema;
      delete schema.$id;
      all[componentName(id, io)] = schema;
    }
  }
  return all;
}

/** Only the components the paths reach (directly or through other components), sorted by name. */
function reachable(paths: unknown, all: Record<string, unknown>): Record<string, unknown> {
  const names = new Set<string>();
  const visit = (value: unknown) => {
    for (const [, name] of JSON.stringify(value).matchAll(/"#\/components\/schemas\/(\w+)"/g)) {
      if (!names.has(name!)) {
        names.add(name!);
        visit(all[name!]);
      }
    }
  };
  visit(paths);
  return Object.fromEntries([...names].sort().map((n) => [n, all[n]]));
}

function parameters(route: RouteSpec): unknown[] {
  const list = (where: 'path' | 'query', schema: z.ZodType | undefined) => {
    if (!schema) return [];
    const json = toSchema(schema, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
    return Object.entries(json.properties ?? {}).map(([name, prop]) => ({
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(prop.description ? { description: prop.description } : {}),
      schema: prop,
    }));
  };
  return [...list('path', route.params), ...list('query', route.query)];
}

function operation(route: RouteSpec) {
  const params = parameters(route);
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: route.tags,
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(route.body, 'input') } } } }
      : {}),
    responses: Object.fromEntries(
      Object.entries(route.responses).map(([status, r]) => [
        status,
        {
          description: r.description,
          ...(r.schema
            ? { content: { [Number(status) >= 400 ? 'application/problem+json' : 'application/json']: { schema: toSchema(r.schema, 'output') } } }
            : {}),
        },
      ]),
    ),
  };
}

/** The OpenAPI 3.1 document for a list of routes. */
export function buildOpenApiDocument(routes: RouteSpec[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method] = operation(route);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Vigil API',
      version: '0.1.0',
      description: 'Adaptive host health checks: hosts, per-host health state machines, just-in-time checks.',
    },
    servers: [{ url: 'http://127.0.0.1:8080' }],
    tags: [
      { name: 'hosts', description: 'Monitored hosts and their probes' },
      { name: 'credentials', description: 'Shared credentials; secrets are write-only and encrypted at rest' },
      { name: 'monitoring', description: 'Health state, just-in-time checks and check tasks' },
    ],
    paths,
    components: { schemas: reachable(paths, components()) },
  };
}

export function openApiYaml(doc: Record<string, unknown>): string {
  return stringify(doc, { aliasDuplicateObjects: false, lineWidth: 0 });
}
