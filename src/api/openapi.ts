import { z } from 'zod';
import { stringify } from 'yaml';
import { SIGNATURE_HEADER } from '../webhooks/payload.ts';
import { BAD_REQUEST_EXAMPLES, EVENT_EXAMPLE, PROBLEM_EXAMPLES, SCHEMA_EXAMPLES } from './examples.ts';
import { requiredScope, type ApiExample, type RouteSpec } from './route.ts';
import { apiRegistry, eventSchema, problemSchema } from './schemas.ts';

const SCHEMA_REF = (id: string) => `#/components/schemas/${id}`;
const EXAMPLE_REF = (name: string) => `#/components/examples/${name}`;
const RESPONSE_REF = (name: string) => `#/components/responses/${name}`;
const PROBLEM_TYPE = 'application/problem+json';
type Io = 'input' | 'output';

/** Descriptions of the routes' tags; tags are listed in the order routes first use them. */
const TAG_DESCRIPTIONS: Record<string, string> = {
  hosts: 'Monitored hosts and their probes',
  credentials: 'Shared credentials; secrets are write-only and encrypted at rest',
  groups: 'Groups of hosts behind one device: concurrency limits, maintenance and bulk actions',
  monitoring: 'Health state, just-in-time checks and check tasks',
  operations: 'Is the worker pool keeping up: queue depth and lag, live workers, check statistics',
  tokens: 'API tokens and their scopes (admin only)',
  values: 'Value templates (named sets of SNMP items a check collects), their assignment to hosts and groups, and latest values',
  events: 'State changes and incident events, streamed (Server-Sent Events)',
  incidents: 'Incidents opened by bad states: deduplicated per host, auto-resolved, acknowledged',
  badges: 'Which hosts and groups have a status badge (SVG at /badges/hosts/{host_id}.svg) served without a token',
  session: 'Dashboard sign-in: a session cookie bound to a token, for browsers (EventSource cannot send a bearer token)',
  policies: 'Check policies: per-state intervals and priorities, timeout, thresholds and probe retries, assigned to hosts and groups',
  'maintenance-windows': 'Scheduled maintenance: one-off and recurring (cron in an IANA time zone) windows over hosts, groups and tags',
  webhooks: 'Event subscriptions POSTed to your URLs, signed (Vigil-Signature), retried with backoff; delivery logs (admin only)',
  notifications: 'Notification channels (e-mail, Slack, Microsoft Teams, PagerDuty, signed webhooks), rules routing events to them with cooldown and reminders, test sends and delivery logs (admin only)',
};

/**
 * Answers every operation can give outside its handler: authentication, the body parser (it reads
 * any JSON body sent to /api before routing, even a GET's), and the database being away.
 */
const SHARED_RESPONSES = {
  401: { name: 'Unauthorized', description: 'No valid bearer token' },
  403: { name: 'Forbidden', description: "The token lacks the operation's scope (x-required-scope)" },
  413: { name: 'PayloadTooLarge', description: 'The request body is larger than the operation takes (1 MB unless its own 413 says otherwise)' },
  415: {
    name: 'UnsupportedMediaType',
    description: 'The request body cannot be read: not application/json (operations that take a body), a charset other than UTF-8, or an unknown Content-Encoding',
  },
  503: { name: 'Unavailable', description: 'The database is unreachable; retry after the Retry-After seconds' },
} as const;

const BEARER_AUTH = {
  type: 'http',
  scheme: 'bearer',
  description: [
    'An API token, sent as `Authorization: Bearer <token>`. Tokens carry scopes; each operation names the one made for it in `x-required-scope`:',
    '',
    '- `read`: the read-only operations (hosts, host state, history, export, stats, check tasks), except credentials and tokens;',
    '- `check`: just-in-time checks, host state and check tasks (what a scanner needs);',
    '- `admin`: everything, including writes, credentials and tokens.',
    '',
    'A token with `admin` passes every operation. Without a valid token the answer is 401; with a token lacking the scope, 403.',
  ].join('\n'),
};

