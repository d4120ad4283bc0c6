import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIENT_TYPES_FILE, WEB_TYPES_FILE } from '../../scripts/generate-openapi.ts';

describe('the dashboard client types', () => {
  it('are the ones generated from openapi.yaml (run `npm run openapi` after changing routes)', () => {
    // test/unit/openapi.test.ts proves CLIENT_TYPES_FILE matches openapi.yaml; the dashboard's copy must equal it.
    expect(readFileSync(WEB_TYPES_FILE, 'utf8')).toBe(readFileSync(CLIENT_TYPES_FILE, 'utf8'));
  });
});
