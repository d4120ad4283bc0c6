import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { parse } from 'yaml';

/**
 * Hostile-input generators for every operation of openapi.yaml (test/reliability/fuzz-api.test.ts):
 * the operations are read from the spec, so a new operation is fuzzed without touching the test.
 * A generated request knows which of its fields are invalid by the spec (checked with ajv, not
 * guessed), so the test can demand a 400 that names each of them.
 */

/** The subset of JSON Schema openapi.yaml uses. */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
}

export interface SpecParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  schema: JsonSchema;
}

export interface SpecOperation {
  method: string;
  /** Path template, e.g. `/api/hosts/{host_id}`. */
  path: string;
  operationId: string;
  /** `x-required-scope`. */
  scope: string;
  parameters: SpecParameter[];
  body?: JsonSchema;
  /** Largest body the operation takes: 1 MB, or what its documented 413 says. */
  bodyLimitBytes: number;
  /** Documented statuses. */
  statuses: number[];
}

interface RawOperation {
  operationId: string;
  'x-required-scope': string;
  parameters?: SpecParameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description?: string }>;
}

const SPEC = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, RawOperation>>;
  components: { schemas: Record<string, JsonSchema> };
};
const MB = 1024 * 1024;

/** Every operation of openapi.yaml. */
export function specOperations(): SpecOperation[] {
  return Object.entries(SPEC.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const tooLarge = /(\d+) MB/.exec(op.responses['413']?.description ?? '');
      return {
        method,
        path,
        operationId: op.operationId,
        scope: op['x-required-scope'],
        parameters: op.parameters ?? [],
        body: op.requestBody?.content['application/json']?.schema,
        bodyLimitBytes: tooLarge ? Number(tooLarge[1]) * MB : MB,
        statuses: Object.keys(op.responses).map(Number),
      };
    }),
  );
}

export function deref(s: JsonSchema): JsonSchema {
  return s.$ref ? deref(SPEC.components.schemas[s.$ref.split('/').pop()!]!) : s;
}

// One validator for bodies (JSON types as sent) and one for query and path values, which arrive
// as strings: coerceTypes reads "12" as a number, as the API's z.coerce does.
const ajv = new Ajv2020({ strict: false, allErrors: false });
const ajvCoercing = new Ajv2020({ strict: false, allErrors: false, coerceTypes: true });
for (const a of [ajv, ajvCoercing]) {
  (addFormats as unknown as (a: Ajv2020) => void)(a);
  a.addSchema({ $id: 'spec.json', components: SPEC.components });
}
const compiled = new Map<Ajv2020, WeakMap<JsonSchema, ValidateFunction>>([[ajv, new WeakMap()], [ajvCoercing, new WeakMap()]]);
const rebase = (s: JsonSchema) => JSON.parse(JSON.stringify(s).replaceAll('"#/components/', '"spec.json#/components/')) as JsonSchema;

/** Does `value` satisfy `schema` (a body schema; or, with `fromString`, a query or path parameter's)? */
export function conforms(schema: JsonSchema, value: unknown, fromString = false): boolean {
  const a = fromString ? ajvCoercing : ajv;
  const cache = compiled.get(a)!;
  let validate = cache.get(schema);
  if (!validate) cache.set(schema, (validate = a.compile(rebase(schema))));
  return validate(value);
}

/** A value embedded verbatim in the JSON text (deep nesting, numbers JSON.stringify cannot write). */
export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** JSON text of `value`, with RawJson inlined; lone surrogates come out as \\udXXX escapes. */
export function toJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

const nested = (depth: number, open: string, leaf: string, close: string) => new RawJson(open.repeat(depth) + leaf + close.repeat(depth));

/** Strings made to hurt: SQL, traversal, NUL, lone surrogates, format look-alikes, very long. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(
    "' OR 1=1 --", "'; DROP TABLE hosts; --", "1' UNION SELECT token_hash FROM api_tokens --", '"', '\\', "'", '%', '_', '%00', '\u0000', 'a\u0000b',
    '\uD800', '\uDFFF', 'x\uDBFFy', '../../etc/passwd', '..', '.', '/', '..%2F..%2F', '${jndi:ldap://x/a}', '<script>alert(1)</script>', '{{7*7}}',
    '%s%n%x', 'NaN', 'Infinity', '-Infinity', '-0', '1e309', '-1', '0', '0x10', '1.5', ' ', '', '\t\n\r', '\u202e\u0627', '\uFEFF', '\u200b',
    'Z\u0351\u0352\u0357\u035b', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '🔥', 'null', 'true', 'false', '[]', '{}', '9'.repeat(40), '99999999999999999999', '-9223372036854775809',
    '9223372036854775808', '1970-01-01T00:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999999999+14:00', '2024-02-30T00:00:00Z',
    '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '00000000-0000-0000-0000-00000000000g', `SHA256:${'A'.repeat(43)}`,
    '1.3.6.1.2.1.1.5.0', 'http://127.0.0.1:1/', 'file:///etc/passwd', 'javascript:alert(1)', 'HEALTHY', 'tcp', 'admin', 'read,check,admin',
    'W10', 'WyJuYW1lIiwiJyBPUiAxPTEgLS0iLCJ4Il0', 'WyJuYW1lIl0', 'eyJhIjoxfQ', 'WzEsMiwzXQ',
  ) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 256, max: 5000 }), fc.constantFrom('x', 'é', '\u0000', '🔥', '9', '%')).map(([n, c]) => c.repeat(n)) },
);

/** Times the date-time pattern takes that stretch what a database stores. */
const EXTREME_TIMES = ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999999999+14:00', '1970-01-01T00:00:00-23:59', '2024-02-29T23:59:59.9999999999Z'];

