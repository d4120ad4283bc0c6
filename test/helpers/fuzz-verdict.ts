import { expectAnswerConforms } from './openapi.ts';
import { conforms, specOperations, type FuzzAnswer, type JsonSchema, type SpecOperation } from './fuzz.ts';
import type { Caller, FuzzRequest } from './fuzz-request.ts';

/**
 * The verdict on one answer of test/reliability/fuzz-api.test.ts: what the spec and the promise
 * "hostile input never hurts" allow an API to answer a generated request.
 */

/** Is the operation callable by `caller` (x-required-scope: check GETs are open to read tokens too)? */
export function callerMayCall(op: SpecOperation, caller: Caller): boolean {
  if (caller === 'admin') return true;
  if (caller !== 'read') return false;
  return op.scope === 'read' || (op.scope === 'check' && op.method === 'get');
}

/** Every operation of openapi.yaml. */
export const OPERATIONS = specOperations();
const templateRegex = (template: string) => new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}/?$`, 'i');
const MATCHERS = OPERATIONS.map((op) => ({ op, regex: templateRegex(op.path) }));

/** The operation express routes a sent path to (case-insensitive, trailing slash optional), if any. */
export function routedOperation(method: string, sentPath: string): SpecOperation | undefined {
  const path = sentPath.split('?')[0]!;
  return MATCHERS.find((m) => m.op.method === method && m.regex.test(path))?.op;
}

/**
 * What is wrong with an answer, if anything: a 5xx, no answer, an undocumented success, a 4xx that
 * is not a problem naming its cause, or a validation error that does not name a bad field.
 */
export function judge(op: SpecOperation, req: FuzzRequest, answer: FuzzAnswer): string | undefined {
  if (answer.timedOut) return 'no answer within the deadline';
  if (answer.reset) return req.overLimit ? undefined : `connection cut without an answer: ${answer.reset}`;
  const { status } = answer;
  if (status >= 500) return `answered ${status}: ${answer.text.slice(0, 300)}`;
  const routed = routedOperation(req.method, req.path);
  const documented = routed?.statuses.includes(status);
  if (status < 400) {
    if (!documented) return `success ${status} is not documented for ${req.method.toUpperCase()} ${routed?.path ?? req.path}`;
    return conformity(req, answer);
  }
  const problem = problemVerdict(status, answer);
  if (problem) return problem;
  if (documented) {
    const mismatch = conformity(req, answer);
    if (mismatch) return mismatch;
  }
  if (req.invalidFields.length > 0 && routed === op && req.reachesValidation && callerMayCall(op, req.caller)) return namesFields(req.invalidFields, status, answer);
  return undefined;
}

function conformity(req: FuzzRequest, answer: FuzzAnswer): string | undefined {
  const contentType = String(answer.headers['content-type'] ?? '');
  try {
    const body = /json/.test(contentType) && !/ndjson/.test(contentType) ? (JSON.parse(answer.text) as unknown) : undefined;
    const path = req.path.split('?')[0]!.replace(/(.)\/$/, '$1');
    expectAnswerConforms({ method: req.method.toUpperCase(), path, status: answer.status, contentType, text: answer.text, body });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

const PROBLEM: JsonSchema = { $ref: '#/components/schemas/Problem' };

function problemVerdict(status: number, answer: FuzzAnswer): string | undefined {
  const contentType = String(answer.headers['content-type'] ?? '');
  if (!contentType.startsWith('application/problem+json')) return `${status} answered ${contentType || 'no content-type'}, not application/problem+json: ${answer.text.slice(0, 200)}`;
  let body: { status?: unknown; detail?: unknown; title?: unknown };
  try {
    body = JSON.parse(answer.text) as typeof body;
  } catch {
    return `${status} problem is not JSON: ${answer.text.slice(0, 200)}`;
  }
  if (!conforms(PROBLEM, body)) return `${status} problem does not match the Problem schema: ${answer.text.slice(0, 300)}`;
  if (body.status !== status || !String(body.detail).trim() || !String(body.title).trim()) return `${status} problem names no cause: ${answer.text.slice(0, 300)}`;
  return undefined;
}

/** A 400 whose errors name each invalid field (or its union, or, for an unknown key, the object with the key in the message). */
function namesFields(fields: string[], status: number, answer: FuzzAnswer): string | undefined {
  if (status !== 400) return `expected 400 naming ${fields.join(', ')}, got ${status}: ${answer.text.slice(0, 300)}`;
  const errors = ((JSON.parse(answer.text) as { errors?: { field: string; message: string }[] }).errors ?? []);
  const missing = fields.filter((f) => !errors.some((e) => named(f, e)));
  if (missing.length === 0) return undefined;
  return `400 does not name ${missing.join(', ')}: ${answer.text.slice(0, 500)}`;
}

function named(field: string, e: { field: string; message: string }): boolean {
  if (e.field === field || e.field.startsWith(`${field}.`)) return true;
  if (!field.startsWith(`${e.field}.`)) return false;
  const key = field.slice(e.field.length + 1).split('.')[0]!;
  // `body` and `query` alone name the field only through the message (zod's unrecognized_keys).
  return e.field.includes('.') || e.message.includes(`"${key}"`) || e.message.includes(JSON.stringify(key));
}