/**
 * Named schemas (registered in apiRegistry) are referenced as components; others are inlined.
 * Requests are documented as the client sends them (input), responses as sent (output).
 */
function toSchema(schema: z.ZodType, io: Io): Record<string, unknown> {
  const id = apiRegistry.get(schema)?.id;
  if (id) return { $ref: SCHEMA_REF(componentName(id, io)) };
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
      uri: (id) => SCHEMA_REF(componentName(id, io)),
    }) as { schemas: Record<string, Record<string, unknown>> };
    for (const [id, schema] of Object.entries(schemas)) {
      delete schema.$schema;
      delete schema.$id;
      all[componentName(id, io)] = schema;
    }
  }
  return all;
}

/** Only the components the document reaches (directly or through other components), sorted by name. */
function reachable(from: unknown, all: Record<string, unknown>): Record<string, unknown> {
  const names = new Set<string>();
  const visit = (value: unknown) => {
    for (const [, name] of JSON.stringify(value).matchAll(/"#\/components\/schemas\/(\w+)"/g)) {
      if (!names.has(name!)) {
        names.add(name!);
        visit(all[name!]);
      }
    }
  };
  visit(from);
  return Object.fromEntries([...names].sort().map((n) => [n, all[n]]));
}

/** Collects the examples the operations use, for components/examples; names must be unique. */
class ExampleComponents {
  readonly #used = new Map<string, ApiExample>();

  /** A media type's `examples`, as references to the components. */
  refs(list: ApiExample[] | undefined): Record<string, unknown> {
    if (!list || list.length === 0) return {};
    for (const example of list) {
      const known = this.#used.get(example.name);
      if (known && known !== example) throw new Error(`two different examples are named ${example.name}`);
      this.#used.set(example.name, example);
    }
    return { examples: Object.fromEntries(list.map((e) => [e.name, { $ref: EXAMPLE_REF(e.name) }])) };
  }

  components(): Record<string, unknown> {
    const sorted = [...this.#used.values()].sort((a, b) => (a.name < b.name ? -1 : 1)); // code-unit order: the same everywhere
    return Object.fromEntries(sorted.map((e) => [e.name, { summary: e.summary, value: e.value }]));
  }
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

function requestBody(route: RouteSpec, examples: ExampleComponents) {
  if (!route.body) return {};
  const media = { schema: toSchema(route.body, 'input'), ...examples.refs(route.examples?.request ?? SCHEMA_EXAMPLES.get(route.body)) };
  return { requestBody: { required: true, content: { 'application/json': media } } };
}

function response(route: RouteSpec, status: number, examples: ExampleComponents) {
  const { description, schema, content, headers } = route.responses[status]!;
  const head = headers ? { headers: Object.fromEntries(Object.entries(headers).map(([name, d]) => [name, { description: d, schema: { type: 'string' } }])) } : {};
  // Other media types (streamed files): a schema where there is one, else a string.
  // Examples: the route's, else its schemas' (which may include the schema-less media types' too).
  if (content) {
    const candidates = route.examples?.responses?.[status] ?? [...new Set(Object.values(content).flatMap((s) => (s && SCHEMA_EXAMPLES.get(s)) ?? []))];
    const media = (type: string, s: z.ZodType | undefined) => ({
      schema: s ? toSchema(s, 'output') : { type: 'string' },
      ...examples.refs(candidates.filter((e) => (e.mediaType ?? 'application/json') === type)),
    });
    return { description, ...head, content: Object.fromEntries(Object.entries(content).map(([type, s]) => [type, media(type, s)])) };
  }
  if (!schema) return { description, ...head };
  const problem = status >= 400;
  const chosen = route.examples?.responses?.[status] ?? (problem ? problemExamples(route, status) : SCHEMA_EXAMPLES.get(schema));
  const media = { schema: toSchema(schema, 'output'), ...examples.refs(chosen) };
  return { description, ...head, content: { [problem ? PROBLEM_TYPE : 'application/json']: media } };
}

function problemExamples(route: RouteSpec, status: number): ApiExample[] | undefined {
  const example =
    status !== 400 ? PROBLEM_EXAMPLES[status]
    : route.body ? BAD_REQUEST_EXAMPLES.body
    : route.query ? BAD_REQUEST_EXAMPLES.query
    : route.params ? BAD_REQUEST_EXAMPLES.path
    : BAD_REQUEST_EXAMPLES.unknownQuery;
  return example && [example];
}

function operation(route: RouteSpec, examples: ExampleComponents) {
  const params = parameters(route);
  const responses: Record<string, unknown> = {};
  for (const status of Object.keys(route.responses).map(Number)) responses[status] = response(route, status, examples);
  for (const [status, { name }] of Object.entries(SHARED_RESPONSES)) responses[status] ??= { $ref: RESPONSE_REF(name) };
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: route.tags,
    'x-required-scope': requiredScope(route),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...requestBody(route, examples),
    responses,
  };
}

/** components/responses: the 401, 403, 413, 415 and 503 every operation shares. */
function sharedResponses(examples: ExampleComponents): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(SHARED_RESPONSES).map(([status, { name, description }]) => {
      const example = PROBLEM_EXAMPLES[Number(status)];
      const media = { schema: toSchema(problemSchema, 'output'), ...examples.refs(example && [example]) };
      return [name, { description, content: { [PROBLEM_TYPE]: media } }];
    }),
  );
}

