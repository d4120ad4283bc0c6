/**
 * The dashboard in a real browser (Debian's Chromium) against a real Vigil (all roles) on real
 * PostgreSQL, checking real loopback targets: the flows an on-call engineer goes through.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeUsers, describeOpenPages, DESKTOP, launchBrowser, newUser, PHONE, screenshot, seriousAxeViolations } from '../helpers/browser.ts';
import { reserveRefusedPort, startHttpTarget, type HttpTarget, type LoopbackTarget } from '../helpers/targets.ts';
import { FAST_ENV, TEST_ADMIN_TOKEN, useTestVigil, waitFor, type TestVigil } from '../helpers/vigil.ts';
import { hostPage, hostsPage, incidentsPage, overviewPage, signInPage } from './dashboard-pages.ts';

let vigil: TestVigil;
let browser: Browser;
let alpha: HttpTarget;
let bravo: HttpTarget;
let refused: LoopbackTarget;
/** alpha answers 200 while true, 503 once a test takes it down. */
let alphaUp = true;
const ids: Record<string, string> = {};
let base: string;

async function addHost(name: string, probe: Record<string, unknown>, group = 'web'): Promise<void> {
  const res = await vigil.http().post('/api/hosts').send({ name, address: '127.0.0.1', group, tags: ['browser'], probes: [probe] });
  expect(res.status).toBe(201);
  ids[name] = res.body.id as string;
}

async function stateOf(name: string): Promise<string> {
  return (await vigil.http().get(`/api/hosts/${ids[name]}`)).body.monitoring_state as string;
}

async function mint(name: string, scopes: string[]): Promise<{ id: string; token: string }> {
  const res = await vigil.http().post('/api/tokens').send({ name, scopes });
  expect(res.status).toBe(201);
  return res.body as { id: string; token: string };
}

const running = useTestVigil({ roles: ['api', 'scheduler', 'worker'], env: FAST_ENV });
beforeAll(async () => {
  vigil = running.vigil;
  alpha = await startHttpTarget({ '/health': (_req, res) => void res.writeHead(alphaUp ? 200 : 503).end(alphaUp ? 'ok' : 'down') });
  bravo = await startHttpTarget({ '/health': (_req, res) => void res.writeHead(200).end('ok') });
  refused = await reserveRefusedPort();
  base = vigil.apiUrl!;
  await addHost('alpha', { type: 'http', url: `${alpha.url}/health`, expect_status: [200] });
  await addHost('bravo', { type: 'http', url: `${bravo.url}/health`, expect_status: [200] });
  await addHost('gamma', { type: 'tcp', port: refused.port }, 'db');
  await waitFor('gamma DOWN', async () => (await stateOf('gamma')) === 'DOWN', 30_000);
  await waitFor('alpha and bravo checked', async () => {
    const hosts = (await vigil.http().get('/api/hosts?group=web')).body.hosts as { last_check: string | null }[];
    return hosts.every((h) => h.last_check);
  });
  browser = await launchBrowser();
}, 120_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    // Printed so a CI log says what the page showed and what Vigil logged when a flow failed.
    const logged = vigil.transport.entries.filter((e) => e.level === 'warn' || e.level === 'error').slice(-20);
    console.error(`pages when "${ctx.task.name}" failed:\n${await describeOpenPages()}\nVigil's last warnings:\n${logged.map((e) => JSON.stringify(e)).join('\n')}`);
  }
  await closeUsers();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([alpha?.close(), bravo?.close(), refused?.close()]);
});

