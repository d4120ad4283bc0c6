import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { SCOPES, type ApiExample, type ResponseSpec } from '../../src/api/route.ts';
import { BAD_REQUEST_EXAMPLES, PROBLEM_EXAMPLES, SCHEMA_EXAMPLES } from '../../src/api/examples.ts';
import { problemSchema } from '../../src/api/schemas.ts';
import { CLIENT_TYPES_FILE, documentedRoutes, generatedClientTypes, generatedOpenApi, OPENAPI_FILE } from '../../scripts/generate-openapi.ts';

type Media = { schema: unknown; examples?: Record<string, { $ref: string }> };
type Response = { $ref?: string; description?: string; content?: Record<string, Media> };
type Operation = {
  operationId: string;
  summary: string;
  tags: string[];
  'x-required-scope': string;
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, Response>;
};
type Document = {
  security: unknown;
  paths: Record<string, Record<string, Operation>>;
  webhooks: Record<string, { post: Operation }>;
  components: {
    responses: Record<string, Response>;
    examples: Record<string, { summary: string; value: unknown }>;
    securitySchemes: Record<string, Record<string, unknown>>;
  };
};

const committed = readFileSync(OPENAPI_FILE, 'utf8');
const spec = parse(committed) as Document;
const operations = Object.entries(spec.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op, name: `${method} ${path}` })));
const isSuccess = (status: string) => status.startsWith('2');

describe('openapi.yaml', () => {
  it('is what the code generates (run `npm run openapi` after changing routes or schemas)', () => {
    expect(committed).toBe(generatedOpenApi());
  });

  it('has client types generated from it (src/api/openapi-types.d.ts, shared by the CLI, the dashboard and the test client; `npm run openapi`)', async () => {
    expect(readFileSync(CLIENT_TYPES_FILE, 'utf8')).toBe(await generatedClientTypes(committed));
  });

  it('lists every route the API serves, and nothing else', () => {
    const served = documentedRoutes().map((r) => `${r.method} ${r.path}`);
    expect(operations.map((o) => o.name).sort()).toEqual(served.sort());
  });

  it('gives every operation an operationId, summary, tags and its error responses', () => {
    for (const { name, op } of operations) {
      expect(op.operationId, name).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.summary.length).toBeGreaterThan(5);
      expect(op.tags.length).toBeGreaterThan(0);
      expect(Object.keys(op.responses).some((s) => s.startsWith('4')), `${name} documents a 4xx`).toBe(true);
    }
  });

  it("documents the body parser's 413 and 415 on every operation (it runs before routing)", () => {
    for (const { name, op } of operations) {
      expect(op.responses['415'], name).toEqual({ $ref: '#/components/responses/UnsupportedMediaType' });
      // An operation with a larger limit documents its own 413 naming it.
      if (op.responses['413']!.$ref === undefined) expect(op.responses['413']!.description, name).toMatch(/\d+ MB/);
      else expect(op.responses['413'], name).toEqual({ $ref: '#/components/responses/PayloadTooLarge' });
    }
  });

  it('declares every path parameter of every path', () => {
    for (const { name, path, op } of operations) {
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      expect(declared.sort(), name).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
    }
  });
});

