import { describe, expect, it } from 'vitest';
import { SERVER_COMMANDS } from '../../src/cli/server-commands.ts';
import { ROLES } from '../../src/runtime.ts';

describe('the command line client', () => {
  it('hands exactly start and the roles to the server, everything else to the client', () => {
    expect([...SERVER_COMMANDS].sort()).toEqual(['start', ...ROLES].sort());
  });
});
