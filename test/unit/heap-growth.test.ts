import { describe, expect, it } from 'vitest';
import { limitHeapGrowth } from '../../src/lib/heap-growth.ts';

// The flag taking effect is shown by a spawned worker (test/integration/check-path.test.ts) and
// measured by `npm run bench` (worker peak RSS); setting it here would change the test runner's heap.
describe('limitHeapGrowth', () => {
  it('leaves V8 alone at 0, and when the process was started with its own growth flag', () => {
    expect(limitHeapGrowth(0)).toBe(false);
    expect(limitHeapGrowth(25, ['--heap-growing-percent=50'])).toBe(false);
    expect(limitHeapGrowth(25, ['--heap_growing_percent=50'])).toBe(false);
  });
});
