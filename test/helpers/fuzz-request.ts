import { parse as parseQuery } from 'node:querystring';
import fc from 'fast-check';
import {
  conforms,
  deref,
  encodeUrlText,
  fromSchema,
  hostileCursor,
  hostileString,
  hostileValue,
  mutateSchema,
  rawUrlFragment,
  toJson,
  type JsonSchema,
  type KnownIds,
  type SpecOperation,
  type SpecParameter,
  type UrlValue,
} from './fuzz.ts';

/** Who sends a request: the admin token, a read-scope token, a token nobody issued, or none. */
export type Caller = 'admin' | 'read' | 'bogus' | 'none';

/** One generated request and what the spec lets us expect of its answer. */
export interface FuzzRequest {
  method: string;
  /** Path and query exactly as sent. */
  path: string;
  caller: Caller;
  headers: Record<string, string>;
  body?: Buffer;
  /** How the body was made (`mutated body.probes.0.port`, `over the limit`…), for failure messages. */
  bodyKind: string;
  /** Fields invalid by the spec that a 400 must name (`query.limit`, `body.probes.0.port`), as far as they are known. */
  invalidFields: string[];
  /**
   * Validation is reached: path escapes decode, and the body (if any) is JSON the parser takes
   * (UTF-8, under the limit, well-formed, of a JSON content type where the operation takes one).
   */
  reachesValidation: boolean;
  /** The body exceeds the operation's limit. */
  overLimit: boolean;
}

export interface FuzzOptions {
  known: KnownIds;
  /** Valid values to use instead of the schema's for `<operationId>.<param>` (e.g. short JIT waits). */
  validOverrides?: Record<string, fc.Arbitrary<string>>;
  /** Cursors the API issued, to tamper with. */
  cursors?: KnownCursors;
}

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'Application/JSON'];
const WRONG_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x', 'application/jsonx', '*/*', 'json'];
const BAD_CHARSETS = ['application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json; charset=bogus'];
const BAD_ENCODINGS = ['gzip', 'deflate', 'br', 'x-bogus', 'gzip, gzip'];
const GARBAGE = ['{', '{"a":', "{'a':1}", '[1,]', 'nul', '{"a":1}}', '\u0000', '{"a":"\\ud800"}', '{"a":"\\u0000"}', '{"a":01}', '{"a":NaN}', '/*x*/{}', '\uFEFF{}', ' '];

const literal = (text: string): UrlValue => ({ text });
const raw = (text: string): UrlValue => ({ raw: text });
type Entries = [string, UrlValue][];

/** Cursors the API issued (`<operationId>.<param>` -> next_cursor values): the ones to tamper with. */
export type KnownCursors = Record<string, string[]>;

/** Items to put into a real cursor: what its decoder might take but the database might not. */
const cursorItem: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom('9999999999999999999', '99999999999999999999', '0', '-1', '00000000000000000001', '18446744073709551615', '9223372036854775807'),
  fc.constantFrom('0000-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999999999+14:00', '1970-01-01T00:00:00-23:59', '2024-02-29T24:00:00Z'),
  fc.constantFrom('infinity', '-infinity', 'epoch', 'now', 'allballs', '2024-01-01 00:00:00.123456+00', 'yesterday', '294277-01-01', '4714-11-24 BC'),
  fc.constantFrom('name', '-name', 'state', '-last_check', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
  fc.uuid(),
  fc.integer(),
);

/** A cursor the API issued with one item replaced (or appended, or removed). */
function tamperedCursor(samples: string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...samples), fc.nat(), cursorItem, fc.constantFrom('replace', 'append', 'drop')).map(([cursor, at, item, how]) => {
    const items = decodeCursor(cursor);
    // A cursor that is no base64url JSON array (a plain name, say): tamper with its text.
    if (!items) return how === 'drop' ? cursor.slice(0, at % cursor.length) : `${how === 'replace' ? '' : cursor}${String(item)}`;
    const i = at % items.length;
    if (how === 'replace') items[i] = item;
    else if (how === 'append') items.push(item);
    else items.splice(i, 1);
    return Buffer.from(JSON.stringify(items), 'utf8').toString('base64url');
  });
}

