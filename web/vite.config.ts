import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** Where `vite build` writes the dashboard; the API serves it (src/api/dashboard.ts). */
export const WEB_ROOT = fileURLToPath(new URL('.', import.meta.url));
export const WEB_OUT_DIR = fileURLToPath(new URL('./dist', import.meta.url));

export default defineConfig({
  root: WEB_ROOT,
  base: '/',
  // JSX through Vite's own transformer (oxc) with Preact's runtime: no Babel preset needed.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: WEB_OUT_DIR,
    emptyOutDir: true,
    // Hashed names under /assets/: served with a year-long immutable cache.
    assetsDir: 'assets',
    target: 'es2022',
    reportCompressedSize: false,
  },
  // `npx vite --config web/vite.config.ts` for development: API calls go to a Vigil on 8080.
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