/** A cursor-shaped value: base64url of a JSON array, as next_cursor looks, holding hostile items. */
export const hostileCursor: fc.Arbitrary<string> = fc
  .array(fc.oneof(hostileString, fc.constantFrom('name', '-state', 'last_check'), fc.integer(), fc.constant(null)), { maxLength: 4 })
  .map((items) => Buffer.from(JSON.stringify(items), 'utf8').toString('base64url'));

const hugeString = fc.constantFrom(64 * 1024, 1_000_000).map((n) => 'A'.repeat(n));

/** JSON values of every type, including what breaks parsers and databases. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileString },
  { weight: 3, arbitrary: fc.constantFrom(-1, 0, -0, 0.5, 1.5, 1e308, -1e308, 2 ** 53 + 2, -(2 ** 53) - 2, 2 ** 31, 2 ** 63, 5e-324, 65536, 99999999999) },
  { weight: 1, arbitrary: fc.constantFrom(new RawJson('1e999999'), new RawJson('-1e999999'), new RawJson('123456789012345678901234567890'), new RawJson('-0.0e-0')) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom([], {}, [null], { '': null }, JSON.parse('{"__proto__":{"admin":true}}') as unknown, { constructor: { prototype: {} } }) },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: fc.integer({ min: 5_000, max: 200_000 }).map((n) => new RawJson(`[${'1,'.repeat(n)}1]`)) },
  { weight: 1, arbitrary: fc.constantFrom(10_000, 100_000).chain((n) => fc.constantFrom(nested(n, '[', '', ']'), nested(n, '{"a":', '1', '}'))) },
);

/** Known ids by parameter or property name (`host_id` -> the seeded hosts), so some requests reach the data. */
export type KnownIds = Record<string, string[]>;

/** Values of `schema` (bounded sizes); uuid-valued `*_id` fields sometimes take a known id. */
export function fromSchema(schema: JsonSchema, known: KnownIds, name = ''): fc.Arbitrary<unknown> {
  const s = deref(schema);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const union = s.oneOf ?? s.anyOf;
  if (union) return fc.oneof(...union.map((o) => fromSchema(o, known, name)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string': return stringFromSchema(s, known, name);
    case 'integer': return fc.integer({ min: Math.max(s.minimum ?? -1e6, -1e6), max: Math.min(s.maximum ?? 1e6, 1e6) });
    case 'number': return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'boolean': return fc.boolean();
    case 'null': return fc.constant(null);
    case 'array': {
      const minLength = s.minItems ?? 0;
      return fc.array(fromSchema(s.items ?? {}, known, name), { minLength, maxLength: Math.min(s.maxItems ?? 3, minLength + 2) });
    }
    case 'object': return objectFromSchema(s, known);
    default: return fc.jsonValue({ maxDepth: 2 });
  }
}

function stringFromSchema(s: JsonSchema, known: KnownIds, name: string): fc.Arbitrary<string> {
  const ids = known[name] ?? [];
  if (s.format === 'uuid') return ids.length > 0 ? fc.oneof(fc.constantFrom(...ids), fc.uuid()) : fc.uuid();
  if (s.format === 'date-time') return fc.oneof(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom(...EXTREME_TIMES));
  if (s.format === 'uri') return fc.webUrl({ validSchemes: ['http', 'https'] });
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length <= (s.maxLength ?? Infinity));
  // Free text: anything, SQL and NUL included, that fits the length.
  const [minLength, maxLength] = [Math.max(s.minLength ?? 0, 1), s.maxLength ?? 4000];
  const text = fc.oneof(fc.string({ minLength, maxLength: Math.min(maxLength, 20) }), hostileString.filter((v) => v.length >= minLength && v.length <= maxLength));
  return ids.length > 0 ? fc.oneof(fc.constantFrom(...ids), text) : text;
}

function objectFromSchema(s: JsonSchema, known: KnownIds): fc.Arbitrary<unknown> {
  if (!s.properties) return fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 3 });
  const model = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, fromSchema(v, known, k)]));
  return fc.record(model, { requiredKeys: s.required ?? [] });
}

