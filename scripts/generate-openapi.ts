// Writes openapi.yaml from the API's route list and zod schemas, and the TypeScript types a client
// generates from it (src/api/openapi-types.d.ts, via openapi-typescript): `npm run openapi`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { apiRoutes } from '../src/api/app.ts';
import type { ApiDeps } from '../src/api/deps.ts';
import { buildOpenApiDocument, openApiYaml } from '../src/api/openapi.ts';
import type { RouteSpec } from '../src/api/route.ts';
import { loadConfig } from '../src/config/config.ts';

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.yaml', import.meta.url));
/**
 * The contract's types, generated once and shared by every client: the `vigil` command line
 * (src/cli/api-client.ts), the dashboard (web/src/api.ts) and the test client (test/client).
 */
export const CLIENT_TYPES_FILE = fileURLToPath(new URL('../src/api/openapi-types.d.ts', import.meta.url));

/**
 * The routes as documented: handlers are not called, so only the default configuration is given
 * (some routes read it to describe their defaults) — never this process's environment.
 */
export function documentedRoutes(): RouteSpec[] {
  return apiRoutes({ config: loadConfig({}) } as ApiDeps);
}

/** The document as the code describes it. */
export function generatedOpenApi(): string {
  return openApiYaml(buildOpenApiDocument(documentedRoutes()));
}

/** What openapi-typescript makes of the document: the types test/client/client.ts is checked against. */
export async function generatedClientTypes(yaml: string): Promise<string> {
  // Fields with a default are optional to send; by default openapi-typescript would require them.
  const ast = await openapiTS(yaml, { defaultNonNullable: false });
  return `${COMMENT_HEADER}// From openapi.yaml; regenerate with \`npm run openapi\`.\n\n${astToString(ast)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const yaml = generatedOpenApi();
  writeFileSync(OPENAPI_FILE, yaml);
  const types = await generatedClientTypes(yaml);
  writeFileSync(CLIENT_TYPES_FILE, types);
  console.log(`wrote ${OPENAPI_FILE} and ${CLIENT_TYPES_FILE}`);
}
