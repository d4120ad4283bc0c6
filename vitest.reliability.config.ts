import { defineConfig } from 'vitest/config';
import { baseTest } from './vitest.config.ts';

// The reliability suite (README "Guarantees"): real processes, faults and load. Files run one at a
// time so the load and timing of one doesn't disturb another's measurements.
export default defineConfig({
  test: {
    ...baseTest,
    include: ['test/reliability/**/*.test.ts'],
    testTimeout: 180_000,
    maxWorkers: 1,
  },
});