function decodeCursor(cursor: string): unknown[] | undefined {
  try {
    const items = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    return Array.isArray(items) && items.length > 0 ? items : undefined;
  } catch {
    return undefined;
  }
}

const isFreeText = (s: JsonSchema) => s.type === 'string' && !s.enum && !s.pattern && !s.format && s.const === undefined;

/** Values the spec accepts for a parameter, hostile where the spec lets them be (SQL in a free-text filter, bounds, tampered cursors). */
function validParam(op: SpecOperation, p: SpecParameter, o: FuzzOptions): fc.Arbitrary<UrlValue> {
  const s = deref(p.schema);
  const override = o.validOverrides?.[`${op.operationId}.${p.name}`];
  const cursors = o.cursors?.[`${op.operationId}.${p.name}`] ?? [];
  // A cursor is valid only as the API issued it: real ones, and real ones tampered with inside.
  if (cursors.length > 0) return fc.oneof(fc.constantFrom(...cursors), tamperedCursor(cursors)).map(literal);
  const options: fc.Arbitrary<string>[] = [override ?? fromSchema(s, o.known, p.name).map(String)];
  if (isFreeText(s)) options.push(hostileString.filter((v) => v.length >= (s.minLength ?? 0) && v.length <= (s.maxLength ?? 4000)));
  if ((s.type === 'integer' || s.type === 'number') && !override) options.push(fc.constantFrom(String(s.minimum ?? 0), String(s.maximum ?? 0), `${s.maximum ?? 1}.0`, '1e1', ' 1', '+1', '0x1', '010'));
  return fc.oneof(...options).map(literal);
}

/** Values to break a parameter: hostile text, cursor look-alikes, raw bad escapes, very long. */
function hostileParam(op: SpecOperation, p: SpecParameter, o: FuzzOptions): fc.Arbitrary<UrlValue> {
  const valid = validParam(op, p, o);
  return fc.oneof(
    { weight: 4, arbitrary: hostileString.map(literal) },
    { weight: 2, arbitrary: hostileCursor.map(literal) },
    { weight: 1, arbitrary: rawUrlFragment.map(raw) },
    { weight: 1, arbitrary: fc.tuple(valid, rawUrlFragment).map(([v, f]) => raw(('raw' in v ? v.raw : encodeUrlText(v.text)) + f)) },
    { weight: 1, arbitrary: fc.integer({ min: 256, max: 4000 }).map((n) => literal('x'.repeat(n))) },
  );
}

const UNKNOWN_KEYS = ['unknown', 'limit[]', 'a[b]', '__proto__', 'constructor', 'hasOwnProperty', 'toString', '', ' ', 'LIMIT', 'host_id\u0000'];
const unknownEntry: fc.Arbitrary<Entries> = fc.tuple(fc.constantFrom(...UNKNOWN_KEYS), hostileString).map(([k, v]) => [[k, literal(v)]]);

/** Each documented query parameter left out or given a valid value. */
function validQuery(op: SpecOperation, o: FuzzOptions): fc.Arbitrary<Entries> {
  const documented = op.parameters.filter((p) => p.in === 'query');
  return fc.tuple(...documented.map((p) => fc.option(validParam(op, p, o).map((v): Entries => [[p.name, v]]), { nil: [] as Entries, freq: 1 }))).map((e) => e.flat());
}

/** Every documented query parameter at random: left out, valid, hostile or given twice; sometimes unknown ones. */
function chaoticQuery(op: SpecOperation, o: FuzzOptions): fc.Arbitrary<Entries> {
  const documented = op.parameters.filter((p) => p.in === 'query');
  const any = (p: SpecParameter) => fc.oneof(validParam(op, p, o), hostileParam(op, p, o));
  const entries = documented.map((p) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant([] as Entries) },
      { weight: 3, arbitrary: any(p).map((v): Entries => [[p.name, v]]) },
      { weight: 1, arbitrary: fc.tuple(any(p), any(p)).map(([a, b]): Entries => [[p.name, a], [p.name, b]]) },
    ),
  );
  const unknown = fc.array(unknownEntry, { maxLength: 2 }).map((e) => e.flat());
  return fc.tuple(fc.tuple(...entries), fc.oneof({ weight: 5, arbitrary: fc.constant([] as Entries) }, { weight: 1, arbitrary: unknown })).map(([doc, extra]) => [...doc.flat(), ...extra]);
}

