/** One small helper per dashboard page: open it, read what it shows, press its buttons. */
import type { Page } from 'playwright-core';

export const HOST_STATES = ['HEALTHY', 'DEGRADED', 'CRITICAL', 'DOWN', 'UNREACHABLE'] as const;

export const signInPage = {
  /**
   * Signs in and waits for the answer: the overview (signed in) or the error. Returning at the
   * click let a test's next page.goto abort the sign-in request in flight, so under load the test
   * went on signed out (its page showed the sign-in form, and "Live" never came).
   */
  async signIn(page: Page, baseUrl: string, token: string): Promise<void> {
    await page.goto(`${baseUrl}/`);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).or(signInPage.error(page)).waitFor();
  },
  error: (page: Page) => page.getByRole('alert'),
};

export const overviewPage = {
  async counts(page: Page): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const state of HOST_STATES) counts[state] = Number(await page.getByTestId(`count-${state}`).textContent());
    return counts;
  },
};

export const hostsPage = {
  open: (page: Page, baseUrl: string, search = '') => page.goto(`${baseUrl}/hosts${search}`),
  row: (page: Page, name: string) => page.locator(`tr[data-host="${name}"]`),
  names: (page: Page) => page.locator('tr[data-host]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-host'))),
  filterState: (page: Page, label: string) => page.getByLabel('State', { exact: true }).selectOption({ label }),
};

export const hostPage = {
  async open(page: Page, baseUrl: string, hostId: string) {
    await page.goto(`${baseUrl}/hosts/${hostId}`);
    await page.getByRole('heading', { name: 'State changes' }).waitFor();
  },
  checkNow: (page: Page) => page.getByRole('button', { name: 'Check now' }).click(),
  latest: (page: Page) => page.getByTestId('latest-result'),
  timelineItems: (page: Page) => page.locator('ol.timeline > li'),
  /** The panels of what governs the host: its policy, maintenance, parents; and its flapping fact. */
  policy: (page: Page) => page.getByTestId('policy'),
  policyRow: (page: Page, setting: string) => page.getByTestId('policy').getByRole('row', { name: new RegExp(`^${setting}`) }),
  maintenance: (page: Page) => page.getByTestId('maintenance'),
  parents: (page: Page) => page.getByTestId('parents'),
  flapping: (page: Page) => page.getByTestId('flapping'),
};

export const incidentsPage = {
  open: (page: Page, baseUrl: string) => page.goto(`${baseUrl}/incidents`),
  acknowledge: (page: Page, hostName: string) => page.getByRole('button', { name: `Acknowledge the incident on ${hostName}` }).click(),
  row: (page: Page, hostName: string) => page.locator(`tr[data-incident-host="${hostName}"]`),
};
