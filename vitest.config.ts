import { defineConfig } from 'vitest/config';

// VIGIL_TEST_NO_DB=1 skips the database set-up, for running probe-only test files quickly.
const needsDb = process.env.VIGIL_TEST_NO_DB !== '1';

/** The setup file that checks each test file leaves nothing running (test/unit/leak-check.test.ts shows it failing one). */
export const LEAK_CHECK = 'test/helpers/leak-check.ts';


/** Shared by `npm test` and `npm run test:reliability` (vitest.reliability.config.ts). */
export const baseTest = {
  globalSetup: needsDb ? ['test/helpers/global-setup.ts'] : [],
  // Fails a test file that leaves a socket, server, timer or child process running after it.
  setupFiles: [LEAK_CHECK],

  testTimeout: 30_000,
  hookTimeout: 120_000,
  // Integration files each get their own database; two cores, so keep parallelism modest.
  maxWorkers: 2,
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    ...baseTest,
    // The browser tests need the built dashboard: built once here when missing or stale.
    globalSetup: [...baseTest.globalSetup, 'test/helpers/dashboard-build.ts'],
    include: ['test/**/*.test.ts'],
    // The slow fault-injection suite runs on its own: npm run test:reliability.
    exclude: ['test/reliability/**', '**/node_modules/**'],
  },
});
