import { ensureDashboardBuilt } from '../../src/api/dashboard.ts';

/** vitest globalSetup: builds web/dist when missing or stale, so `npm test` works on a fresh clone. */
export default async function setup(): Promise<void> {
  await ensureDashboardBuilt((message) => console.log(message));
}
