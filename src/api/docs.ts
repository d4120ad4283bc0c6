import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Express } from 'express';

/**
 * Browsable API documentation at /docs, offline: Redoc's standalone bundle, as shipped inside the
 * @redocly/cli package (a dev dependency), renders /openapi.yaml in the browser. Nothing is
 * fetched from a CDN and Redoc's telemetry is off. Where dev dependencies are not installed (the
 * Docker image), /docs says so and links the document instead.
 */
export const DOCS_PATH = '/docs';
const BUNDLE_PATH = '/docs/redoc.standalone.js';

/**
 * Redoc's standalone ES module inside @redocly/cli, if installed. The path is internal to the
 * package: test/unit/openapi-docs.test.ts fails if an upgrade moves it.
 */
export function findRedocBundle(): string | undefined {
  try {
    const cli = dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json'));
    const bundle = join(cli, 'lib', 'chunks', 'redoc.standalone.js');
    return existsSync(bundle) ? bundle : undefined;
  } catch {
    return undefined;
  }
}

const page = (body: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil API</title>
<style>body { margin: 0; font-family: system-ui, sans-serif; } p { margin: 2rem; }</style>
</head>
<body>
${body}
</body>
</html>
`;

const VIEWER = page(`<noscript><p>The documentation needs JavaScript; the API description itself is <a href="/openapi.yaml">/openapi.yaml</a>.</p></noscript>
<div id="redoc"></div>
<script type="module">
import { init } from '${BUNDLE_PATH}';
init('/openapi.yaml', { disableTelemetry: true, showExtensions: ['x-required-scope'] }, document.getElementById('redoc'));
</script>`);

const NO_VIEWER = page(`<p>The documentation viewer (Redoc, from the @redocly/cli dev dependency) is not installed here.
The API description is <a href="/openapi.yaml">/openapi.yaml</a>; any OpenAPI 3.1 viewer shows it.</p>`);

/** GET /docs, and the Redoc bundle it loads; `redocBundle` is the file to serve, if any. */
export function serveDocs(app: Express, { redocBundle } = { redocBundle: findRedocBundle() }): void {
  app.get(DOCS_PATH, (_req, res) => void res.type('html').send(redocBundle ? VIEWER : NO_VIEWER));
  if (redocBundle) app.get(BUNDLE_PATH, (_req, res) => res.type('text/javascript').sendFile(redocBundle, { maxAge: '1h' }));
}