/**
 * OpenAPI 3.1 `webhooks`: what Vigil POSTs to a subscription's URL. The body is the same Event as
 * the data of /api/events (both come from src/events/serialize.ts).
 */
function webhooks(examples: ExampleComponents): Record<string, unknown> {
  const header = (name: string, description: string, required = true) => ({ name, in: 'header', required, description, schema: { type: 'string' } });
  return {
    event: {
      post: {
        operationId: 'receiveEvent',
        summary: "One event, POSTed to a subscription's URL",
        description:
          'Sent for each event matching the subscription, at least once: deduplicate on Vigil-Event-Id. ' +
          'Verify the signature over the raw body (docs/api.md, "Webhooks").',
        tags: ['webhooks'],
        security: [],
        parameters: [
          header('Vigil-Event-Id', 'The event id (the body\'s `id`)'),
          header('Vigil-Delivery-Id', 'The delivery; the same on every retry'),
          header(SIGNATURE_HEADER, 'With a secret: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`', false),
        ],
        requestBody: { required: true, content: { 'application/json': { schema: toSchema(eventSchema, 'output'), ...examples.refs([EVENT_EXAMPLE]) } } },
        responses: {
          '2XX': { description: 'Delivered' },
          default: { description: 'Not delivered: retried with backoff (so are no answer in time and redirects), then given up' },
        },
      },
    },
  };
}

/** The OpenAPI 3.1 document for a list of routes. */
export function buildOpenApiDocument(routes: RouteSpec[]): Record<string, unknown> {
  const examples = new ExampleComponents();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method] = operation(route, examples);
  const responses = sharedResponses(examples);
  const hooks = webhooks(examples);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Vigil API',
      version: '0.1.0',
      description:
        'Adaptive host health checks: hosts, per-host health state machines, just-in-time checks. ' +
        'Errors are application/problem+json. Browsable documentation: /docs.',
    },
    servers: [{ url: 'http://127.0.0.1:8080', description: 'Vigil started with `npm start`' }],
    security: [{ bearerAuth: [] }],
    tags: [...new Set(routes.flatMap((r) => r.tags))].map((name) => ({ name, ...(TAG_DESCRIPTIONS[name] ? { description: TAG_DESCRIPTIONS[name] } : {}) })),
    paths,
    webhooks: hooks,
    components: {
      schemas: reachable({ paths, hooks, responses }, components()),
      responses,
      examples: examples.components(),
      securitySchemes: { bearerAuth: BEARER_AUTH },
    },
  };
}

export function openApiYaml(doc: Record<string, unknown>): string {
  return stringify(doc, { aliasDuplicateObjects: false, lineWidth: 0 });
}
