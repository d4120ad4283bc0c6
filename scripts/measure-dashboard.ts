// Measures the dashboard against a large fleet in headless Chromium: the overview's first render
// and a host-list page. `DATABASE_URL=postgres://… node scripts/measure-dashboard.ts [hosts]`
// (default 100000), with the project's Node: `npx node scripts/measure-dashboard.ts`. It creates and drops its own database on that server; results are medians of
// five runs, printed as a Markdown table for the README.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ensureDashboardBuilt } from '../src/api/dashboard.ts';
import { loadConfig } from '../src/config/config.ts';
import { createSilentLogger } from '../src/lib/logger.ts';
import { startVigil } from '../src/runtime.ts';
import { launchBrowser, newUser } from '../test/helpers/browser.ts';
import { seedHosts } from '../test/helpers/hosts.ts';

const RUNS = 5;
const TOKEN = `measure-${randomBytes(16).toString('hex')}`;
const count = Number(process.argv[2] ?? 100_000);
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) throw new Error('set DATABASE_URL to a PostgreSQL server this script may create a database on');

/** The page's globals, for functions playwright runs in the page (this Node project has no DOM types). */
interface PageElement { getAttribute(n: string): string | null; textContent: string | null; click(): void; value: string; dispatchEvent(e: unknown): void }
interface InPage {
  document: { querySelector(s: string): PageElement | null; querySelectorAll(s: string): Iterable<PageElement>; getElementById(id: string): PageElement | null; body: unknown };
  performance: { now(): number };
  MutationObserver: new (cb: () => void) => { observe(target: unknown, options: object): void; disconnect(): void };
  Event: new (type: string, init: object) => unknown;
}

/** ms from navigation start until `selector` is on screen, by the page's clock. */
async function renderedAt(page: import('playwright-core').Page, selector: string): Promise<number> {
  const handle = await page.waitForFunction((sel) => {
    const g = globalThis as unknown as InPage;
    return g.document.querySelector(sel) ? g.performance.now() : false;
  }, selector, { polling: 'raf' });
  return Math.round((await handle.jsonValue()) as number);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function admin(sql: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const dbName = `vigil_dashboard_measure_${process.pid}`;
await admin(`CREATE DATABASE ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
await ensureDashboardBuilt(console.log);
const vigil = await startVigil(loadConfig({ DATABASE_URL: url.toString(), PORT: '0', HOST: '127.0.0.1', VIGIL_ADMIN_TOKEN: TOKEN }), ['api'], createSilentLogger());
const browser = await launchBrowser();
try {
  const probes = [{ type: 'tcp', port: 9 }];
  // A fleet in every state, as an on-call screen sees it; nothing checks them (api role only).
  const mix = [['HEALTHY', count * 0.97], ['DEGRADED', count * 0.02], ['CRITICAL', count * 0.007], ['DOWN', count * 0.003]] as const;
  for (const [state, n] of mix) {
    for (let done = 0; done < n; done += 20_000) {
      await seedHosts(vigil.pool, { count: Math.min(20_000, Math.round(n) - done), namePrefix: `${state.toLowerCase()}-${done}`, probes, state, group: `rack-${done % 7}`, dueAgoMs: -3_600_000 });
    }
  }
  await vigil.pool.query('ANALYZE hosts');
  const base = vigil.apiUrl!;
  const { page } = await newUser(browser);
  await page.goto(`${base}/`);
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('count-HEALTHY').waitFor();

  const overview: number[] = [];
  const hostsFirst: number[] = [];
  const hostsNext: number[] = [];
  const hostsDown: number[] = [];
  // Timed inside the page (performance.now(): from navigation start, or from the click), so the
  // figures are the page's own, without the test driver's round trips. The functions run in the
  // page (playwright serialises them), hence the self-contained bodies.
  for (let run = 0; run < RUNS; run++) {
    await page.goto(`${base}/`);
    overview.push(await renderedAt(page, '[data-testid=count-HEALTHY]'));
    await page.goto(`${base}/hosts`);
    hostsFirst.push(await renderedAt(page, 'tr[data-host]'));
    hostsNext.push(await page.evaluate(() => new Promise<number>((resolve) => {
      const g = globalThis as unknown as InPage;
      const first = () => g.document.querySelector('tr[data-host]')?.getAttribute('data-host');
      const before = first();
      const t0 = g.performance.now();
      const observer = new g.MutationObserver(() => {
        if (first() === before) return;
        observer.disconnect();
        resolve(Math.round(g.performance.now() - t0));
      });
      observer.observe(g.document.body, { subtree: true, childList: true, attributes: true });
      [...g.document.querySelectorAll('button')].find((b) => b.textContent === 'Next →')!.click();
    })));
    hostsDown.push(await page.evaluate(() => new Promise<number>((resolve) => {
      const g = globalThis as unknown as InPage;
      const t0 = g.performance.now();
      const observer = new g.MutationObserver(() => {
        if (g.document.querySelector('tr[data-host]')?.getAttribute('data-state') !== 'DOWN') return;
        observer.disconnect();
        resolve(Math.round(g.performance.now() - t0));
      });
      observer.observe(g.document.body, { subtree: true, childList: true, attributes: true });
      const select = g.document.getElementById('filter-state')!;
      select.value = 'DOWN';
      select.dispatchEvent(new g.Event('change', { bubbles: true }));
    })));
  }
  const api: Record<string, number[]> = {};
  const auth = { authorization: `Bearer ${TOKEN}` };
  const firstPage = (await (await fetch(`${base}/api/hosts?limit=50`, { headers: auth })).json()) as { next_cursor: string };
  const calls = [
    '/api/monitoring/summary', '/api/monitoring/stats', '/api/monitoring/queue', '/api/monitoring/workers',
    '/api/incidents?status=open&limit=5', '/api/hosts?maintenance=true&limit=100', '/api/hosts?limit=50',
    `/api/hosts?limit=50&after=${firstPage.next_cursor}`, '/api/hosts?state=DOWN&limit=50',
  ];
  for (let run = 0; run < RUNS; run++) {
    for (const call of calls) {
      const start = performance.now();
      const res = await fetch(`${base}${call}`, { headers: auth });
      await res.arrayBuffer();
      (api[call] ??= []).push(Math.round(performance.now() - start));
    }
  }
  const total = (await vigil.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM hosts')).rows[0]!.n;
  console.log(`\n${total} hosts; medians of ${RUNS} runs in headless Chromium on this machine (the page's clock: navigation start or click to rows on screen):\n`);
  console.log('| What | Median | Runs |');
  console.log('|---|---|---|');
  const row = (what: string, xs: number[]) => console.log(`| ${what} | ${median(xs)} ms | ${xs.join(', ')} |`);
  row('Overview: navigation start to state counts on screen', overview);
  row('Host list: load to first page of 50 rows', hostsFirst);
  row('Host list: Next page (50 rows)', hostsNext);
  row('Host list: filter to DOWN', hostsDown);
  for (const [call, xs] of Object.entries(api)) row(`API ${call.replace(/after=[^&]+/, 'after=…')}`, xs);
} finally {
  await browser.close();
  await vigil.stop();
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
}