interface BodyCase {
  body?: Buffer;
  contentType?: string;
  encoding?: string;
  kind: string;
  /** Field a 400 must name (`body.probes.0.port`), when the hostile part made a valid body invalid. */
  invalidField?: string;
  parses: boolean;
  overLimit: boolean;
}

// express.json is strict: only an object or an array at the top parses.
const jsonBody = (value: unknown, kind: string, invalidField?: string) =>
  fc.constantFrom(...JSON_TYPES).map((contentType): BodyCase => {
    const text = toJson(value);
    const parses = /^[[{]/.test(text);
    return { body: Buffer.from(text, 'utf8'), contentType, kind, invalidField: parses ? invalidField : undefined, parses, overLimit: false };
  });

const NO_BODY: BodyCase = { kind: 'no body', parses: true, overLimit: false };

/** A body the spec accepts (no body for an operation without one). */
function validBody(op: SpecOperation, o: FuzzOptions): fc.Arbitrary<BodyCase> {
  return op.body ? fromSchema(op.body, o.known).chain((v) => jsonBody(v, 'valid')) : fc.constant(NO_BODY);
}

/** Mutated, hostile, malformed, mistyped, mis-encoded and oversized bodies. */
function hostileBody(op: SpecOperation, o: FuzzOptions): fc.Arbitrary<BodyCase> {
  const schema: JsonSchema = op.body ?? { type: 'object', additionalProperties: false };
  const validJson = fromSchema(schema, o.known).map((v) => toJson(v));
  const mutated = mutateSchema(schema, o.known).chain((m) => {
    const name = ['body', ...m.path].join('.');
    // The server sees what JSON.parse makes of the text (1e999999 is Infinity, which is no JSON number: ajv says invalid, as zod does).
    const sent = parseBack(m.value);
    const madeInvalid = op.body !== undefined && sent !== undefined && conforms(schema, parseBack(m.base)) && !conforms(schema, sent);
    return jsonBody(m.value, `mutated ${name}`, madeInvalid ? name : undefined);
  });
  const bytes = (b: Buffer, kind: string, contentType = 'application/json', parses = false, overLimit = false) => ({ body: b, contentType, kind, parses, overLimit });
  return fc.oneof(
    { weight: 6, arbitrary: mutated },
    { weight: 1, arbitrary: hostileValue.map((v) => toJson(v)).map((t) => bytes(Buffer.from(t, 'utf8'), 'hostile top-level value', 'application/json', /^[[{]/.test(t) && parseBack(t, true) !== undefined)) },
    { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...GARBAGE), fc.string({ unit: 'binary', maxLength: 60 })).map((t) => bytes(Buffer.from(t, 'utf8'), 'malformed JSON')) },
    {
      weight: 1,
      arbitrary: fc.tuple(validJson, fc.nat(), fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc3])).map(([t, at, bad]) => {
        const b = Buffer.from(t, 'utf8');
        const i = at % (b.length + 1);
        return bytes(Buffer.concat([b.subarray(0, i), Buffer.from(bad), b.subarray(i)]), 'invalid UTF-8');
      }),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => bytes(Buffer.from(a), 'random bytes')) },
    { weight: 1, arbitrary: fc.tuple(validJson, fc.constantFrom(...WRONG_TYPES, undefined)).map(([t, ct]) => ({ ...bytes(Buffer.from(t), `content-type ${ct ?? 'missing'}`), contentType: ct })) },
    { weight: 1, arbitrary: fc.tuple(validJson, fc.constantFrom(...BAD_CHARSETS)).map(([t, ct]) => bytes(Buffer.from(t), ct, ct)) },
    { weight: 1, arbitrary: fc.tuple(validJson, fc.constantFrom(...BAD_ENCODINGS)).map(([t, enc]) => ({ ...bytes(Buffer.from(t), `content-encoding ${enc}`), encoding: enc })) },
    { weight: 1, arbitrary: fc.constant(bytes(Buffer.from(`{"name":"${'A'.repeat(op.bodyLimitBytes)}"}`), 'over the limit', 'application/json', false, true)) },
    // Without a content type even an empty body is refused (415) by an operation that takes one.
    { weight: 1, arbitrary: fc.constantFrom(...JSON_TYPES, undefined).map((ct) => ({ contentType: ct, kind: 'no body', parses: ct !== undefined || !op.body, overLimit: false })) },
  );
}

