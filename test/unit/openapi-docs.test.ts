import { createSilentLogger } from '../../src/lib/logger.ts';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import express from 'express';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { createApi } from '../../src/api/app.ts';
import type { ApiDeps } from '../../src/api/deps.ts';
import { findRedocBundle, serveDocs } from '../../src/api/docs.ts';
import { loadConfig } from '../../src/config/config.ts';
import { documentedRoutes } from '../../scripts/generate-openapi.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Serving the docs and the document touches no dependency but the configuration.
const app = createApi({ config: loadConfig({}), logger: createSilentLogger() } as ApiDeps);

describe('served API documentation', () => {
  it('serves openapi.yaml byte for byte as committed', async () => {
    const res = await request(app).get('/openapi.yaml').buffer(true).parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/yaml/);
    expect((res.body as Buffer).equals(readFileSync(join(ROOT, 'openapi.yaml')))).toBe(true);
  });

  it('serves /docs: an HTML page rendering /openapi.yaml with a locally served Redoc, nothing from elsewhere', async () => {
    const res = await request(app).get('/docs');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain(`init('/openapi.yaml'`);
    expect(res.text).toContain(`from '/docs/redoc.standalone.js'`);
    expect(res.text).toContain('disableTelemetry: true');
    expect(res.text).not.toMatch(/(src|href)="https?:|from 'https?:/);
  });

  it('serves the Redoc bundle it imports: an ES module exporting init', async () => {
    const res = await request(app).get('/docs/redoc.standalone.js');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/javascript/);
    expect(res.text).toMatch(/export\s*\{[^}]*\binit\b/);
    const bundle = (await import(findRedocBundle()!)) as { init?: unknown };
    expect(typeof bundle.init).toBe('function');
  });

  it('links the document when Redoc is not installed (production images omit dev dependencies)', async () => {
    const bare = express();
    serveDocs(bare, { redocBundle: undefined });
    const res = await request(bare).get('/docs');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<a href="/openapi.yaml">');
    expect((await request(bare).get('/docs/redoc.standalone.js')).status).toBe(404);
  });

  describe('Redoc rendering the document', () => {
    const out = mkdtempSync(join(tmpdir(), 'vigil-docs-'));
    afterAll(() => rmSync(out, { recursive: true, force: true }));

    // The same Redoc, rendering on the server (redocly build-docs): it reads the document and
    // lays out its title and every tag; a document Redoc cannot load fails here.
    it('renders the title and every tag', async () => {
      const cli = join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
      const html = join(out, 'docs.html');
      await promisify(execFile)(process.execPath, [cli, 'build-docs', 'openapi.yaml', '-o', html], { cwd: ROOT });
      // The page prerenders the layout, then embeds the document itself for the browser.
      const prerendered = readFileSync(html, 'utf8').split('const __redoc_definition')[0]!;
      expect(prerendered).toContain('Vigil API (0.1.0)');
      for (const tag of new Set(documentedRoutes().flatMap((r) => r.tags))) expect(prerendered).toContain(`data-text="${tag}"`);
    });
  });
});
