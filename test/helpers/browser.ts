/**
 * Headless Chromium for the dashboard tests: Debian's /usr/bin/chromium driven by playwright-core
 * (no browser download). Each launch gets a fresh profile (playwright creates a temporary
 * user-data-dir per launch), so no cookie or cache survives between test files.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS_DIR = path.resolve('test-artifacts');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

const LAUNCH_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, timeout: 60_000 });
}

const openContexts = new Set<BrowserContext>();

/** A context (its own cookie jar: one signed-in user) whose pages fail the test on script errors. */
export async function newUser(browser: Browser, viewport = DESKTOP): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport });
  openContexts.add(context);
  context.once('close', () => openContexts.delete(context));
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  // A refused CSP or a failed script shows up as a console error; 401s while signed out are expected.
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/status of 401/.test(msg.text())) errors.push(msg.text());
  });
  return { context, page, errors };
}

/**
 * Closes every context newUser opened that a test left open (it failed before its own close), so
 * its pages' event streams do not outlive the test and hold the server's per-token stream slots.
 */
export async function closeUsers(): Promise<void> {
  await Promise.all([...openContexts].map((c) => c.close()));
}

/**
 * What the open pages show, for a failed test's report: a CI log then says what the page said
 * ("Disconnected", an error banner, an empty table) instead of only which locator timed out.
 */
export async function describeOpenPages(): Promise<string> {
  const lines: string[] = [];
  for (const context of openContexts) {
    for (const page of context.pages()) {
      const text = await page.locator('body').innerText({ timeout: 2_000 }).catch((err: Error) => `(unreadable: ${err.message})`);
      lines.push(`--- ${page.url()}\n${text.slice(0, 2_000)}`);
    }
  }
  return lines.join('\n');
}

/** Saves a full-page screenshot under test-artifacts/ (git-ignored) and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe-core in the page; returns the serious and critical violations (WCAG 2.x A/AA rules). */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  // evaluate (DevTools protocol) rather than a <script> tag: the dashboard's CSP refuses inline scripts.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const page = globalThis as unknown as { document: unknown; axe: { run: (ctx: unknown, opts: object) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }> } };
    const result = await page.axe.run(page.document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