/**
 * A value of `schema` with one place made hostile, its `path` (`probes.0.port`), and `base`: the
 * same value with that place left as generated, to tell whether the hostile part made it invalid.
 */
export interface Mutated {
  value: unknown;
  base: unknown;
  path: string[];
}

/** One field replaced by a hostile value, an unknown field added, or a required field dropped. */
export function mutateSchema(schema: JsonSchema, known: KnownIds, depth = 0): fc.Arbitrary<Mutated> {
  const s = deref(schema);
  const here = fc.tuple(fromSchema(s, known), hostileValue).map(([base, value]) => ({ value, base, path: [] as string[] }));
  const union = s.oneOf ?? s.anyOf;
  if (union && depth < 4) return fc.oneof(here, ...union.map((o) => mutateSchema(o, known, depth + 1)));
  if (s.type === 'array' && s.items && depth < 4) {
    return fc.oneof(here, fc.tuple(fc.array(fromSchema(s.items, known), { maxLength: 2 }), mutateSchema(s.items, known, depth + 1)).map(([rest, m]) => ({
      value: [...rest, m.value],
      base: [...rest, m.base],
      path: [String(rest.length), ...m.path],
    })));
  }
  if (s.type !== 'object' || !s.properties || depth >= 4) return here;
  const props = Object.keys(s.properties);
  const base = objectFromSchema(s, known) as fc.Arbitrary<Record<string, unknown>>;
  const replaced = fc.tuple(base, fc.constantFrom(...props)).chain(([obj, key]) =>
    mutateSchema(s.properties![key]!, known, depth + 1).map((m) => ({ value: { ...obj, [key]: m.value }, base: { ...obj, [key]: m.base }, path: [key, ...m.path] })),
  );
  // defineProperty: `__proto__` becomes an own key, as JSON.parse makes it on the server.
  const unknownKey = fc.tuple(base, fc.constantFrom('unknown_field', '__proto__', 'constructor', 'id', 'created_at', 'Name', 'name\u0000'), hostileValue).map(
    ([obj, key, v]) => ({ value: Object.defineProperty({ ...obj }, key, { value: v, enumerable: true }), base: obj, path: [key] }),
  );
  const dropped = fc.tuple(base, fc.constantFrom(...(s.required?.length ? s.required : props))).map(([obj, key]) => {
    const { [key]: _gone, ...rest } = obj;
    return { value: rest, base: obj, path: [key] };
  });
  return fc.oneof({ weight: 1, arbitrary: here }, { weight: 6, arbitrary: replaced }, { weight: 2, arbitrary: unknownKey }, { weight: 1, arbitrary: dropped });
}

/** Query or path value: a literal string (percent-encoded when sent) or raw URL text sent as is. */
export type UrlValue = { text: string } | { raw: string };

/** Raw URL fragments no encoder would produce: bad escapes, encoded NUL, slashes and surrogates. */
export const rawUrlFragment: fc.Arbitrary<string> = fc.constantFrom(
  '%ZZ', '%', '%E0%A4%A', '%ED%A0%80', '%FF%FE', '%00', 'a%00b', '%2F', '..%2F..%2Fapi%2Ftokens', '%2e%2e', '..', '../tokens', '..%5C..', '%252F', '+', '%20', 'a;b', 'a,b',
);

/** Percent-encodes every byte outside the unreserved set (lone surrogates become U+FFFD, as UTF-8 can only say). */
export function encodeUrlText(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

export interface FuzzAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The server cut the connection without an answer. */
  reset?: string;
  /** No complete answer within the deadline. */
  timedOut?: boolean;
}

/**
 * One request over a fresh connection, the path sent byte for byte (no normalisation of `..`),
 * the body as given. Event streams are answered once their headers arrive.
 */
export function send(baseUrl: string, req: { method: string; path: string; headers: Record<string, string>; body?: Buffer }, deadlineMs: number): Promise<FuzzAnswer> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: FuzzAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
      request.destroy();
    };
    const headers = { ...req.headers, ...(req.body ? { 'content-length': String(req.body.length) } : {}) };
    const request = http.request({ host: url.hostname, port: url.port, method: req.method.toUpperCase(), path: req.path, headers, agent: false }, (res) => {
      if (String(res.headers['content-type']).startsWith('text/event-stream')) return done({ status: res.statusCode!, headers: res.headers, text: '' });
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => done({ status: res.statusCode!, headers: res.headers, text: '', reset: err.message }));
    });
    const timer = setTimeout(() => done({ status: 0, headers: {}, text: '', timedOut: true }), deadlineMs);
    // Writing a body the server refused early can fail (EPIPE); its answer may still arrive.
    request.on('error', (err) => setTimeout(() => done({ status: 0, headers: {}, text: '', reset: err.message }), 200));
    request.end(req.body);
  });
}