describe('openapi.yaml security', () => {
  it('requires a bearer token everywhere', () => {
    expect(spec.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(spec.security).toEqual([{ bearerAuth: [] }]);
  });

  it('names each operation a scope and documents its 401 and 403 answers', () => {
    for (const { name, op } of operations) {
      expect(SCOPES, name).toContain(op['x-required-scope']);
      expect(op.responses['401'], name).toEqual({ $ref: '#/components/responses/Unauthorized' });
      expect(op.responses['403'], name).toEqual({ $ref: '#/components/responses/Forbidden' });
    }
    for (const shared of ['Unauthorized', 'Forbidden']) {
      expect(spec.components.responses[shared]!.content!['application/problem+json']!.schema).toEqual({ $ref: '#/components/schemas/Problem' });
    }
  });

  it.each([
    ['createHost', 'admin'],
    ['updateHost', 'admin'],
    ['deleteHost', 'admin'],
    ['acceptSshHostKey', 'admin'],
    ['clearSshHostKey', 'admin'],
    ['createCredential', 'admin'],
    ['updateCredential', 'admin'],
    ['deleteCredential', 'admin'],
    ['listCredentials', 'admin'],
    ['getCredential', 'admin'],
    ['checkConnectivity', 'check'],
    ['getHostState', 'check'],
    ['getCheckTask', 'check'],
    ['listHosts', 'read'],
    ['getHost', 'read'],
  ])('%s needs scope %s', (operationId, scope) => {
    expect(operations.find((o) => o.op.operationId === operationId)?.op['x-required-scope']).toBe(scope);
  });
});

describe('openapi.yaml examples', () => {
  it('shows a request example for every body and a response example for every successful answer with a body', () => {
    for (const { name, op } of operations) {
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
        expect(Object.keys(media.examples ?? {}).length, `${name} request ${type}`).toBeGreaterThan(0);
      }
      const successes = Object.entries(op.responses).filter(([status, r]) => isSuccess(status) && r.content);
      for (const [status, response] of successes) {
        for (const [type, media] of Object.entries(response.content!)) {
          expect(Object.keys(media.examples ?? {}).length, `${name} ${status} ${type}`).toBeGreaterThan(0);
        }
      }
    }
  });

  // Each example against the schema next to it, as a JSON Schema validator reading the document sees it.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema({ ...spec, $id: 'openapi.json' });
  const pointer = (...parts: string[]) => `openapi.json#/${parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
  const uses: { where: string; schemaAt: string; example: string }[] = [];
  const collect = (where: string, content: Record<string, Media> | undefined, at: string[]) => {
    for (const [type, media] of Object.entries(content ?? {})) {
      for (const ref of Object.values(media.examples ?? {})) {
        uses.push({ where: `${where} ${type}`, schemaAt: pointer(...at, 'content', type, 'schema'), example: ref.$ref.split('/').pop()! });
      }
    }
  };
  for (const { name, path, method, op } of operations) {
    collect(`${name} request`, op.requestBody?.content, ['paths', path, method, 'requestBody']);
    for (const [status, response] of Object.entries(op.responses)) collect(`${name} ${status}`, response.content, ['paths', path, method, 'responses', status]);
  }
  for (const [name, response] of Object.entries(spec.components.responses)) collect(name, response.content, ['components', 'responses', name]);
  for (const [name, hook] of Object.entries(spec.webhooks)) collect(`webhook ${name}`, hook.post.requestBody?.content, ['webhooks', name, 'post', 'requestBody']);

  it('uses every example it defines', () => {
    expect(new Set(uses.map((u) => u.example))).toEqual(new Set(Object.keys(spec.components.examples)));
  });

  it.each(uses)('$where: $example validates against its schema', ({ schemaAt, example }) => {
    const validate = ajv.getSchema(schemaAt)!;
    const { value } = spec.components.examples[example]!;
    expect(validate(value), ajv.errorsText(validate.errors)).toBe(true);
  });

  // And against the zod schemas themselves, which also run the refinements JSON Schema cannot express.
  const bySchema = [
    ...[...SCHEMA_EXAMPLES].flatMap(([schema, list]) => list.map((e) => [e, isJson(e) ? schema : z.string()] as const)),
    ...[...Object.values(BAD_REQUEST_EXAMPLES), ...Object.values(PROBLEM_EXAMPLES)].map((e) => [e, problemSchema] as const),
    ...documentedRoutes().flatMap((route) => [
      ...(route.examples?.request ?? []).map((e) => [e, route.body!] as const),
      ...Object.entries(route.examples?.responses ?? {}).flatMap(([status, list]) => (list ?? []).map((e) => [e, responseSchema(route.responses[Number(status)]!, e)] as const)),
    ]),
  ] satisfies (readonly [ApiExample | undefined, z.ZodType])[];
  function isJson(example: ApiExample): boolean {
    return (example.mediaType ?? 'application/json') === 'application/json';
  }
  function responseSchema(response: ResponseSpec, example: ApiExample): z.ZodType {
    // Media types documented without a schema (text/csv) are strings.
    return response.schema ?? response.content?.[example.mediaType ?? 'application/json'] ?? z.string();
  }
  it.each(bySchema.map(([example, schema]) => ({ name: example!.name, example: example!, schema })))('$name parses with its zod schema', ({ example, schema }) => {
    const parsed = schema.safeParse(example.value);
    expect(parsed.error?.issues ?? []).toEqual([]);
  });
});
