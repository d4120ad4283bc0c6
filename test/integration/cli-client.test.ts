import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI_TYPES_FILE, generatedClientTypes, generatedOpenApi } from '../../scripts/generate-openapi.ts';
import { SERVER_COMMANDS } from '../../src/cli/server-commands.ts';
import { ROLES } from '../../src/runtime.ts';

describe('the command line client', () => {
  it('is typed from the current openapi.yaml (src/cli/api-schema.d.ts; `npm run openapi` rewrites it)', async () => {
    expect(readFileSync(CLI_TYPES_FILE, 'utf8')).toBe(await generatedClientTypes(generatedOpenApi()));
  });

  it('hands exactly start and the roles to the server, everything else to the client', () => {
    expect([...SERVER_COMMANDS].sort()).toEqual(['start', ...ROLES].sort());
  });
});
