// Writes openapi.yaml from the API's route list and zod schemas: `npm run openapi`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { apiRoutes } from '../src/api/app.ts';
import type { ApiDeps } from '../src/api/deps.ts';
import { buildOpenApiDocument, openApiYaml } from '../src/api/openapi.ts';

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.yaml', import.meta.url));

/** The document as the code describes it. Route handlers are not called, so no deps are needed. */
export function generatedOpenApi(): string {
  return openApiYaml(buildOpenApiDocument(apiRoutes({} as ApiDeps)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OPENAPI_FILE, generatedOpenApi());
  console.log(`wrote ${OPENAPI_FILE}`);
}
