/**
 * Conditions on a successful HTTP exchange (Gatus's `[RESPONSE_TIME] < 300`,
 * `[CERTIFICATE_EXPIRATION] > 72h`, `[BODY].status == UP`): evaluated in order after status and
 * body checks pass; the first that does not hold fails the check with `condition_failed`, naming
 * the condition and the value observed. Pure functions apart from the JSONPath library.
 */
import { JSONPath } from 'jsonpath-plus';
import { z } from 'zod';
import { MAX_BODY_BYTES } from './http-request.ts';
import { compilePattern, MAX_PATTERN_CHARS, patternSchema } from './pattern.ts';

/**
 * The JSONPath subset accepted: `$`, then `.name`, `['name']`, `[n]`, `[*]`, `.*` and `..name`.
 * Filter and script expressions are refused (jsonpath-plus runs with eval off as well): a path is
 * written by any API caller and runs against target-controlled bodies.
 */
const JSON_PATH = /^\$(?:\.\.?(?:[A-Za-z_$][\w$-]*|\*)|\[(?:\d{1,9}|\*|'(?:[^'\\]|\\.){1,256}')\])*$/;

const jsonPathSchema = z
  .string()
  .min(1)
  .max(512)
  .regex(JSON_PATH, "must be a JSONPath like $.status or $.checks[0]['name'] (no filters or scripts)")
  .describe('JSONPath (RFC 9535 subset: names, indexes, wildcards, ..) into the JSON body; the first match is compared.');

const responseTimeCondition = z
  .object({
    kind: z.literal('response_time').describe('The whole exchange (with redirects and a digest round trip) took less than max_ms.'),
    max_ms: z.int().min(1).max(300_000).describe('Upper bound, in milliseconds (exclusive).'),
  })
  .strict();

const certificateCondition = z
  .object({
    kind: z.literal('cert_days_remaining').describe("The TLS certificate is valid for at least min_days more days (fails for a plain http:// URL)."),
    min_days: z.number().min(0).max(3650).describe('Least number of days before notAfter, e.g. 3 for "72h".'),
  })
  .strict();

const JSON_OPERATORS = ['equals', 'not_equals', 'matches', 'lt', 'lte', 'gt', 'gte', 'exists'] as const;

const jsonCondition = z
  .object({
    kind: z.literal('json').describe('A value of the JSON body (first 1 MiB) at a JSONPath.'),
    path: jsonPathSchema,
    op: z
      .enum(JSON_OPERATORS)
      .describe('equals / not_equals: same JSON value (a string "UP", a number, true, null); matches: RE2 pattern on the value as text; lt/lte/gt/gte: numeric; exists: the path matches something.'),
    value: z
      .union([z.string().max(MAX_PATTERN_CHARS), z.number(), z.boolean(), z.null()])
      .optional()
      .describe('What to compare with; a number for lt/lte/gt/gte, an RE2 pattern for matches; omitted for exists.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.op === 'exists') {
      if (c.value !== undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: 'exists takes no value' });
      return;
    }
    if (c.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: `op ${c.op} needs a value` });
    else if (['lt', 'lte', 'gt', 'gte'].includes(c.op) && typeof c.value !== 'number') {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `op ${c.op} needs a number` });
    } else if (c.op === 'matches') {
      const problem = typeof c.value === 'string' ? patternSchema('text').safeParse(c.value) : undefined;
      if (!problem?.success) ctx.addIssue({ code: 'custom', path: ['value'], message: problem?.error.issues[0]?.message ?? 'op matches needs a pattern string' });
    }
  });

const headerCondition = z
  .object({
    kind: z.literal('header').describe('A response header is present (and, with matches, its value matches).'),
    name: z.string().min(1).max(256).regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name').describe('Header name, any case.'),
    matches: patternSchema('text').optional().describe('RE2 pattern the value must match; omitted = present is enough.'),
  })
  .strict();

export const httpConditionSchema = z
  .discriminatedUnion('kind', [responseTimeCondition, certificateCondition, jsonCondition, headerCondition])
  .describe('One condition on a successful exchange; the first that fails fails the check with condition_failed.');
export type HttpCondition = z.infer<typeof httpConditionSchema>;

export const httpConditionsSchema = z
  .array(httpConditionSchema)
  .max(32)
  .describe('Conditions checked in order after status and body checks pass (response time, certificate days, JSON body value, header).');