const HEADER_JUNK = ['"abc"', 'W/"x"', '*', '"' + 'a'.repeat(2000) + '"', "' OR 1=1 --", '99999999999999999999', '-1', '1', 'null', 'application/xml', 'text/csv'];
const junkHeaders = fc.dictionary(fc.constantFrom('if-none-match', 'last-event-id', 'accept', 'range', 'x-request-id', 'if-modified-since'), fc.constantFrom(...HEADER_JUNK), { minKeys: 1, maxKeys: 2 });

interface Parts {
  params: UrlValue[];
  query: Entries;
  body: BodyCase;
  caller: Caller;
  headers: Record<string, string>;
}

/**
 * Requests for `op`, in three kinds: valid by the spec (hostile only where the spec allows, to
 * reach the handlers and their SQL); valid but for one hostile spot (a parameter, an unknown or
 * repeated query parameter, the body, a header, the token); and hostile all over.
 */
export function fuzzRequests(op: SpecOperation, o: FuzzOptions): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const validParts = fc.record({
    params: fc.tuple(...pathParams.map((p) => validParam(op, p, o))),
    query: validQuery(op, o),
    body: validBody(op, o),
    caller: fc.constantFrom<Caller>('admin', 'admin', 'admin', 'read'),
    headers: fc.constant({} as Record<string, string>),
  });
  const spots: fc.Arbitrary<(parts: Parts) => Parts>[] = [
    ...pathParams.map((p, i) => hostileParam(op, p, o).map((v) => (parts: Parts) => ({ ...parts, params: parts.params.map((x, j) => (j === i ? v : x)) }))),
    ...queryParams.map((p) => hostileParam(op, p, o).map((v) => (parts: Parts) => ({ ...parts, query: [...parts.query.filter(([k]) => k !== p.name), [p.name, v] as [string, UrlValue]] }))),
    ...queryParams.map((p) => fc.tuple(validParam(op, p, o), validParam(op, p, o)).map(([a, b]) => (parts: Parts) => ({ ...parts, query: [...parts.query.filter(([k]) => k !== p.name), [p.name, a], [p.name, b]] as Entries }))),
    unknownEntry.map((e) => (parts: Parts) => ({ ...parts, query: [...parts.query, ...e] })),
    hostileBody(op, o).map((body) => (parts: Parts) => ({ ...parts, body })),
    junkHeaders.map((headers) => (parts: Parts) => ({ ...parts, headers })),
    fc.constantFrom<Caller>('bogus', 'none', 'read').map((caller) => (parts: Parts) => ({ ...parts, caller })),
  ];
  const chaotic = fc.record({
    params: fc.tuple(...pathParams.map((p) => fc.oneof(validParam(op, p, o), hostileParam(op, p, o)))),
    query: chaoticQuery(op, o),
    body: op.body ? hostileBody(op, o) : fc.oneof({ weight: 3, arbitrary: fc.constant(NO_BODY) }, { weight: 1, arbitrary: hostileBody(op, o) }),
    caller: fc.oneof({ weight: 16, arbitrary: fc.constant<Caller>('admin') }, { weight: 3, arbitrary: fc.constant<Caller>('read') }, { weight: 1, arbitrary: fc.constantFrom<Caller>('bogus', 'none') }),
    headers: fc.oneof({ weight: 3, arbitrary: fc.constant({} as Record<string, string>) }, { weight: 1, arbitrary: junkHeaders }),
  });
  return fc
    .oneof(
      { weight: 2, arbitrary: validParts },
      { weight: 4, arbitrary: fc.tuple(validParts, fc.oneof(...spots)).map(([parts, spoil]) => spoil(parts)) },
      { weight: 3, arbitrary: chaotic },
    )
    .map((parts) => buildRequest(op, parts))
    // Node's HTTP parser refuses request heads over 16 KB (431) before Vigil sees them.
    .filter((r) => r.path.length < 12_000);
}

