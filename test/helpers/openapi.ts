import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Response } from 'supertest';
import { parse } from 'yaml';

type Documented = { $ref?: string; content?: Record<string, { schema: unknown }> };
type Operation = { responses: Record<string, Documented> };
const SPEC = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { responses?: Record<string, Documented> };
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema({ ...SPEC, $id: 'openapi.json' });

// Literal paths before templated ones (`/api/hosts/bulk` before `/api/hosts/{host_id}`), as routers match them.
const TEMPLATES = Object.keys(SPEC.paths)
  .map((template) => ({ template, params: (template.match(/\{/g) ?? []).length, regex: new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`) }))
  .sort((a, b) => a.params - b.params);

/** The spec's path template a concrete path falls under, if any. */
export function specPathFor(path: string): string | undefined {
  return TEMPLATES.find((t) => t.regex.test(path.split('?')[0]!))?.template;
}

/**
 * Fails unless the response's status is documented for its operation in the committed
 * openapi.yaml and its body validates against the documented schema.
 */
export function expectConforms(res: Response): void {
  const req = (res as unknown as { req: { method: string; path: string } }).req;
  expectAnswerConforms({ method: req.method, path: req.path, status: res.status, contentType: res.headers['content-type'], text: res.text, body: res.body });
}

/** expectConforms for any HTTP client's answer: the status is documented and the body matches its schema. */
export function expectAnswerConforms(answer: { method: string; path: string; status: number; contentType: string | null | undefined; text: string; body: unknown }): void {
  const { method, path, status, body } = answer;
  const template = specPathFor(path);
  if (!template) throw new Error(`${method} ${path} is not in openapi.yaml`);
  const operation = SPEC.paths[template]![method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${template} is not in openapi.yaml`);
  let pointer = `openapi.json#/paths/${escapePointer(template)}/${method.toLowerCase()}/responses/${status}`;
  let documented = operation.responses[String(status)];
  if (!documented) throw new Error(`${method} ${template} answered ${status}, which openapi.yaml does not document`);
  if (documented.$ref) {
    // Shared answers (401, 403) live in components/responses.
    pointer = `openapi.json${documented.$ref}`;
    documented = SPEC.components.responses?.[documented.$ref.split('/').pop()!] ?? {};
  }
  const mediaType = String(answer.contentType ?? '').split(';')[0]!;
  if (!documented.content) {
    if (answer.text) throw new Error(`${status} should have no body, got ${answer.text.slice(0, 200)}`);
    return;
  }
  const media = documented.content[mediaType];
  if (!media) throw new Error(`${method} ${template} ${status} answered ${mediaType}, documented: ${Object.keys(documented.content)}`);
  const validate = ajv.getSchema(`${pointer}/content/${escapePointer(mediaType)}/schema`);
  if (!validate) throw new Error(`no schema at ${pointer}`);
  // Media types that are not JSON (text/csv, application/x-ndjson) are documented as strings: the text is what conforms.
  const value = /[/+]json$/.test(mediaType) ? body : answer.text;
  if (!validate(value)) {
    throw new Error(`${method} ${path} ${status} body does not match openapi.yaml: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`);
  }
}

/** Fails unless `value` matches the named schema of components/schemas (e.g. one NDJSON line of an export). */
export function expectMatchesComponent(name: string, value: unknown): void {
  const validate = ajv.getSchema(`openapi.json#/components/schemas/${name}`);
  if (!validate) throw new Error(`openapi.yaml has no component schema ${name}`);
  if (!validate(value)) throw new Error(`value does not match ${name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`);
}

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

export const specPaths = () => SPEC.paths;