/** What the conditions look at. */
export interface ObservedExchange {
  responseTimeMs: number;
  certDaysRemaining?: number;
  headers: Record<string, string | string[] | undefined>;
  body?: string;
  bodyTruncated?: boolean;
}

/** True when some condition needs the response body read. */
export function conditionsNeedBody(conditions: readonly HttpCondition[] | undefined): boolean {
  return (conditions ?? []).some((c) => c.kind === 'json');
}

/** The message of the first condition that does not hold, or null when all hold. */
export function evaluateConditions(conditions: readonly HttpCondition[] | undefined, seen: ObservedExchange): string | null {
  let json: { value: unknown } | { error: string } | undefined;
  for (const condition of conditions ?? []) {
    if (condition.kind === 'json') json ??= parseBody(seen);
    const failure = evaluate(condition, seen, json);
    if (failure !== null) return `condition ${describeCondition(condition)} failed: ${failure}`;
  }
  return null;
}

/** How a condition reads in a message, e.g. `json $.status equals "UP"`. */
export function describeCondition(c: HttpCondition): string {
  switch (c.kind) {
    case 'response_time':
      return `response_time < ${c.max_ms} ms`;
    case 'cert_days_remaining':
      return `cert_days_remaining >= ${c.min_days}`;
    case 'json':
      return `json ${c.path} ${c.op}${c.value === undefined ? '' : ` ${JSON.stringify(c.value)}`}`;
    case 'header':
      return `header ${c.name}${c.matches === undefined ? ' present' : ` matches /${c.matches}/`}`;
  }
}

function evaluate(c: HttpCondition, seen: ObservedExchange, json: { value: unknown } | { error: string } | undefined): string | null {
  switch (c.kind) {
    case 'response_time':
      return seen.responseTimeMs < c.max_ms ? null : `observed ${seen.responseTimeMs} ms`;
    case 'cert_days_remaining':
      if (seen.certDaysRemaining === undefined) return 'observed no TLS certificate';
      return seen.certDaysRemaining >= c.min_days ? null : `observed ${seen.certDaysRemaining} days`;
    case 'header':
      return evaluateHeader(c, seen.headers[c.name.toLowerCase()]);
    case 'json':
      if (!json || 'error' in json) return json?.error ?? 'observed no body';
      return evaluateJson(c, json.value);
  }
}

function evaluateHeader(c: Extract<HttpCondition, { kind: 'header' }>, raw: string | string[] | undefined): string | null {
  if (raw === undefined) return 'observed no such header';
  const value = Array.isArray(raw) ? raw.join(', ') : raw;
  if (c.matches === undefined || compilePattern(c.matches).test(value)) return null;
  return `observed ${JSON.stringify(clip(value))}`;
}

function parseBody(seen: ObservedExchange): { value: unknown } | { error: string } {
  if (seen.body === undefined) return { error: 'observed no body' };
  if (seen.bodyTruncated) return { error: `observed a body longer than ${MAX_BODY_BYTES} bytes, not parsed` };
  try {
    return { value: JSON.parse(seen.body) };
  } catch {
    return { error: `observed a body that is not JSON (starts ${JSON.stringify(clip(seen.body, 60))})` };
  }
}

function evaluateJson(c: Extract<HttpCondition, { kind: 'json' }>, document: unknown): string | null {
  const matches = JSONPath({ path: c.path, json: document as object, wrap: true, eval: false }) as unknown[];
  if (matches.length === 0) return 'observed nothing at that path';
  const value = matches[0];
  const observed = `observed ${clip(JSON.stringify(value) ?? 'undefined')}`;
  return holds(c, value) ? null : observed;
}

function holds(c: Extract<HttpCondition, { kind: 'json' }>, value: unknown): boolean {
  switch (c.op) {
    case 'exists':
      return true;
    case 'equals':
      return value === c.value;
    case 'not_equals':
      return value !== c.value;
    case 'matches':
      return compilePattern(String(c.value)).test(typeof value === 'string' ? value : JSON.stringify(value));
    default:
      return typeof value === 'number' && compareNumbers(c.op, value, c.value as number);
  }
}

function compareNumbers(op: 'lt' | 'lte' | 'gt' | 'gte', observed: number, limit: number): boolean {
  if (op === 'lt') return observed < limit;
  if (op === 'lte') return observed <= limit;
  if (op === 'gt') return observed > limit;
  return observed >= limit;
}

/** Observed values go into messages and history: keep them short. */
function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
