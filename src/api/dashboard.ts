import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import { PROBLEM_TYPE } from './problem.ts';

/**
 * The web dashboard (web/): built with Vite into web/dist and served by the API role. Hashed asset
 * names get a year-long immutable cache; index.html is revalidated on every load, so a new build
 * reaches browsers at once. `npm start` builds when the output is missing or older than the
 * sources (a hash of web/ against a stamp), so a fresh clone needs no extra command.
 */
export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
export const DIST_DIR = path.join(WEB_DIR, 'dist');
const STAMP_FILE = '.build-stamp';
/** Page paths answered with index.html (the client routes them); everything else stays a 404. */
export const DASHBOARD_PAGES = ['/', '/sign-in', '/hosts', '/hosts/:host_id', '/incidents'];
const YEAR_SECONDS = 365 * 24 * 3600;
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** A hash of everything the build reads: web/ sources and the lockfile (library versions). */
export async function dashboardSourceHash(): Promise<string> {
  const hash = createHash('sha256');
  const files = (await listFiles(WEB_DIR)).sort();
  for (const file of [...files, path.join(WEB_DIR, '../package-lock.json')]) {
    hash.update(path.relative(WEB_DIR, file)).update('\0').update(await readFile(file)).update('\0');
  }
  return hash.digest('hex');
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) return e.name === 'dist' || e.name === 'node_modules' || e.name.startsWith('.') ? [] : listFiles(full);
      return [full];
    }),
  );
  return nested.flat();
}

/**
 * Builds the dashboard unless the build is fresh. Writes to a temporary directory and renames it
 * into place, so a server reading web/dist never sees half a build. Returns whether it built.
 */
export async function ensureDashboardBuilt(log: (message: string) => void = () => {}): Promise<boolean> {
  const sourceHash = await dashboardSourceHash();
  const stamp = await readFile(path.join(DIST_DIR, STAMP_FILE), 'utf8').catch(() => undefined);
  if (stamp?.trim() === sourceHash) return false;
  log(stamp ? 'the dashboard sources changed: rebuilding web/dist' : 'building the dashboard into web/dist (first start)');
  // Vite is a development dependency: imported only when a build is needed.
  const { build } = await import('vite');
  const outDir = `${DIST_DIR}.tmp-${process.pid}-${Date.now()}`;
  try {
    await build({ configFile: path.join(WEB_DIR, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    await writeFile(path.join(outDir, STAMP_FILE), `${sourceHash}\n`);
    await rm(DIST_DIR, { recursive: true, force: true });
    await rename(outDir, DIST_DIR);
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
  return true;
}

/** Mounts the built dashboard: /assets (immutable) and the page paths (index.html, no-cache). */
export function serveDashboard(app: Express): void {
  app.use(
    '/assets',
    express.static(path.join(DIST_DIR, 'assets'), {
      immutable: true,
      maxAge: YEAR_SECONDS * 1000,
      index: false,
      fallthrough: true,
      setHeaders: (res) => res.set('X-Content-Type-Options', 'nosniff'),
    }),
  );
  app.get(DASHBOARD_PAGES, async (_req, res) => {
    const html = await readFile(path.join(DIST_DIR, 'index.html'), 'utf8').catch(() => undefined);
    if (html === undefined) {
      res.status(503).type(PROBLEM_TYPE).json({
        type: 'about:blank', title: 'Service Unavailable', status: 503,
        detail: 'the dashboard is not built: `npm start` builds it, or run `npm run build:web`',
      });
      return;
    }
    res
      .set({ 'Cache-Control': 'no-cache', 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'same-origin', 'X-Frame-Options': 'DENY' })
      .type('html')
      .send(html);
  });
}

/** Whether a build exists at all (the start banner mentions the dashboard only then). */
export function dashboardBuilt(): boolean {
  return existsSync(path.join(DIST_DIR, 'index.html'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const built = await ensureDashboardBuilt(console.log);
  console.log(built ? `built ${DIST_DIR}` : `${DIST_DIR} is up to date`);
}