// When a test fails, afterEach prints what the pages showed and Vigil's last warnings, and
// closes its browser context so its event stream holds no stream slot into the next test.
describe('the dashboard in Chromium', { timeout: 60_000 }, () => {
  it('tells a wrong token clearly, and signs in with a right one', async () => {
    const { context, page, errors } = await newUser(browser);
    await signInPage.signIn(page, base, 'vgl_this-is-not-a-token');
    await expect.poll(() => signInPage.error(page).textContent()).toMatch(/not accepted: it is unknown, revoked or expired/);
    await screenshot(page, '01-sign-in-wrong-token');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByLabel('API token').fill(TEST_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'vigil_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows the right counts by state on the overview, live', async () => {
    const { context, page, errors } = await newUser(browser);
    await signInPage.signIn(page, base, TEST_ADMIN_TOKEN);
    await expect.poll(() => overviewPage.counts(page), { timeout: 15_000 }).toEqual({ HEALTHY: 2, DEGRADED: 0, CRITICAL: 0, DOWN: 1, UNREACHABLE: 0 });
    const summary = (await vigil.http().get('/api/monitoring/summary')).body as { by_state: Record<string, number> };
    expect(await overviewPage.counts(page)).toEqual(summary.by_state);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    expect(await page.getByTestId('open-incidents').textContent()).toBe('1');
    expect(await page.getByTestId('in-maintenance').textContent()).toBe('0');
    // The checking pool: the one worker of this Vigil, and a verdict in words.
    const pool = page.getByRole('heading', { name: 'Checking pool' }).locator('..');
    expect(await pool.locator('dt:has-text("Workers") + dd').textContent()).toBe('1');
    expect(await page.getByTestId('pool-status').textContent()).toMatch(/^(✓ Keeping up|▲ Overloaded: the oldest due check waits \d+ s)/);
    expect(await page.getByTestId('success-rate').textContent()).toMatch(/^\d+(\.\d)? %$/);
    await screenshot(page, '02-overview');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.setViewportSize(PHONE);
    await screenshot(page, '09-overview-phone');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('filters the host list to DOWN hosts', async () => {
    const { context, page, errors } = await newUser(browser);
    await signInPage.signIn(page, base, TEST_ADMIN_TOKEN);
    await page.getByRole('link', { name: 'Hosts', exact: true }).click();
    await expect.poll(() => hostsPage.names(page)).toEqual(['alpha', 'bravo', 'gamma']);
    await hostsPage.filterState(page, 'Down');
    await expect.poll(() => hostsPage.names(page)).toEqual(['gamma']);
    expect(new URL(page.url()).search).toBe('?state=DOWN');
    expect(await hostsPage.row(page, 'gamma').getByText('Down').count()).toBe(1);
    // Its last error: the type and the message, on screen (not only in a tooltip).
    expect(await hostsPage.row(page, 'gamma').locator('.error-cell').innerText()).toMatch(/^connection_refused\s+connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    await screenshot(page, '03-hosts-down');
    expect(await seriousAxeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('opens a host with its timeline, and Check now shows the fresh result in place', async () => {
    const { context, page, errors } = await newUser(browser);
    await signInPage.signIn(page, base, TEST_ADMIN_TOKEN);
    await hostPage.open(page, base, ids.gamma!);
    await expect.poll(() => hostPage.timelineItems(page).count()).toBeGreaterThanOrEqual(1);
    expect(await hostPage.timelineItems(page).first().textContent()).toMatch(/Down/);
    await screenshot(page, '04-host-down');
    await hostPage.open(page, base, ids.bravo!);
    const jitBefore = Number((await vigil.http().get(`/api/monitoring/hosts/${ids.bravo}/history?limit=1000`)).body.checks.filter((c: { checked_by: string }) => c.checked_by === 'jit').length);
    await hostPage.checkNow(page);
    await expect.poll(() => page.getByTestId('check-note').textContent(), { timeout: 20_000 }).toMatch(/Fresh check completed/);
    expect(await hostPage.latest(page).textContent()).toMatch(/\(jit\)/);
    expect(await hostPage.latest(page).textContent()).toMatch(/success/);
    const jitAfter = (await vigil.http().get(`/api/monitoring/hosts/${ids.bravo}/history?limit=1000`)).body.checks.filter((c: { checked_by: string }) => c.checked_by === 'jit').length;
    expect(jitAfter).toBe(jitBefore + 1);
    await screenshot(page, '05-host-check-now');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.setViewportSize(PHONE);
    await screenshot(page, '10-host-phone');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('changes a row when its target goes down, without a reload (SSE)', async () => {
    const { context, page, errors } = await newUser(browser);
    await signInPage.signIn(page, base, TEST_ADMIN_TOKEN);
    await hostsPage.open(page, base);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await expect.poll(() => hostsPage.row(page, 'alpha').getAttribute('data-state')).toBe('HEALTHY');
    await page.evaluate(() => ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true));
    alphaUp = false;
    try {
      await expect.poll(() => hostsPage.row(page, 'alpha').getAttribute('data-state'), { timeout: 20_000 }).toBe('DOWN');
      expect(await hostsPage.row(page, 'alpha').getByText('Down').count()).toBe(1);
      expect(await page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
      await screenshot(page, '06-hosts-live-down');
    } finally {
      alphaUp = true;
    }
    await waitFor('alpha healthy again', async () => (await stateOf('alpha')) === 'HEALTHY', 30_000);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows a lost event stream as such, and catches up on what it missed when it resumes', async () => {
    const { context, page } = await newUser(browser);
    // While `cut`, the event stream cannot connect (as when Vigil or the network is away).
    let cut = false;
    await page.route('**/api/events*', (route) => (cut ? route.abort('connectionrefused') : route.continue()));
    await signInPage.signIn(page, base, TEST_ADMIN_TOKEN);
    await hostsPage.open(page, base);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await expect.poll(() => hostsPage.row(page, 'alpha').getAttribute('data-state'), { timeout: 20_000 }).toBe('HEALTHY');
    cut = true;
    // Aborting the document's loads drops the open stream for good: the page must reconnect by itself.
    await page.evaluate('window.stop()');
    await page.getByRole('status').filter({ hasText: 'Disconnected — reconnecting' }).waitFor({ timeout: 20_000 });
    await screenshot(page, '11-hosts-reconnecting');
    alphaUp = false;
    try {
      await waitFor('alpha DOWN', async () => (await stateOf('alpha')) === 'DOWN', 20_000);
      expect(await hostsPage.row(page, 'alpha').getAttribute('data-state')).toBe('HEALTHY');
      cut = false;
      await page.getByRole('status').filter({ hasText: 'Live' }).waitFor({ timeout: 30_000 });
      // The missed state changes are replayed after the last event id the page saw.
      await expect.poll(() => hostsPage.row(page, 'alpha').getAttribute('data-state'), { timeout: 20_000 }).toBe('DOWN');
    } finally {
      alphaUp = true;
    }
    await waitFor('alpha healthy again', async () => (await stateOf('alpha')) === 'HEALTHY', 30_000);
    await context.close();
  });

  it('serves a public badge to a plain <img> on a page without a token, and nothing for other hosts', async () => {
    const admin = await newUser(browser);
    await signInPage.signIn(admin.page, base, TEST_ADMIN_TOKEN);
    await hostPage.open(admin.page, base, ids.bravo!);
    await admin.page.getByRole('button', { name: 'Make the badge public' }).click();
    await admin.page.getByRole('img', { name: "This host's status badge" }).waitFor();
    await screenshot(admin.page, '12-host-badge');
    await admin.context.close();
    const stranger = await newUser(browser);
    await stranger.page.setContent(`<img id="public" src="${base}/badges/hosts/${ids.bravo}.svg"><img id="private" src="${base}/badges/hosts/${ids.gamma}.svg">`);
    const loaded = (id: string) => stranger.page.evaluate(`(async () => { const i = document.getElementById('${id}'); try { await i.decode(); } catch {} return i.naturalWidth; })()`);
    await expect.poll(() => loaded('public')).toBeGreaterThan(0);
    expect(await loaded('private')).toBe(0);
    await stranger.context.close();
  });

  it('acknowledges an incident', async () => {
    const { context, page, errors } = await newUser(browser);
    await signInPage.signIn(page, base, TEST_ADMIN_TOKEN);
    await incidentsPage.open(page, base);
    await incidentsPage.acknowledge(page, 'gamma');
    await expect.poll(() => incidentsPage.row(page, 'gamma').textContent()).toMatch(/✓ by VIGIL_ADMIN_TOKEN/);
    const open = (await vigil.http().get('/api/incidents?status=open')).body.incidents as { host_name: string; acknowledged_by: string | null }[];
    expect(open.find((i) => i.host_name === 'gamma')?.acknowledged_by).toBe('VIGIL_ADMIN_TOKEN');
    await screenshot(page, '07-incidents');
    expect(await seriousAxeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('offers a read-only token no write controls', async () => {
    const { token } = await mint('read-only viewer', ['read']);
    const { context, page, errors } = await newUser(browser);
    await signInPage.signIn(page, base, token);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await hostsPage.open(page, base);
    await hostsPage.row(page, 'alpha').waitFor();
    expect(await page.getByRole('checkbox').count()).toBe(0);
    expect(await page.getByRole('button', { name: /Maintenance|Enable|Disable/ }).count()).toBe(0);
    await hostPage.open(page, base, ids.gamma!);
    expect(await page.getByRole('button', { name: 'Check now' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /maintenance/i }).count()).toBe(0);
    await screenshot(page, '08-host-read-only');
    await incidentsPage.open(page, base);
    await incidentsPage.row(page, 'gamma').waitFor();
    expect(await page.getByRole('button', { name: /Acknowledge/ }).count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('ends the browser session when its token is revoked', async () => {
    const { id, token } = await mint('to be revoked', ['read']);
    const { context, page } = await newUser(browser);
    await signInPage.signIn(page, base, token);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect((await context.request.get(`${base}/api/hosts`)).status()).toBe(200);
    expect((await vigil.http().delete(`/api/tokens/${id}`)).status).toBe(200);
    expect((await context.request.get(`${base}/api/hosts`)).status()).toBe(401);
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();
    await context.close();
  });

  it('signs out: the page sends its CSRF value, the session ends and the cookie no longer works', async () => {
    const { context, page, errors } = await newUser(browser);
    await signInPage.signIn(page, base, TEST_ADMIN_TOKEN);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const signOut = page.waitForResponse((r) => r.url().endsWith('/api/session') && r.request().method() === 'DELETE');
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect((await signOut).status()).toBe(204);
    await page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();
    expect((await context.request.get(`${base}/api/hosts`)).status()).toBe(401);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('would see an accessibility violation: axe-core runs in the page and reports one', async () => {
    const { context, page } = await newUser(browser);
    await page.goto(`${base}/`);
    await page.getByLabel('API token').waitFor();
    // An unlabelled image button: a critical violation the checks above would report on any page.
    await page.evaluate("document.querySelector('form').append(Object.assign(document.createElement('input'), { type: 'image', src: 'data:,' }))");
    expect((await seriousAxeViolations(page)).map((v) => v.id)).toContain('input-image-alt');
    await context.close();
  });

  it('selects every host on a page and puts them in maintenance and back, in bulk', async () => {
    const { context, page, errors } = await newUser(browser);
    await signInPage.signIn(page, base, TEST_ADMIN_TOKEN);
    await hostsPage.open(page, base, '?group=web');
    await expect.poll(() => hostsPage.names(page)).toEqual(['alpha', 'bravo']);
    await page.getByRole('checkbox', { name: 'Select every host on this page' }).check();
    expect([await page.getByRole('checkbox', { name: 'Select alpha' }).isChecked(), await page.getByRole('checkbox', { name: 'Select bravo' }).isChecked()]).toEqual([true, true]);
    await page.getByRole('button', { name: 'Maintenance on' }).click();
    await page.getByRole('status').filter({ hasText: 'Maintenance on: done for 2 host(s)' }).waitFor();
    const inMaintenance = async () => ((await vigil.http().get('/api/hosts?group=web')).body.hosts as { maintenance: boolean }[]).map((h) => h.maintenance);
    expect(await inMaintenance()).toEqual([true, true]);
    await expect.poll(() => hostsPage.row(page, 'alpha').getByText('maintenance', { exact: true }).count()).toBe(1);
    // The overview counts them, and its card leads to the list of hosts in maintenance.
    await page.getByRole('link', { name: 'Overview' }).click();
    await expect.poll(() => page.getByTestId('in-maintenance').textContent()).toBe('2');
    await page.getByRole('link', { name: /In maintenance/ }).click();
    await expect.poll(() => hostsPage.names(page)).toEqual(['alpha', 'bravo']);
    expect(new URL(page.url()).search).toBe('?maintenance=true');
    await page.getByRole('checkbox', { name: 'Select every host on this page' }).check();
    await page.getByRole('button', { name: 'Maintenance off' }).click();
    await page.getByRole('status').filter({ hasText: 'Maintenance off: done for 2 host(s)' }).waitFor();
    expect(await inMaintenance()).toEqual([false, false]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('checks a host on opening its page when it has no recent result, and not again while that result is fresh', async () => {
    // In maintenance, so no scheduled check runs: only the page's JIT checks reach its history.
    const res = await vigil.http().post('/api/hosts').send({ name: 'kilo', address: '127.0.0.1', maintenance: true, probes: [{ type: 'tcp', port: bravo.port }] });
    expect(res.status).toBe(201);
    ids.kilo = res.body.id as string;
    const jitChecks = async () => ((await vigil.http().get(`/api/monitoring/hosts/${ids.kilo}/history?limit=100`)).body.checks as { checked_by: string }[]).filter((c) => c.checked_by === 'jit').length;
    expect(await jitChecks()).toBe(0);
    const { context, page, errors } = await newUser(browser);
    await signInPage.signIn(page, base, TEST_ADMIN_TOKEN);
    const asked: string[] = [];
    page.on('request', (r) => r.url().includes('/check-connectivity') && asked.push(r.url()));
    await hostPage.open(page, base, ids.kilo!);
    await expect.poll(() => hostPage.latest(page).textContent(), { timeout: 20_000 }).toMatch(/\(jit\)/);
    expect(await jitChecks()).toBe(1);
    // It asked with max_age=60 (a result that young, say from a colleague's page, is answered without a check).
    expect(asked.map((url) => new URL(url).searchParams.get('max_age'))).toEqual(['60']);
    // Opened again within the minute: the result is fresh, so the page asks for no check at all.
    await page.reload();
    await hostPage.latest(page).waitFor();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    expect(asked).toHaveLength(1);
    expect(await jitChecks()).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  // After the flows above: it adds hosts their counts do not expect.
  it("shows what governs a host: its parents, effective policy, maintenance windows and flapping", async () => {
    // delta sits behind gamma (DOWN) and fails: UNREACHABLE. Its policy sets two fields; a window is booked.
    const policy = await vigil.http().post('/api/policies').send({ name: 'edge-strict', settings: { down_after_failures: 5, probe_retries: 2 } });
    expect(policy.status).toBe(201);
    const delta = await vigil.http().post('/api/hosts').send({
      name: 'delta', address: '127.0.0.1', group: 'edge', depends_on: [ids.gamma], policy_id: policy.body.id, probes: [{ type: 'tcp', port: refused.port }],
    });
    expect(delta.status).toBe(201);
    ids.delta = delta.body.id as string;
    const startsAt = new Date(Date.now() + 2 * 3600_000);
    const window = await vigil.http().post('/api/maintenance-windows').send({
      label: 'Edge firmware', reason: 'firmware 9.3', starts_at: startsAt.toISOString(), ends_at: new Date(startsAt.getTime() + 3600_000).toISOString(), hosts: [ids.delta],
    });
    expect(window.status).toBe(201);
    // echo answers 200 and 503 in turn; with one failure to DEGRADED and one success back, it flaps.
    let served = 0;
    const echo = await startHttpTarget({ '/health': (_req, res) => void res.writeHead(served++ % 2 ? 503 : 200).end() });
    try {
      const twitchy = await vigil.http().post('/api/policies').send({ name: 'twitchy', settings: { degraded_after_failures: 1, healthy_after_successes: 1 } });
      const flappy = await vigil.http().post('/api/hosts').send({ name: 'echo', address: '127.0.0.1', policy_id: twitchy.body.id, probes: [{ type: 'http', url: `${echo.url}/health` }] });
      ids.echo = flappy.body.id as string;
      await waitFor('delta UNREACHABLE', async () => (await stateOf('delta')) === 'UNREACHABLE', 30_000);
      await waitFor('echo flapping', async () => (await vigil.http().get(`/api/hosts/${ids.echo}`)).body.flapping === true, 30_000);
      await vigil.http().patch(`/api/hosts/${ids.echo}`).send({ enabled: false });

      const { context, page, errors } = await newUser(browser);
      await signInPage.signIn(page, base, TEST_ADMIN_TOKEN);
      await hostPage.open(page, base, ids.delta!);
      // Parents: gamma, Down, a link to its page; and why delta's failures count as UNREACHABLE.
      const gammaRow = hostPage.parents(page).locator('li[data-parent="gamma"]');
      await gammaRow.waitFor();
      expect(await gammaRow.getByRole('link', { name: 'gamma' }).getAttribute('href')).toBe(`/hosts/${ids.gamma}`);
      expect(await gammaRow.textContent()).toMatch(/Down/);
      expect(await page.getByTestId('behind-failing-parent').textContent()).toMatch(/Behind a failing parent: gamma \(down\)/);
      // Policy: the host's policy by name, each value with where it came from; the current state's row marked in words.
      expect(await page.getByTestId('policy-names').textContent()).toBe('edge-strict');
      expect(await hostPage.policyRow(page, 'Down after').textContent()).toMatch(/5 failure\(s\) in a row.*policy edge-strict/);
      expect(await hostPage.policyRow(page, 'Probe retries').textContent()).toMatch(/2.*policy edge-strict/);
      expect(await hostPage.policyRow(page, 'Degraded after').textContent()).toMatch(/defaults/);
      expect(await hostPage.policyRow(page, 'When unreachable').textContent()).toMatch(/\(now\)/);
      // Maintenance: not now, the booked window next, with its label and reason.
      expect(await page.getByTestId('maintenance-now').textContent()).toBe('Not in maintenance');
      expect(await page.getByTestId('maintenance-next').textContent()).toMatch(/“Edge firmware” in 1 h.*firmware 9\.3/);
      expect(await hostPage.flapping(page).textContent()).toMatch(/^no,/);
      await screenshot(page, '13-host-unreachable-policy');
      expect(await seriousAxeViolations(page)).toEqual([]);
      // gamma's open incident counts delta among the hosts it made unreachable.
      await incidentsPage.open(page, base);
      await expect.poll(() => incidentsPage.row(page, 'gamma').textContent()).toMatch(/1 host\(s\)/);

      await hostPage.open(page, base, ids.echo!);
      await expect.poll(() => hostPage.flapping(page).textContent()).toMatch(/^↯ yes, state changed on \d+ % of recent checks/);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toMatch(/Flapping \d+%/);
      expect(await hostPage.parents(page).textContent()).toMatch(/No parents/);
      expect(await page.getByTestId('policy-names').textContent()).toBe('twitchy');
      await screenshot(page, '14-host-flapping');
      expect(errors).toEqual([]);
      await context.close();
    } finally {
      await echo.close();
    }
  });

  it.each([
    ['1280×800', DESKTOP],
    ['a phone (390 px)', PHONE],
  ])('keeps the pages usable at %s without horizontal scrolling (wide tables scroll in their own box)', async (_name, viewport) => {
    const { context, page } = await newUser(browser, viewport);
    await signInPage.signIn(page, base, TEST_ADMIN_TOKEN);
    for (const path of ['/', '/hosts', `/hosts/${ids.alpha}`, `/hosts/${ids.delta}`, '/incidents']) {
      await page.goto(`${base}${path}`);
      await page.locator('main h1').waitFor();
      expect(await page.evaluate('document.documentElement.scrollWidth'), path).toBeLessThanOrEqual(viewport.width);
    }
    await context.close();
  });
});