function buildRequest(op: SpecOperation, { params, query, body, caller, headers: extra }: Parts): FuzzRequest {
  let path = op.path;
  const invalidFields: string[] = [];
  let decodes = true;
  op.parameters.filter((p) => p.in === 'path').forEach((p, i) => {
    const v = params[i]!;
    path = path.replace(`{${p.name}}`, 'raw' in v ? v.raw : encodeUrlText(v.text));
    const decoded = 'raw' in v ? decodeParam(v.raw) : v.text;
    if (decoded === undefined) decodes = false;
    else if (!conforms(p.schema, decoded, true)) invalidFields.push(`path.${p.name}`);
  });
  const qs = query.map(([k, v]) => `${encodeUrlText(k)}=${'raw' in v ? v.raw : encodeUrlText(v.text)}`).join('&');
  invalidFields.push(...invalidQueryFields(op, qs));
  if (body.invalidField) invalidFields.push(body.invalidField);
  const headers: Record<string, string> = { ...extra };
  if (body.contentType) headers['content-type'] = body.contentType;
  if (body.encoding) headers['content-encoding'] = body.encoding;
  const req: FuzzRequest = {
    method: op.method, path: qs ? `${path}?${qs}` : path, caller, headers, body: body.body, bodyKind: body.kind, invalidFields, reachesValidation: decodes && body.parses, overLimit: body.overLimit,
  };
  // fast-check prints counterexamples with this: a summary, not megabytes of body.
  return Object.assign(req, { [fc.toStringMethod]: () => describeRequest(req) });
}

/** The value as the server's JSON.parse sees it (undefined for text it would refuse). */
function parseBack(v: unknown, isText = false): unknown {
  try {
    return JSON.parse(isText ? (v as string) : toJson(v)) as unknown;
  } catch {
    return undefined;
  }
}

/** One line per part of a request, bodies cut short. */
export function describeRequest(r: FuzzRequest): string {
  const body = r.body ? `${r.body.length} bytes: ${JSON.stringify(r.body.subarray(0, 300).toString('utf8'))}` : 'none';
  return [
    `${r.method.toUpperCase()} ${r.path.length > 400 ? `${r.path.slice(0, 400)}… (${r.path.length} chars)` : r.path}`,
    `  caller: ${r.caller}; headers: ${JSON.stringify(r.headers).slice(0, 300)}`,
    `  body (${r.bodyKind}): ${body}`,
    `  invalid by the spec: ${r.invalidFields.join(', ') || '-'}`,
  ].join('\n');
}

/** express decodes a path parameter with decodeURIComponent when it holds a `%` (a bad escape is a 400). */
function decodeParam(rawText: string): string | undefined {
  if (!rawText.includes('%')) return rawText;
  try {
    return decodeURIComponent(rawText);
  } catch {
    return undefined;
  }
}

/** Query parameters invalid by the spec, read as the API reads them (node:querystring, as express's `simple` parser). */
function invalidQueryFields(op: SpecOperation, qs: string): string[] {
  const documented = new Map(op.parameters.filter((p) => p.in === 'query').map((p) => [p.name, p.schema]));
  return Object.entries(parseQuery(qs))
    .filter(([k, v]) => {
      const schema = documented.get(k);
      if (!schema) return true;
      // z.coerce.number() reads '' and blanks as 0, ajv as no number: no verdict on those.
      if (typeof v === 'string' && v.trim() === '' && ['number', 'integer'].includes(String(deref(schema).type))) return false;
      return !conforms(schema, v, true);
    })
    .map(([k]) => `query.${k}`);
}
