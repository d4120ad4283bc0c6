import { defineConfig } from 'vitest/config';

// VIGIL_TEST_NO_DB=1 skips the database set-up, for running probe-only test files quickly.
const needsDb = process.env.VIGIL_TEST_NO_DB !== '1';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: needsDb ? ['test/helpers/global-setup.ts'] : [],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration files each get their own database; two cores, so keep parallelism modest.
    maxWorkers: 2,
    pool: 'forks',
  },
});
