import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { apiRoutes } from '../../src/api/app.ts';
import type { ApiDeps } from '../../src/api/deps.ts';
import { generatedOpenApi } from '../../scripts/generate-openapi.ts';

const committed = readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8');

describe('openapi.yaml', () => {
  it('is what the code generates (run `npm run openapi` after changing routes or schemas)', () => {
    expect(committed).toBe(generatedOpenApi());
  });

  it('lists every route the API serves, and nothing else', () => {
    const spec = parse(committed) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(spec.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    const served = apiRoutes({} as ApiDeps).map((r) => `${r.method} ${r.path}`);
    expect(documented.sort()).toEqual(served.sort());
  });

  it('gives every operation an operationId, summary, tags and its error responses', () => {
    const spec = parse(committed) as { paths: Record<string, Record<string, { operationId: string; summary: string; tags: string[]; responses: Record<string, unknown> }>> };
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z]+$/);
        expect(op.summary.length).toBeGreaterThan(5);
        expect(op.tags.length).toBeGreaterThan(0);
        expect(Object.keys(op.responses).some((s) => s.startsWith('4')), `${method} ${path} documents a 4xx`).toBe(true);
      }
    }
  });
});
