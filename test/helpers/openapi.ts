import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Response } from 'supertest';
import { parse } from 'yaml';

type Operation = { responses: Record<string, { content?: Record<string, { schema: unknown }> }> };
const SPEC = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema({ ...SPEC, $id: 'openapi.json' });

const TEMPLATES = Object.keys(SPEC.paths).map((template) => ({
  template,
  regex: new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`),
}));

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
  const template = specPathFor(req.path);
  if (!template) throw new Error(`${req.method} ${req.path} is not in openapi.yaml`);
  const operation = SPEC.paths[template]![req.method.toLowerCase()];
  if (!operation) throw new Error(`${req.method} ${template} is not in openapi.yaml`);
  const documented = operation.responses[String(res.status)];
  if (!documented) throw new Error(`${req.method} ${template} answered ${res.status}, which openapi.yaml does not document`);
  const mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!;
  if (!documented.content) {
    if (res.text) throw new Error(`${res.status} should have no body, got ${res.text.slice(0, 200)}`);
    return;
  }
  const media = documented.content[mediaType];
  if (!media) throw new Error(`${req.method} ${template} ${res.status} answered ${mediaType}, documented: ${Object.keys(documented.content)}`);
  const pointer = `openapi.json#/paths/${template.replace(/~/g, '~0').replace(/\//g, '~1')}/${req.method.toLowerCase()}/responses/${res.status}/content/${mediaType.replace(/\//g, '~1')}/schema`;
  const validate = ajv.getSchema(pointer);
  if (!validate) throw new Error(`no schema at ${pointer}`);
  if (!validate(res.body)) {
    throw new Error(`${req.method} ${req.path} ${res.status} body does not match openapi.yaml: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body).slice(0, 500)}`);
  }
}

export const specPaths = () => SPEC.paths;
