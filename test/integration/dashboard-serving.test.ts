/**
 * How the API role serves the built dashboard (web/dist, built by the test suite's globalSetup as
 * `npm start` builds it): page paths answer index.html, revalidated on every load and under a
 * strict CSP; hashed assets are cached for a year; anything else is an ordinary 404.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ensureDashboardBuilt } from '../../src/api/dashboard.ts';
import { useTestVigil } from '../helpers/vigil.ts';

const ctx = useTestVigil({ roles: ['api'] });
const YEAR_SECONDS = 365 * 24 * 3600;

describe('the dashboard as served', () => {
  it('answers every page path with index.html: no-cache, a CSP without inline script, no framing', async () => {
    for (const path of ['/', '/sign-in', '/hosts', '/hosts/06909604-8df5-4680-bb1c-e7dc7f17dcbf', '/incidents']) {
      const res = await request(ctx.vigil.apiUrl!).get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
      expect(res.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.text).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">/);
    }
    expect((await request(ctx.vigil.apiUrl!).get('/no-such-page')).status).toBe(404);
  });

  it('serves its assets under hashed names with a year-long immutable cache', async () => {
    const html = (await request(ctx.vigil.apiUrl!).get('/')).text;
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      expect(asset).toMatch(/-[\w-]{8}\.(js|css)$/);
      const res = await request(ctx.vigil.apiUrl!).get(asset);
      expect(res.status, asset).toBe(200);
      expect(res.headers['cache-control']).toBe(`public, max-age=${YEAR_SECONDS}, immutable`);
    }
    expect((await request(ctx.vigil.apiUrl!).get('/assets/index-00000000.js')).status).toBe(404);
  });

  it('builds only when the sources changed: the build the suite made is current', async () => {
    expect(await ensureDashboardBuilt()).toBe(false);
  });
});
